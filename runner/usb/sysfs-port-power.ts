/**
 * Per-port power through Linux sysfs, for hubs whose ports the `usb` package cannot address
 * (webusb-source.ts: usb 3.1.0 sends hub-port requests only through a claimed interface, and the kernel
 * hub driver owns the hub's). Linux ≥ 6.0 gives each hub port a `disable` attribute (kernel commit
 * f061f43d "usb: hub: port: add sysfs entry to switch port power"; Documentation/ABI/testing/
 * sysfs-bus-usb, `/sys/bus/usb/devices/.../<hub_interface>/port<X>/disable`). The kernel names the port
 * device `<hub>-port<X>` under the hub's interface (drivers/usb/core/port.c), so port 3 of hub `1-1` is
 * `/sys/bus/usb/devices/1-1:1.0/1-1-port3/disable` — the file uhubctl writes too.
 *
 * Writing `1` disconnects the device and clears PORT_POWER (VBUS goes off on hubs that switch it);
 * `0` sets it again. Reading asks the hub for the port's status and answers `1` while the power bit is
 * off, so reading back checks that the hub followed, as HubPortPower's `verifySwitch` does.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HilError } from '../errors.ts';
import { NodeSysfsReader, type SysfsReader } from '../bench/sysfs-reader.ts';
import { childPortPath, parseInterfaceDirName } from './port-path.ts';

/** Reading and writing sysfs attribute files: the write side that {@link SysfsReader} lacks. */
export interface SysfsAttributeFiles {
  /** The contents of `relative` (e.g. `bus/usb/devices/1-1:1.0/1-1-port3/disable`). Rejects with the errno error. */
  read(relative: string): Promise<string>;
  /** Writes `value` to `relative`. Rejects with the errno error (EACCES, ENOENT, ENODEV, ...). */
  write(relative: string, value: string): Promise<void>;
}

/** {@link SysfsAttributeFiles} over `node:fs` under `root` (default `/sys`). */
export class NodeSysfsAttributeFiles implements SysfsAttributeFiles {
  readonly root: string;

  constructor(root = '/sys') {
    this.root = root;
  }

  read(relative: string): Promise<string> {
    return readFile(join(this.root, relative), 'utf8');
  }

  write(relative: string, value: string): Promise<void> {
    return writeFile(join(this.root, relative), value);
  }
}

export interface SysfsPortPowerOptions {
  /** Root of sysfs for the default reader and files. Default `/sys`; tests pass a temp dir. */
  root?: string;
  /** Finds the hub's interface and the port's file. Default: {@link NodeSysfsReader} under `root`. */
  reader?: SysfsReader;
  /** Reads and writes the `disable` file. Default: {@link NodeSysfsAttributeFiles} under `root`. */
  files?: SysfsAttributeFiles;
}

/**
 * Switches hub ports through their sysfs `disable` attribute. It does not read the hub descriptor:
 * callers that can read it refuse ganged hubs first (DiscoveryBenchUsb does).
 */
export class SysfsPortPower {
  readonly #reader: SysfsReader;
  readonly #files: SysfsAttributeFiles;

  constructor(options: SysfsPortPowerOptions = {}) {
    this.#reader = options.reader ?? new NodeSysfsReader(options.root);
    this.#files = options.files ?? new NodeSysfsAttributeFiles(options.root);
  }

  /**
   * Whether `port` (1-based) of the hub at `hubPath` (`1-1`) has a `disable` file. Existence only: a
   * file the process may not write still counts, so {@link setPower} reports the permission problem
   * instead of the caller reporting a vaguer one. Never throws.
   */
  async isAvailable(hubPath: string, port: number): Promise<boolean> {
    if (!isPortNumber(port)) return false;
    return this.#reader.exists(await this.#disableFile(hubPath, port));
  }

