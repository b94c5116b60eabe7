/**
 * What the board's USB device controller tells the firmware ({@link UsbdFirmwareEvent}), on its way
 * from the host thread to the interpreter's worker: a single-producer/single-consumer ring of records
 * in a SharedArrayBuffer. A worker busy running Python never sees a `postMessage`, so events travel
 * through shared memory and the producer rings the input ring's doorbell; the worker takes them at
 * its safe points (clock reads, sleeps and waits, the idle REPL).
 *
 * Each record is tagged with the connection it belongs to (the number of `connect` messages the
 * host-side bridge had passed on when the controller produced it), so the worker can drop events of
 * a device it has since disconnected.
 *
 * Record: u32 size, then the payload (little-endian): u32 connection, u8 kind, and per kind
 * - bus-reset: nothing;
 * - configured: u8 configured, u16 count, count × (u32 offset, u32 length);
 * - control: u32 id, u8 stage, u8 setup length, setup bytes, u8 has data, u32 data length, data;
 * - xfer-complete: u8 endpoint, u32 length, u8 has data, u32 data length, data.
 *
 * The ring itself is a {@link SharedRecordRing} (records: a u32 payload length, then the payload).
 */
import type { UsbdFirmwareEvent } from '../usbd/board-usb-port.ts';
import { SharedRecordRing } from './shared-record-ring.ts';

const SIZE_BYTES = 4;

/** Default capacity: many full-speed packets, and OUT transfers far larger than micropython-lib's. */
export const DEFAULT_USBD_RING_CAPACITY = 256 * 1024;

const KIND = { 'bus-reset': 1, configured: 2, control: 3, 'xfer-complete': 4 } as const;

/** An event as the worker takes it. */
export interface TaggedUsbdEvent {
  /** Connects the host-side bridge had passed on when the event was produced. */
  connection: number;
  event: UsbdFirmwareEvent;
}

/** Both ends of the ring; each thread uses only its side's methods. */
export class UsbdEventRing {
  readonly #ring: SharedRecordRing;

  private constructor(ring: SharedRecordRing) {
    this.#ring = ring;
  }

  static create(capacityBytes = DEFAULT_USBD_RING_CAPACITY): UsbdEventRing {
    return new UsbdEventRing(SharedRecordRing.create(Math.max(1, capacityBytes)));
  }

  static attach(buffer: SharedArrayBuffer): UsbdEventRing {
    return new UsbdEventRing(SharedRecordRing.attach(buffer));
  }

  /** The shared buffer (post it to the worker and {@link UsbdEventRing.attach} it there). */
  get buffer(): SharedArrayBuffer {
    return this.#ring.buffer;
  }

  /** Usable bytes. */
  get capacity(): number {
    return this.#ring.capacity;
  }

  // ---- producer (host thread) ----

  /** Whether a record for `event` can ever fit (an OUT transfer larger than the ring cannot). */
  canHold(event: UsbdFirmwareEvent): boolean {
    return SIZE_BYTES + encodeEvent(0, event).length <= this.capacity;
  }

  /**
   * Stores one event; false (nothing stored) when it does not fit in the free space now.
   * @throws RangeError when the event could never fit (an OUT transfer larger than the ring)
   */
  offer(connection: number, event: UsbdFirmwareEvent): boolean {
    const payload = encodeEvent(connection, event);
    const size = SIZE_BYTES + payload.length;
    if (size > this.capacity) {
      throw new RangeError(`USB event ${event.kind} needs ${size} bytes, more than the event ring's ${this.capacity}`);
    }
    const sizeBytes = new Uint8Array(SIZE_BYTES);
    new DataView(sizeBytes.buffer).setUint32(0, payload.length, true);
    return this.#ring.write([sizeBytes, payload]);
  }

  /** The consumer's progress; read it before an {@link offer} that may fail, for {@link waitForSpace}. */
  readMark(): number {
    return this.#ring.takenMark();
  }

  /** Resolves once the consumer has taken something since `seen` was read with {@link readMark}. */
  waitForSpace(seen: number): Promise<void> {
    return this.#ring.waitForTaken(seen);
  }

