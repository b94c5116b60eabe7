/**
 * {@link BenchUsb} over any {@link BenchDiscovery}: hubs are opened through the discovery (the `usb`
 * package on a physical host, the simulated hub in the virtual lab) and switched with the hub class
 * requests of {@link HubPortPower}. One implementation for both kinds of bench.
 *
 * A physical bench may add a {@link PortPowerFallback} (sysfs-port-power.ts on Linux) for hubs whose
 * ports the `usb` package cannot address. Hub class requests stay the first choice; the fallback takes
 * over a hub only after that one known refusal, never after a genuine stall.
 */
import { HilError, isHilError } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import type { Clock } from '../repl/clock.ts';
import type { HubDescriptor } from '../usb/hub-descriptor.ts';
import { HubPortPower } from '../usb/hub-port-power.ts';
import { hubPortOf, type BenchUsb, type PortPowerSwitch } from './bench-usb.ts';
import type { BenchDiscovery } from './usb-discovery.ts';

/** Another way to switch a hub port, for when hub class requests cannot reach the hub's ports. */
export interface PortPowerFallback {
  /** Whether this way can switch `port` (1-based) of the hub at `hubPath`. Never throws. */
  isAvailable(hubPath: string, port: number): Promise<boolean>;
  /** Switches the port; rejects with a HilError (`HUB_REQUEST_FAILED`) saying why it could not. */
  setPower(hubPath: string, port: number, on: boolean): Promise<void>;
}

export interface DiscoveryBenchUsbOptions {
  /** Time source handed to {@link HubPortPower}. Default: the process clock. */
  clock?: Clock;
  /** Used per hub once its port requests are refused for want of a claimed interface. Default: none. */
  fallback?: PortPowerFallback;
  /** Says once per hub why the fallback took over. Default: silent. */
  logger?: Logger;
}

export class DiscoveryBenchUsb implements BenchUsb {
  readonly discovery: BenchDiscovery;
  readonly #clock: Clock | undefined;
  readonly #fallback: PortPowerFallback | undefined;
  readonly #logger: Logger;
  readonly #hubs = new Map<string, Promise<HubPortPower>>();
  /** Hubs switched through the fallback from now on. */
  readonly #fallbackHubs = new Set<string>();

  constructor(discovery: BenchDiscovery, options: DiscoveryBenchUsbOptions = {}) {
    this.discovery = discovery;
    this.#clock = options.clock;
    this.#fallback = options.fallback;
    this.#logger = options.logger ?? silentLogger();
  }

  async portPower(portPath: string): Promise<PortPowerSwitch> {
    const { hubPath, port } = hubPortOf(portPath);
    let hub: HubPortPower;
    let descriptor: HubDescriptor;
    try {
      hub = await this.#hub(hubPath);
      descriptor = await hub.readDescriptor();
    } catch (err: unknown) {
      // Without a descriptor the ganged-hub check cannot run, yet the fallback is still used when it
      // can switch this port: the hub is unusable otherwise, and the fallback reads the port's power
      // bit back, so a hub that does not follow is still reported.
      if ((isHilError(err, 'HUB_REQUEST_FAILED') || isHilError(err, 'HUB_NOT_FOUND')) && await this.#fallbackCan(hubPath, port)) {
        this.#useFallback(hubPath, err);
        return this.#fallbackSwitch(hubPath, port);
      }
      throw err;
    }
    if (descriptor.powerSwitching !== 'individual') {
      throw new HilError('HUB_NO_PORT_POWER', `hub ${hubPath} reports ${descriptor.powerSwitching === 'ganged' ? 'ganged power switching (all ports together)' : 'no power switching'}; ` +
        `it cannot power-cycle ${portPath} on its own`, { portPath, hubPath });
    }
    if (port > descriptor.ports) {
      throw new HilError('USAGE', `${portPath}: hub ${hubPath} has ${descriptor.ports} ports, not ${port}`, { portPath, hubPath });
    }
    return { hubPath, port, setPower: (on) => this.#setPower(hub, port, on) };
  }

  async close(): Promise<void> {
    const hubs = [...this.#hubs.values()];
    this.#hubs.clear();
    await Promise.allSettled(hubs.map(async (hub) => (await hub).close()));
    await this.discovery.close();
  }

  async #setPower(hub: HubPortPower, port: number, on: boolean): Promise<void> {
    const hubPath = hub.hubPath;
    if (this.#fallbackHubs.has(hubPath)) return this.#fallback!.setPower(hubPath, port, on);
    try {
      await hub.setPortPower(port, on);
    } catch (err: unknown) {
      if (!isUnclaimedPortRequest(err) || !(await this.#fallbackCan(hubPath, port))) throw err;
      this.#useFallback(hubPath, err);
      await this.#fallback!.setPower(hubPath, port, on);
    }
  }

  #fallbackSwitch(hubPath: string, port: number): PortPowerSwitch {
    const fallback = this.#fallback!;
    return { hubPath, port, setPower: (on) => fallback.setPower(hubPath, port, on) };
  }

  async #fallbackCan(hubPath: string, port: number): Promise<boolean> {
    return this.#fallback !== undefined && await this.#fallback.isAvailable(hubPath, port).catch(() => false);
  }

  #useFallback(hubPath: string, why: unknown): void {
    if (this.#fallbackHubs.has(hubPath)) return;
    this.#fallbackHubs.add(hubPath);
    this.#logger.info({ hubPath, reason: why instanceof Error ? why.message : String(why) },
      'hub class requests cannot switch this hub\'s ports; switching them through the fallback from now on');
  }

  #hub(hubPath: string): Promise<HubPortPower> {
    let hub = this.#hubs.get(hubPath);
    if (hub === undefined) {
      hub = (async () => {
        const device = await this.discovery.openHub(hubPath);
        if (device === null) throw new HilError('HUB_NOT_FOUND', `no USB hub is enumerated at ${hubPath}`, { hubPath });
        return new HubPortPower(device, { hubPath, ...(this.#clock ? { clock: this.#clock } : {}) });
      })();
      hub.catch(() => this.#hubs.delete(hubPath));
      this.#hubs.set(hubPath, hub);
    }
    return hub;
  }
}

/**
 * The `usb` package (3.1.0) refusing a hub-port request because no interface is claimed: the one
 * failure the fallback is for. The adapter (webusb-source.ts) names that error `InvalidStateError`, as
 * WebUSB does, and HubPortPower records a thrown transfer's error name as `transferError` (a stall has
 * none); `port` in the evidence marks a port-addressed request.
 */
function isUnclaimedPortRequest(err: unknown): boolean {
  return isHilError(err, 'HUB_REQUEST_FAILED') && typeof err.evidence['port'] === 'number' && err.evidence['transferError'] === 'InvalidStateError';
}