  /**
   * Writes `0` (on) or `1` (off) to the port's `disable` file, then reads it back.
   * @throws HilError `USAGE` for a port number that is not a positive integer; `HUB_REQUEST_FAILED`
   *   naming the file and errno when it cannot be written or read (EACCES: needs root or a udev rule;
   *   ENOENT: kernel older than 6.0 or not a hub port), or when it reads back the other value (the hub
   *   did not switch the port's power).
   */
  async setPower(hubPath: string, port: number, on: boolean): Promise<void> {
    if (!isPortNumber(port)) {
      throw new HilError('USAGE', `hub ${hubPath}: port must be a positive integer, got ${port}`, { hubPath, port });
    }
    const file = await this.#disableFile(hubPath, port);
    const wanted = on ? '0' : '1';
    try {
      await this.#files.write(file, wanted);
    } catch (err: unknown) {
      throw this.#failed('write', hubPath, port, file, err);
    }
    let readBack: string;
    try {
      readBack = (await this.#files.read(file)).trim();
    } catch (err: unknown) {
      throw this.#failed('read', hubPath, port, file, err);
    }
    if (readBack !== wanted) {
      throw new HilError('HUB_REQUEST_FAILED',
        `hub ${hubPath} port ${port}: ${this.#reader.pathOf(file)} reads "${readBack}" after writing ${wanted}: ` +
        `the hub did not switch the port's power ${on ? 'on' : 'off'}`,
        evidence(hubPath, port, this.#reader.pathOf(file), { readBack }));
    }
  }

  /**
   * `bus/usb/devices/<hub interface>/<hub>-port<N>/disable`. The interface is looked up in the hub's
   * directory (a hub has one interface, number 0); when the hub is not there, the conventional
   * `<hub>:1.0` is named so the error still points at the expected file.
   */
  async #disableFile(hubPath: string, port: number): Promise<string> {
    const interfaceDir = await this.#hubInterface(hubPath) ?? `${kernelDeviceName(hubPath)}:1.0`;
    return `bus/usb/devices/${interfaceDir}/${hubPath}-port${port}/disable`;
  }

  async #hubInterface(hubPath: string): Promise<string | null> {
    let entries: string[];
    try {
      entries = await this.#reader.list(`bus/usb/devices/${hubPath}`);
    } catch {
      return null;
    }
    const deviceName = kernelDeviceName(hubPath);
    return entries.find((entry) => {
      const parsed = parseInterfaceDirName(entry);
      return parsed !== null && parsed.portPath === deviceName && parsed.interfaceNumber === 0;
    }) ?? null;
  }

  #failed(action: 'read' | 'write', hubPath: string, port: number, file: string, err: unknown): HilError {
    const path = this.#reader.pathOf(file);
    const errno = errnoOf(err);
    const why = errno === 'EACCES' || errno === 'EPERM'
      ? `switching port power through sysfs needs root or a udev rule giving write access to ${path}`
      : errno === 'ENOENT'
        ? `the kernel is older than 6.0 (hub ports have no "disable" attribute) or ${hubPath} port ${port} is not a hub port`
        : errno === 'ENODEV'
          ? `hub ${hubPath} is gone (disconnected)`
          : err instanceof Error ? err.message : String(err);
    return new HilError('HUB_REQUEST_FAILED', `hub ${hubPath} port ${port}: cannot ${action} ${path} (${errno ?? 'error'}): ${why}`,
      evidence(hubPath, port, path, errno === undefined ? {} : { errno }), { cause: err });
  }
}

/** The kernel's device name for a hub path in the interface directory's name: root hub `usb1` is `1-0`. */
function kernelDeviceName(hubPath: string): string {
  const root = /^usb(\d+)$/.exec(hubPath);
  return root ? `${root[1]}-0` : hubPath;
}

function isPortNumber(port: number): boolean {
  return Number.isInteger(port) && port >= 1;
}

function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function evidence(hubPath: string, port: number, file: string, extra: Record<string, unknown>): Record<string, unknown> {
  return { hubPath, port, portPath: childPortPath(hubPath, port), file, ...extra };
}