  // ---- consumer (worker) ----

  /** Bytes in use (0 when no event is waiting). */
  used(): number {
    return this.#ring.used();
  }

  /** Takes the oldest event, or null when none is waiting. */
  take(): TaggedUsbdEvent | null {
    return this.#ring.take((next) => decodeEvent(next(new DataView(next(SIZE_BYTES).buffer).getUint32(0, true))));
  }
}


/** Appends little-endian fields to a growing byte list. */
class RecordWriter {
  readonly #bytes: number[] = [];

  u8(value: number): this {
    this.#bytes.push(value & 0xff);
    return this;
  }

  u16(value: number): this {
    return this.u8(value).u8(value >>> 8);
  }

  u32(value: number): this {
    return this.u16(value & 0xffff).u16(value >>> 16);
  }

  bytes(data: Uint8Array): this {
    for (const byte of data) this.#bytes.push(byte);
    return this;
  }

  optionalData(data: Uint8Array | undefined): this {
    if (data === undefined) return this.u8(0).u32(0);
    return this.u8(1).u32(data.length).bytes(data);
  }

  done(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }
}

/** Reads what {@link RecordWriter} wrote. */
class RecordReader {
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  #at = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u8(): number {
    return this.#view.getUint8(this.#at++);
  }

  u16(): number {
    const value = this.#view.getUint16(this.#at, true);
    this.#at += 2;
    return value;
  }

  u32(): number {
    const value = this.#view.getUint32(this.#at, true);
    this.#at += 4;
    return value;
  }

  bytes(length: number): Uint8Array {
    const slice = this.#bytes.slice(this.#at, this.#at + length);
    this.#at += length;
    return slice;
  }

  optionalData(): Uint8Array | undefined {
    const present = this.u8() === 1;
    const length = this.u32();
    return present ? this.bytes(length) : undefined;
  }
}

function encodeEvent(connection: number, event: UsbdFirmwareEvent): Uint8Array {
  const writer = new RecordWriter().u32(connection).u8(KIND[event.kind]);
  switch (event.kind) {
    case 'bus-reset':
      break;
    case 'configured':
      writer.u8(event.configured ? 1 : 0).u16(event.openInterfaces.length);
      for (const itf of event.openInterfaces) writer.u32(itf.offset).u32(itf.length);
      break;
    case 'control':
      writer.u32(event.id).u8(event.stage).u8(event.setup.length).bytes(event.setup).optionalData(event.data);
      break;
    case 'xfer-complete':
      writer.u8(event.endpoint).u32(event.length).optionalData(event.data);
      break;
  }
  return writer.done();
}

function decodeEvent(payload: Uint8Array): TaggedUsbdEvent {
  const reader = new RecordReader(payload);
  const connection = reader.u32();
  const kind = reader.u8();
  switch (kind) {
    case KIND['bus-reset']:
      return { connection, event: { kind: 'bus-reset' } };
    case KIND.configured: {
      const configured = reader.u8() === 1;
      const count = reader.u16();
      const openInterfaces: { offset: number; length: number }[] = [];
      for (let i = 0; i < count; i++) openInterfaces.push({ offset: reader.u32(), length: reader.u32() });
      return { connection, event: { kind: 'configured', configured, openInterfaces } };
    }
    case KIND.control: {
      const id = reader.u32();
      const stage = reader.u8();
      const setup = reader.bytes(reader.u8());
      const data = reader.optionalData();
      if (stage !== 1 && stage !== 2 && stage !== 3) throw new Error(`USB event ring: control stage ${stage}`);
      return { connection, event: { kind: 'control', id, stage, setup, ...(data === undefined ? {} : { data }) } };
    }
    case KIND['xfer-complete']: {
      const endpoint = reader.u8();
      const length = reader.u32();
      const data = reader.optionalData();
      return { connection, event: { kind: 'xfer-complete', endpoint, length, ...(data === undefined ? {} : { data }) } };
    }
    default:
      throw new Error(`USB event ring: unknown record kind ${kind}`);
  }
}
