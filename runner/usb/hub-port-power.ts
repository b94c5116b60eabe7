/**
 * Per-port power of one USB 2.0 hub through hub class requests on its control endpoint — the requests
 * uhubctl sends (hub-requests.ts). Works on anything shaped like WebUSB's USBDevice: a physical hub from
 * the `usb` package, the virtual lab's hub, a recording fake in tests.
 *
 * Before switching it reads the hub descriptor and refuses hubs that do not report individual per-port
 * switching, because a ganged hub would power-cycle every board on it. After switching it reads the port
 * status back (unless told not to): a hub whose power bit does not follow does not switch VBUS. A power
 * bit that does follow is still no proof (reference/usb-hub-power.md "Practical caveats"); the device
 * disconnecting is, and that is the caller's to watch.
 */
import { HilError } from '../errors.ts';
import { sleep, systemClock, type Clock } from '../repl/clock.ts';
import { parseHubDescriptor, type HubDescriptor } from './hub-descriptor.ts';
import { parsePortStatus, type HubPortStatus } from './hub-port-status.ts';
import {
  getHubDescriptorSetup,
  getPortStatusSetup,
  HUB_DESCRIPTOR_REQUEST_LENGTH,
  PORT_STATUS_LENGTH,
  portPowerSetup,
} from './hub-requests.ts';
import { childPortPath } from './port-path.ts';
import type { UsbControlDevice, UsbControlSetup, UsbTransferStatus } from './usb-control-device.ts';

export interface HubPortPowerOptions {
  /** The hub's port path (`1-1`): names the hub in errors and evidence. */
  hubPath: string;
  /** Time source for the waits of {@link HubPortPower.powerCycle}. Default: the process clock. */
  clock?: Clock;
  /** Read each port's status after switching and fail when its power bit did not follow. Default true. */
  verifySwitch?: boolean;
}

export interface PowerCycleOptions {
  /** How long the port stays off, ms. */
  offMs: number;
  /**
   * Cancels the waits. While the port is off, cancelling turns it back on before the `ABORTED` error,
   * so a cancelled job never leaves a board unpowered.
   */
  signal?: AbortSignal;
}

export class HubPortPower {
  readonly hubPath: string;
  readonly #device: UsbControlDevice;
  readonly #clock: Clock;
  readonly #verifySwitch: boolean;
  #openedHere = false;
  #descriptor: HubDescriptor | null = null;

  constructor(device: UsbControlDevice, options: HubPortPowerOptions) {
    this.#device = device;
    this.hubPath = options.hubPath;
    this.#clock = options.clock ?? systemClock;
    this.#verifySwitch = options.verifySwitch ?? true;
  }

