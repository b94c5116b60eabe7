/**
 * ESP-NOW's receive buffer (`ESPNow.config(rxbuf=…)`): a single-producer/single-consumer ring of
 * packets in a SharedArrayBuffer. The host thread stores what the medium delivers (the firmware's
 * receive callback), the interpreter's worker takes packets when Python reads them.
 *
 * Each packet takes a 14-byte header (magic, length, RSSI, arrival time, sender MAC) plus its
 * payload, so the default `rxbuf` of 2 × (14 + 250) = 528 bytes holds two full-size packets
 * (micropython-host-protocols.md §7.4). A packet that does not fit in the free space is dropped
 * whole, as the firmware's receive callback does. The ring itself is a {@link SharedRecordRing}.
 */
import { SharedRecordRing } from './shared-record-ring.ts';

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
  readonly #ring: SharedRecordRing;

  private constructor(ring: SharedRecordRing) {
    this.#ring = ring;
  }

  /** Allocates a ring of `capacityBytes` (any size ≥ 0; too small for any packet means every packet is dropped). */
  static create(capacityBytes: number): RadioReceiveRing {
    return new RadioReceiveRing(SharedRecordRing.create(capacityBytes));
  }

  static attach(buffer: SharedArrayBuffer): RadioReceiveRing {
    return new RadioReceiveRing(SharedRecordRing.attach(buffer));
  }

  /** The shared buffer (post it to the host thread and {@link RadioReceiveRing.attach} it there). */
  get buffer(): SharedArrayBuffer {
    return this.#ring.buffer;
  }

  /** Usable bytes (`rxbuf`). */
  get capacity(): number {
    return this.#ring.capacity;
  }

  // ---- producer (host thread) ----

  /** Stores a packet; false (nothing stored) when it does not fit in the free space. */
  offer(src: Uint8Array, payload: Uint8Array, rssi: number, arrivalMs: number): boolean {
    if (payload.length > 255) return false;
    const header = new Uint8Array(PACKET_OVERHEAD_BYTES);
    header[0] = MAGIC;
    header[1] = payload.length;
    header[2] = Math.max(-128, Math.min(127, Math.round(rssi))) & 0xff;
    new DataView(header.buffer).setUint32(4, arrivalMs >>> 0, true);
    header.set(src.subarray(0, MAC_BYTES), 8);
    return this.#ring.write([header, payload]);
  }

  // ---- consumer (worker) ----

  /** Bytes in use (0 when no packet is waiting). */
  used(): number {
    return this.#ring.used();
  }

  /** Takes the oldest packet, or null when none is waiting. */
  take(): RingPacket | null {
    return this.#ring.take((next) => {
      const header = next(PACKET_OVERHEAD_BYTES);
      const payload = next(header[1] ?? 0);
      const view = new DataView(header.buffer);
      return { src: header.slice(8, 8 + MAC_BYTES), payload, rssi: view.getInt8(2), arrivalMs: view.getUint32(4, true) };
    });
  }
}
