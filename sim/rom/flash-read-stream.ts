/**
 * The stub's READ_FLASH streaming (reference esptool-protocol.md §4.12): raw SLIP frames of
 * `packet_size` bytes (the last may be shorter), at most `max_in_flight` unacknowledged; the host
 * acknowledges each with a 4-byte frame holding the total received so far; when everything is
 * acknowledged the stub sends the 16-byte raw MD5 of the data.
 */
import { createHash } from 'node:crypto';
import type { FlashStore } from '../board/flash-store.ts';
import { slipEncode } from './slip-codec.ts';

/** Parameters of READ_FLASH (§3.1). */
export interface FlashReadParams {
  offset: number;
  length: number;
  packetBytes: number;
  maxInFlight: number;
}

/** One read in progress. */
export class FlashReadStream {
  readonly #flash: FlashStore;
  readonly #params: FlashReadParams;
  readonly #transmit: (data: Uint8Array) => void;
  readonly #md5 = createHash('md5');
  #sent = 0;
  #acked = 0;
  #done = false;

  /** RangeError when the range leaves the flash (checked before the command is acknowledged). */
  constructor(flash: FlashStore, params: FlashReadParams, transmit: (data: Uint8Array) => void) {
    if (params.offset + params.length > flash.sizeBytes) throw new RangeError(`read of ${params.length} bytes at ${params.offset} leaves the flash`);
    if (params.packetBytes <= 0 || params.maxInFlight <= 0) throw new RangeError('packet size and max in flight must be > 0');
    this.#flash = flash;
    this.#params = params;
    this.#transmit = transmit;
  }

  /** True once the final MD5 frame was sent. */
  get done(): boolean {
    return this.#done;
  }

  /** Sends the first packets (call after the command's response). */
  start(): void {
    this.#pump();
  }

  /** A host acknowledgement: `received` = total bytes the host has so far. */
  acknowledge(received: number): void {
    if (this.#done) return;
    this.#acked = Math.max(this.#acked, Math.min(received, this.#sent));
    this.#pump();
  }

  #pump(): void {
    const { offset, length, packetBytes, maxInFlight } = this.#params;
    while (this.#sent < length && this.#sent - this.#acked < maxInFlight * packetBytes) {
      const n = Math.min(packetBytes, length - this.#sent);
      const chunk = this.#flash.read(offset + this.#sent, n);
      this.#md5.update(chunk);
      this.#transmit(slipEncode(chunk));
      this.#sent += n;
    }
    if (this.#acked >= length && !this.#done) {
      this.#done = true;
      this.#transmit(slipEncode(new Uint8Array(this.#md5.digest())));
    }
  }
}
