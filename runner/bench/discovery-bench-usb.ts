/**
 * {@link BenchUsb} over any {@link BenchDiscovery}: hubs are opened through the discovery (the `usb`
 * package on a physical host, the simulated hub in the virtual lab) and switched with the hub class
 * requests of {@link HubPortPower}. One implementation for both kinds of bench.
 */
import { HilError } from '../errors.ts';
import type { Clock } from '../repl/clock.ts';
import { HubPortPower } from '../usb/hub-port-power.ts';
import { hubPortOf, type BenchUsb, type PortPowerSwitch } from './bench-usb.ts';
import type { BenchDiscovery } from './usb-discovery.ts';

export class DiscoveryBenchUsb implements BenchUsb {
  readonly discovery: BenchDiscovery;
  readonly #clock: Clock | undefined;
  readonly #hubs = new Map<string, Promise<HubPortPower>>();

  constructor(discovery: BenchDiscovery, options: { clock?: Clock } = {}) {
    this.discovery = discovery;
    this.#clock = options.clock;
  }

  async portPower(portPath: string): Promise<PortPowerSwitch> {
    const { hubPath, port } = hubPortOf(portPath);
    const hub = await this.#hub(hubPath);
    const descriptor = await hub.readDescriptor();
    if (descriptor.powerSwitching !== 'individual') {
      throw new HilError('HUB_NO_PORT_POWER', `hub ${hubPath} reports ${descriptor.powerSwitching === 'ganged' ? 'ganged power switching (all ports together)' : 'no power switching'}; ` +
        `it cannot power-cycle ${portPath} on its own`, { portPath, hubPath });
    }
    if (port > descriptor.ports) {
      throw new HilError('USAGE', `${portPath}: hub ${hubPath} has ${descriptor.ports} ports, not ${port}`, { portPath, hubPath });
    }
    return { hubPath, port, setPower: (on) => hub.setPortPower(port, on) };
  }

  async close(): Promise<void> {
    const hubs = [...this.#hubs.values()];
    this.#hubs.clear();
    await Promise.allSettled(hubs.map(async (hub) => (await hub).close()));
    await this.discovery.close();
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