  /**
   * Opens the hub unless it already is (then {@link close} leaves it open for its owner).
   * @throws HilError `HUB_REQUEST_FAILED` when it cannot be opened (on Linux usually: no write access
   *   to its `/dev/bus/usb` node — a udev rule or root is needed).
   */
  async open(): Promise<void> {
    if (this.#device.opened) return;
    try {
      await this.#device.open();
    } catch (err: unknown) {
      throw new HilError('HUB_REQUEST_FAILED', `hub ${this.hubPath}: cannot open it: ${messageOf(err)} (on Linux this needs write access to the hub's /dev/bus/usb node: a udev rule or root)`, { hubPath: this.hubPath }, { cause: err });
    }
    this.#openedHere = true;
  }

  /**
   * The hub descriptor (GetHubDescriptor, read once and kept).
   * @throws HilError `HUB_REQUEST_FAILED` on a stall, a failed transfer or a malformed answer.
   */
  async readDescriptor(): Promise<HubDescriptor> {
    if (this.#descriptor) return this.#descriptor;
    await this.open();
    const data = await this.#transferIn('GetHubDescriptor(0x29)', getHubDescriptorSetup(), HUB_DESCRIPTOR_REQUEST_LENGTH, undefined,
      ' (a SuperSpeed hub answers only type 0x2a: switch power through its USB 2.0 part)');
    this.#descriptor = parseHubDescriptor(data, `hub ${this.hubPath}`);
    return this.#descriptor;
  }

  /**
   * GetPortStatus of `port` (1-based).
   * @throws HilError `USAGE` for a port the hub does not have, `HUB_REQUEST_FAILED` on a failed request.
   */
  async portStatus(port: number): Promise<HubPortStatus> {
    const descriptor = await this.readDescriptor();
    this.#checkPort(port, descriptor);
    const data = await this.#transferIn(`GetPortStatus(port ${port})`, getPortStatusSetup(port), PORT_STATUS_LENGTH, port);
    return parsePortStatus(data, `hub ${this.hubPath} port ${port}`);
  }

  /**
   * Switches `port`'s power with SetPortFeature / ClearPortFeature(PORT_POWER).
   * @throws HilError `HUB_NO_PORT_POWER` when the hub reports ganged or no power switching,
   *   `USAGE` for a port the hub does not have, `HUB_REQUEST_FAILED` when the request stalls or fails or
   *   (with `verifySwitch`) the port's power bit does not follow — the hub does not switch VBUS.
   */
  async setPortPower(port: number, on: boolean): Promise<void> {
    const descriptor = await this.readDescriptor();
    this.#checkPerPortSwitching(port, descriptor);
    this.#checkPort(port, descriptor);
    const name = `${on ? 'SetPortFeature' : 'ClearPortFeature'}(PORT_POWER, port ${port})`;
    await this.#transferOut(name, portPowerSetup(port, on), port);
    if (!this.#verifySwitch) return;
    const status = await this.portStatus(port);
    if (status.powered !== on) {
      throw new HilError('HUB_REQUEST_FAILED',
        `hub ${this.hubPath} port ${port}: power bit still ${status.powered ? 'on' : 'off'} after ${name}: the hub does not switch VBUS on this port`,
        this.#evidence(port, { portStatus: status.raw.portStatus }));
    }
  }

  /**
   * Off, `offMs`, on, then bPwrOn2PwrGood × 2 ms so the port's power is good when this resolves.
   * @throws the errors of {@link setPortPower}; HilError `USAGE` for a negative or non-finite `offMs`;
   *   HilError `ABORTED` when `signal` fires (the port is back on by then if it was switched off).
   */
  async powerCycle(port: number, options: PowerCycleOptions): Promise<void> {
    const { offMs, signal } = options;
    if (!Number.isFinite(offMs) || offMs < 0) {
      throw new HilError('USAGE', `hub ${this.hubPath} port ${port}: offMs must be a non-negative number, got ${offMs}`, this.#evidence(port));
    }
    if (signal?.aborted) throw this.#aborted(port, signal);
    await this.setPortPower(port, false);
    try {
      await sleep(this.#clock, offMs, signal);
    } catch {
      await this.setPortPower(port, true).catch(() => undefined);
      throw this.#aborted(port, signal);
    }
    await this.setPortPower(port, true);
    const descriptor = await this.readDescriptor();
    try {
      await sleep(this.#clock, descriptor.powerOnToPowerGoodMs, signal);
    } catch {
      throw this.#aborted(port, signal);
    }
  }

  /** Closes the hub if {@link open} opened it. Idempotent. */
  async close(): Promise<void> {
    if (!this.#openedHere) return;
    this.#openedHere = false;
    if (this.#device.opened) await this.#device.close();
  }

  #checkPerPortSwitching(port: number, descriptor: HubDescriptor): void {
    if (descriptor.powerSwitching === 'individual') return;
    const what = descriptor.powerSwitching === 'ganged'
      ? 'ganged power switching (all ports together)'
      : 'no power switching';
    throw new HilError('HUB_NO_PORT_POWER',
      `hub ${this.hubPath} reports ${what} in its hub descriptor; it cannot switch port ${port} on its own`,
      this.#evidence(port, { powerSwitching: descriptor.powerSwitching }));
  }

  #checkPort(port: number, descriptor: HubDescriptor): void {
    if (Number.isInteger(port) && port >= 1 && port <= descriptor.ports) return;
    throw new HilError('USAGE', `hub ${this.hubPath} has ports 1..${descriptor.ports}, not ${port}`, this.#evidence(port, { ports: descriptor.ports }));
  }

  async #transferIn(name: string, setup: UsbControlSetup, length: number, port: number | undefined, stallHint = ''): Promise<Uint8Array> {
    let result;
    try {
      result = await this.#device.controlTransferIn(setup, length);
    } catch (err: unknown) {
      throw this.#requestFailed(name, port, messageOf(err), err);
    }
    if (result.status !== 'ok') throw this.#requestFailed(name, port, describeStatus(result.status) + stallHint);
    const view = result.data;
    return view ? new Uint8Array(view.buffer, view.byteOffset, view.byteLength) : new Uint8Array(0);
  }

  async #transferOut(name: string, setup: UsbControlSetup, port: number): Promise<void> {
    let result;
    try {
      // An explicit empty data stage: usb 3.1.0's controlTransferOut throws a TypeError without one.
      result = await this.#device.controlTransferOut(setup, new Uint8Array(0));
    } catch (err: unknown) {
      throw this.#requestFailed(name, port, messageOf(err), err);
    }
    if (result.status !== 'ok') throw this.#requestFailed(name, port, describeStatus(result.status));
  }

  #requestFailed(name: string, port: number | undefined, why: string, cause?: unknown): HilError {
    // A thrown transfer (not a stall) names its error class, so callers can tell "refused here" from "hub said no".
    const extra = cause instanceof Error ? { request: name, transferError: cause.name } : { request: name };
    return new HilError('HUB_REQUEST_FAILED', `hub ${this.hubPath}: ${name} failed: ${why}`,
      port === undefined ? { hubPath: this.hubPath, ...extra } : this.#evidence(port, extra),
      cause === undefined ? undefined : { cause });
  }

  #aborted(port: number, signal: AbortSignal | undefined): HilError {
    return new HilError('ABORTED', `hub ${this.hubPath} port ${port}: power cycle cancelled`, this.#evidence(port), { cause: signal?.reason });
  }

  #evidence(port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const portPath = Number.isInteger(port) && port > 0 ? childPortPath(this.hubPath, port) : undefined;
    return { hubPath: this.hubPath, port, ...(portPath ? { portPath } : {}), ...extra };
  }
}

function describeStatus(status: UsbTransferStatus): string {
  return status === 'stall' ? 'the hub stalled (request not supported)' : `transfer status ${status}`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
