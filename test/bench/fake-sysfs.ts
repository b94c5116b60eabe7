/**
 * Builds a small sysfs tree in a temp dir with real symlinks, laid out like Linux's:
 *
 *   devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.3/1-1.3:1.0/tty/ttyACM0/device -> ../../../1-1.3:1.0
 *   devices/.../1-1.1/1-1.1:1.0/ttyUSB0/tty/ttyUSB0/device -> ../../../ttyUSB0
 *   class/tty/ttyACM0 -> ../../devices/.../1-1.3:1.0/tty/ttyACM0
 *   bus/usb/devices/1-1.3 -> ../../../devices/.../1-1.3
 *
 * plus the non-USB ttys every host has (a virtual console, a platform UART) so lookups must skip them.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { HOST_CONTROLLER_DIR, type FixtureDevice, type FixtureTty } from './fixtures/seven-port-hub-bench.ts';

export class FakeSysfs {
  readonly root = mkdtempSync(join(tmpdir(), 'hil-sysfs-'));

  /** `withUsbBus: false` leaves out `bus/usb` (a container). */
  constructor(options: { withUsbBus?: boolean; withClassTty?: boolean } = {}) {
    if (options.withUsbBus !== false) mkdirSync(join(this.root, 'bus/usb/devices'), { recursive: true });
    if (options.withClassTty !== false) {
      mkdirSync(join(this.root, 'class/tty'), { recursive: true });
      this.#platformTtys();
    }
  }

  /** Adds a device directory, its `bus/usb/devices` link and its tty (if any). */
  addDevice(device: FixtureDevice): void {
    const deviceDir = this.deviceDir(device);
    mkdirSync(join(this.root, deviceDir), { recursive: true });
    this.#link(`bus/usb/devices/${this.#name(device)}`, deviceDir);
    if (device.tty) this.addTty(device, device.tty);
  }

  /** Adds a tty for `device` the way its driver lays it out. */
  addTty(device: FixtureDevice, tty: FixtureTty): void {
    const interfaceDir = `${this.deviceDir(device)}/${this.#name(device)}:1.${tty.interfaceNumber}`;
    const classDir = tty.driver === 'usb-serial' ? `${interfaceDir}/${tty.name}/tty/${tty.name}` : `${interfaceDir}/tty/${tty.name}`;
    mkdirSync(join(this.root, classDir), { recursive: true });
    // usb-serial: device is the port device (<interface>/ttyUSB0); cdc-acm: the interface itself.
    this.#link(`${classDir}/device`, tty.driver === 'usb-serial' ? `${interfaceDir}/${tty.name}` : interfaceDir);
    this.#link(`class/tty/${tty.name}`, classDir);
  }

  /** Removes a tty (the device left or re-enumerates). */
  removeTty(name: string): void {
    rmSync(join(this.root, 'class/tty', name), { force: true });
  }

  /** Removes a device's directory and links, as the kernel does on disconnect. */
  removeDevice(device: FixtureDevice): void {
    if (device.tty) this.removeTty(device.tty.name);
    rmSync(join(this.root, 'bus/usb/devices', this.#name(device)), { force: true });
    rmSync(join(this.root, this.deviceDir(device)), { recursive: true, force: true });
  }

  /** `devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.3` for ports [1, 3] on bus 001. */
  deviceDir(device: FixtureDevice): string {
    const bus = Number(device.bus);
    const chain = device.ports.map((_, i) => `${bus}-${device.ports.slice(0, i + 1).join('.')}`);
    return [HOST_CONTROLLER_DIR, `usb${bus}`, ...chain].join('/');
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }

  #name(device: FixtureDevice): string {
    return `${Number(device.bus)}-${device.ports.join('.')}`;
  }

  #platformTtys(): void {
    mkdirSync(join(this.root, 'devices/virtual/tty/tty0'), { recursive: true });
    this.#link('class/tty/tty0', 'devices/virtual/tty/tty0');
    mkdirSync(join(this.root, 'devices/platform/serial8250/tty/ttyS0'), { recursive: true });
    this.#link('devices/platform/serial8250/tty/ttyS0/device', 'devices/platform/serial8250');
    this.#link('class/tty/ttyS0', 'devices/platform/serial8250/tty/ttyS0');
  }

  /** A relative symlink at `at` pointing to `target` (both relative to the root), as sysfs has them. */
  #link(at: string, target: string): void {
    const linkPath = join(this.root, at);
    mkdirSync(dirname(linkPath), { recursive: true });
    symlinkSync(relative(dirname(linkPath), join(this.root, target)), linkPath);
  }
}
