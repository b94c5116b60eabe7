/**
 * ESP-NOW's receive buffer (`ESPNow.config(rxbuf=…)`): a single-producer/single-consumer ring of
 * packets in a SharedArrayBuffer. The host thread stores what the medium delivers (the firmware's
 * receive callback), the interpreter's worker takes packets when Python reads them.
 *
 * Each packet takes a 14-byte header (magic, length, RSSI, arrival time, sender MAC) plus its
 * payload, so the default `rxbuf` of 2 × (14 + 250) = 528 bytes holds two full-size packets
 * (micropython-host-protocols.md §7.4). A packet that does not fit in the free space is dropped
 * whole, as the firmware's receive callback does.
 *
 * Control words (Int32, `Atomics`): write index (producer only), read index (consumer only) and the
 * number of bytes in use — the producer adds a packet's size after writing it, the consumer subtracts
 * it after reading, so neither side ever sees half a packet.
 */

const WRITE_INDEX = 0;
const READ_INDEX = 1;
const USED = 2;
const CONTROL_WORDS = 4;
const HEADER_OFFSET = CONTROL_WORDS * 4;

/** Bytes of a packet besides its payload. */
export const PACKET_OVERHEAD_BYTES = 14;
const MAGIC = 0x99;
const MAC_BYTES = 6;

/** A packet taken from the ring. */
export interface RingPacket {
  src: Uint8Array;
  payload: Uint8Array;
  /** dBm. */
  rssi: number;
  /** Wall-clock milliseconds (mod 2^32) when the host thread stored it; see {@link wallClockMs}. */
  arrivalMs: number;
}

/** Milliseconds on a clock both threads share (mod 2^32), for packet arrival times. */
export function wallClockMs(): number {
  return Math.floor(performance.timeOrigin + performance.now()) >>> 0;
}

/** Both ends of one receive buffer. */
export class RadioReceiveRing {
  /** The shared buffer (post it to the host thread and {@link RadioReceiveRing.attach} it there). */
  readonly buffer: SharedArrayBuffer;
  /** Usable bytes (`rxbuf`). */
  readonly capacity: number;
  readonly #control: Int32Array;
  readonly #data: Uint8Array;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.capacity = buffer.byteLength - HEADER_OFFSET;
    this.#control = new Int32Array(buffer, 0, CONTROL_WORDS);
    this.#data = new Uint8Array(buffer, HEADER_OFFSET);
  }

  /** Allocates a ring of `capacityBytes` (any size ≥ 0; too small for any packet means every packet is dropped). */
  static create(capacityBytes: number): RadioReceiveRing {
    return new RadioReceiveRing(new SharedArrayBuffer(HEADER_OFFSET + Math.max(0, Math.floor(capacityBytes))));
  }

  static attach(buffer: SharedArrayBuffer): RadioReceiveRing {
    return new RadioReceiveRing(buffer);
  }

  // ---- producer (host thread) ----

  /** Stores a packet; false (nothing stored) when it does not fit in the free space. */
  offer(src: Uint8Array, payload: Uint8Array, rssi: number, arrivalMs: number): boolean {
    const size = PACKET_OVERHEAD_BYTES + payload.length;
    if (payload.length > 255 || Atomics.load(this.#control, USED) + size > this.capacity) return false;
    const header = new Uint8Array(PACKET_OVERHEAD_BYTES);
    header[0] = MAGIC;
    header[1] = payload.length;
    header[2] = Math.max(-128, Math.min(127, Math.round(rssi))) & 0xff;
    new DataView(header.buffer).setUint32(4, arrivalMs >>> 0, true);
    header.set(src.subarray(0, MAC_BYTES), 8);
    let index = Atomics.load(this.#control, WRITE_INDEX);
    index = this.#put(index, header);
    index = this.#put(index, payload);
    Atomics.store(this.#control, WRITE_INDEX, index);
    Atomics.add(this.#control, USED, size);
    return true;
  }

  // ---- consumer (worker) ----

  /** Bytes in use (0 when no packet is waiting). */
  used(): number {
    return Atomics.load(this.#control, USED);
  }

  /** Takes the oldest packet, or null when none is waiting. */
  take(): RingPacket | null {
    if (this.used() < PACKET_OVERHEAD_BYTES) return null;
    let index = Atomics.load(this.#control, READ_INDEX);
    const header = new Uint8Array(PACKET_OVERHEAD_BYTES);
    index = this.#get(index, header);
    const payload = new Uint8Array(header[1] ?? 0);
    index = this.#get(index, payload);
    Atomics.store(this.#control, READ_INDEX, index);
    Atomics.sub(this.#control, USED, PACKET_OVERHEAD_BYTES + payload.length);
    const view = new DataView(header.buffer);
    return { src: header.slice(8, 8 + MAC_BYTES), payload, rssi: view.getInt8(2), arrivalMs: view.getUint32(4, true) };
  }

  #put(index: number, bytes: Uint8Array): number {
    for (const byte of bytes) {
      this.#data[index] = byte;
      index = index + 1 === this.capacity ? 0 : index + 1;
    }
    return index;
  }

  #get(index: number, target: Uint8Array): number {
    for (let i = 0; i < target.length; i++) {
      target[i] = this.#data[index] ?? 0;
      index = index + 1 === this.capacity ? 0 : index + 1;
    }
    return index;
  }
}
