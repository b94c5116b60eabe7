/**
 * The bench's USB side as the suite engine sees it: discovery (who is plugged in where) and hub port
 * power for a board's port. Physical benches and the virtual lab provide the same interface; a bench
 * without a USB view (no `/sys/bus/usb` in a container) says why, and USB steps are skipped with that.
 */
import { HilError } from '../errors.ts';
import type { BenchDiscovery } from './usb-discovery.ts';

/** Power switching of one hub port. */
export interface PortPowerSwitch {
  /** Port path of the hub, e.g. `1-1`. */
  readonly hubPath: string;
  /** 1-based port number on that hub. */
  readonly port: number;
  setPower(on: boolean): Promise<void>;
}

export interface BenchUsb {
  readonly discovery: BenchDiscovery;
  /**
   * The power switch of the hub port at `portPath` (a board's port path). Throws `HUB_NO_PORT_POWER`
   * when that hub cannot switch its ports one by one, `HUB_NOT_FOUND` when no such hub is enumerated.
   */
  portPower(portPath: string): Promise<PortPowerSwitch>;
  /** Releases hubs opened for power switching. */
  close(): Promise<void>;
}

/**
 * Splits a device's port path into its hub's path and port number: `1-1.3` → hub `1-1`, port 3;
 * `1-1.3.2` → hub `1-1.3`, port 2. A device on a root port (`1-4`) sits on the host controller's root
 * hub, which PCs cannot switch: that is refused with `HUB_NO_PORT_POWER`.
 */
export function hubPortOf(portPath: string): { hubPath: string; port: number } {
  const match = /^(\d+-\d+(?:\.\d+)*)\.(\d+)$/.exec(portPath);
  if (match) return { hubPath: match[1]!, port: Number(match[2]) };
  if (/^\d+-\d+$/.test(portPath)) {
    throw new HilError('HUB_NO_PORT_POWER', `${portPath} is a root-hub port of the host controller; the rig switches power only on external hubs`, { portPath });
  }
  throw new HilError('USAGE', `"${portPath}" is not a USB port path (expected bus-port[.port...], e.g. 1-1.3)`, { portPath });
}
