/**
 * A recording fake hub for HubPortPower tests: every control transfer is recorded as its 8 setup bytes
 * (encodeSetupPacket, so tests compare what would go on the wire), and answered from a scripted USB 2.0
 * hub — descriptor bytes given by the test, per-port power bits that follow Set/ClearPortFeature unless
 * the hub is told it does not switch VBUS, and stalls or thrown errors on chosen requests.
 */
import {
  decodeSetupPacket,
  encodeSetupPacket,
  type UsbControlDevice,
  type UsbControlSetup,
  type UsbInTransferResult,
  type UsbOutTransferResult,
} from '../../runner/usb/usb-control-device.ts';

/** A USB 2.0 hub descriptor: `ports` ports, wHubCharacteristics low bits as given, bPwrOn2PwrGood. */
export function hubDescriptorBytes(options: { ports: number; characteristics: number; pwrOn2PwrGood: number; nonRemovableMask?: number }): Uint8Array {
  const bitmapBytes = Math.ceil((options.ports + 1) / 8);
  const bytes = new Uint8Array(7 + 2 * bitmapBytes);
  bytes[0] = bytes.length;
  bytes[1] = 0x29;
  bytes[2] = options.ports;
  bytes[3] = options.characteristics & 0xff;
  bytes[4] = options.characteristics >> 8;
  bytes[5] = options.pwrOn2PwrGood;
  bytes[6] = 100;
  for (let i = 0; i < bitmapBytes; i++) {
    bytes[7 + i] = ((options.nonRemovableMask ?? 0) >> (8 * i)) & 0xff;
    bytes[7 + bitmapBytes + i] = 0xff;
  }
  return bytes;
}

export interface RecordingHubOptions {
  descriptor: Uint8Array;
  /** Ports whose power bit never changes (the hub claims switching but does not switch VBUS). */
  stuckPorts?: readonly number[];
  /** Answer these requests (hex setup bytes, e.g. `23 01 08 00 03 00 00 00`) with a stall. */
  stall?: readonly string[];
  /** Throw this error for these requests, like the `usb` package does when nusb reports a failure. */
  throwOn?: { setups: readonly string[]; error: Error };
  /** Answer GetPortStatus with this many bytes only. */
  portStatusLength?: number;
  opened?: boolean;
}

export class RecordingHub implements UsbControlDevice {
  readonly vendorId = 0x05e3;
  readonly productId = 0x0608;
  /** Every transfer's setup bytes as hex, in order. */
  readonly transfers: string[] = [];
  readonly calls: string[] = [];
  readonly #options: RecordingHubOptions;
  readonly #powered = new Map<number, boolean>();
  #opened: boolean;

  constructor(options: RecordingHubOptions) {
    this.#options = options;
    this.#opened = options.opened ?? false;
  }

  get opened(): boolean {
    return this.#opened;
  }

  async open(): Promise<void> {
    this.calls.push('open');
    this.#opened = true;
  }

  async close(): Promise<void> {
    this.calls.push('close');
    this.#opened = false;
  }

  /** The power bit of `port` (all ports start powered, as after hub configuration). */
  isPowered(port: number): boolean {
    return this.#powered.get(port) ?? true;
  }

  async controlTransferIn(setup: UsbControlSetup, length: number): Promise<UsbInTransferResult> {
    const wire = this.#record('in', setup, length);
    if (this.#options.stall?.includes(wire)) return { status: 'stall' };
    const { setup: decoded } = decodeSetupPacket(encodeSetupPacket('in', setup, length));
    if (decoded.requestType === 'class' && decoded.recipient === 'device' && decoded.request === 6 && decoded.value >> 8 === 0x29) {
      return { status: 'ok', data: view(this.#options.descriptor.slice(0, length)) };
    }
    if (decoded.requestType === 'class' && decoded.recipient === 'other' && decoded.request === 0) {
      const status = this.isPowered(decoded.index) ? 0x0100 : 0x0000;
      const answer = new Uint8Array([status & 0xff, status >> 8, 0, 0]).slice(0, this.#options.portStatusLength ?? 4);
      return { status: 'ok', data: view(answer) };
    }
    return { status: 'stall' };
  }

  async controlTransferOut(setup: UsbControlSetup): Promise<UsbOutTransferResult> {
    const wire = this.#record('out', setup, 0);
    if (this.#options.stall?.includes(wire)) return { status: 'stall', bytesWritten: 0 };
    if (setup.requestType === 'class' && setup.recipient === 'other' && setup.value === 8 && (setup.request === 1 || setup.request === 3)) {
      if (!this.#options.stuckPorts?.includes(setup.index)) this.#powered.set(setup.index, setup.request === 3);
      return { status: 'ok', bytesWritten: 0 };
    }
    return { status: 'stall', bytesWritten: 0 };
  }

  #record(direction: 'in' | 'out', setup: UsbControlSetup, length: number): string {
    const wire = Array.from(encodeSetupPacket(direction, setup, length), (b) => b.toString(16).padStart(2, '0')).join(' ');
    this.transfers.push(wire);
    this.calls.push(wire);
    if (this.#options.throwOn?.setups.includes(wire)) throw this.#options.throwOn.error;
    return wire;
  }
}

/** A DataView over a copy placed at a non-zero offset, so code that ignores byteOffset fails. */
function view(bytes: Uint8Array): DataView {
  const backing = new Uint8Array(bytes.length + 3);
  backing.set(bytes, 3);
  return new DataView(backing.buffer, 3, bytes.length);
}
