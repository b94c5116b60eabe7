/** Test doubles for the simulated hub: a manual clock and a device that presents whatever it is told. */
import { SimUsbHub } from '../../../sim/usb/sim-usb-hub.ts';
import { LabDiscovery } from '../../../sim/usb/lab-discovery.ts';
import type { BoardClock, TimerHandle } from '../../../sim/board/board-clock.ts';
import type { UsbDeviceIdentity } from '../../../sim/board/usb-identity.ts';
import type { UsbPortDevice, UsbSpeed } from '../../../sim/usb/usb-port-device.ts';

/** A clock that moves only when told; timers fire in due order, ties in the order they were set. */
export class FakeClock implements BoardClock {
  #nowMs = 0;
  #nextId = 1;
  readonly #timers = new Map<number, { dueMs: number; callback: () => void }>();

  now(): number {
    return this.#nowMs;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { dueMs: this.#nowMs + Math.max(0, delayMs), callback });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /** Number of timers not yet fired. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const targetMs = this.#nowMs + ms;
    for (;;) {
      let next: [number, { dueMs: number; callback: () => void }] | undefined;
      for (const entry of this.#timers) if (entry[1].dueMs <= targetMs && (next === undefined || entry[1].dueMs < next[1].dueMs)) next = entry;
      if (next === undefined) break;
      this.#timers.delete(next[0]);
      this.#nowMs = next[1].dueMs;
      next[1].callback();
    }
    this.#nowMs = targetMs;
  }
}

/** A device with an on/off state that presents `identity` while on (null = pull-up off). */
export class FakeUsbDevice implements UsbPortDevice {
  state: 'off' | 'on' = 'off';
  powerOnCount = 0;
  powerOffCount = 0;
  readonly usbSpeed: UsbSpeed;
  #identity: UsbDeviceIdentity | null;
  readonly #listeners = new Set<(state: string) => void>();

  constructor(identity: UsbDeviceIdentity | null, usbSpeed: UsbSpeed = 'full') {
    this.#identity = identity;
    this.usbSpeed = usbSpeed;
  }

  get usbIdentity(): UsbDeviceIdentity | null {
    return this.state === 'off' ? null : this.#identity;
  }

  onStateChange(listener: (state: string) => void): () => void {
    const entry = (state: string): void => listener(state);
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  powerOn(): void {
    this.powerOnCount++;
    this.#set('on');
  }

  powerOff(): void {
    this.powerOffCount++;
    this.#set('off');
  }

  /** The firmware switches what it presents (e.g. ROM → MicroPython); announced as a state change. */
  present(identity: UsbDeviceIdentity | null): void {
    this.#identity = identity;
    for (const listener of [...this.#listeners]) listener(this.state);
  }

  #set(state: 'off' | 'on'): void {
    if (state === this.state) return;
    this.state = state;
    for (const listener of [...this.#listeners]) listener(state);
  }
}

export const CDC: UsbDeviceIdentity = { vid: 0x303a, pid: 0x4001, manufacturer: 'Espressif Systems', product: 'Espressif Device', serialNumber: '7cdfa1000002' + '0000' };
export const JTAG: UsbDeviceIdentity = { vid: 0x303a, pid: 0x1001, manufacturer: 'Espressif', product: 'USB JTAG/serial debug unit', serialNumber: '7C:DF:A1:00:00:02' };
export const CP2104: UsbDeviceIdentity = { vid: 0x10c4, pid: 0xea60, manufacturer: 'Silicon Labs', product: 'CP2104 USB to UART Bridge Controller', serialNumber: '01A2B3C4' };

/**
 * A 7-port hub at 1-1 (fake clock) with a CP2104 board on port 3, powered and enumerated (the clock is
 * moved past power-good and enumeration), plus the lab discovery over it.
 */
export function enumeratedHubWithBridgeBoard(): { clock: FakeClock; hub: SimUsbHub; board: FakeUsbDevice; discovery: LabDiscovery } {
  const clock = new FakeClock();
  const hub = new SimUsbHub({ portPath: '1-1', ports: 7, clock });
  const board = new FakeUsbDevice(CP2104);
  hub.attach(3, board, { url: 'rfc2217://127.0.0.1:1' });
  hub.powerOnAllPorts();
  clock.advance(220);
  return { clock, hub, board, discovery: new LabDiscovery([hub]) };
}
