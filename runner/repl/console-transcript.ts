import { concatBytes, decodeUtf8 } from './byte-text.ts';

/**
 * A bounded record of everything a board printed, for JUnit `<system-out>` and error evidence. Keeps
 * the most recent `capacityBytes`; older bytes are dropped whole-chunk-first, then trimmed.
 */
export class ConsoleTranscript {
  private chunks: Uint8Array[] = [];
  private storedBytes = 0;
  private droppedBytes = 0;

  /** @param capacityBytes how many of the most recent bytes to keep; default 256 KiB. */
  constructor(readonly capacityBytes = 256 * 1024) {
    if (!(capacityBytes > 0)) throw new RangeError('capacityBytes must be positive');
  }

  /** Records bytes received from the board. */
  append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    // Copy: the link may reuse its buffer after the listener returns.
    this.chunks.push(chunk.slice());
    this.storedBytes += chunk.length;
    while (this.storedBytes > this.capacityBytes) {
      const head = this.chunks[0];
      if (head === undefined) break;
      const excess = this.storedBytes - this.capacityBytes;
      if (head.length <= excess) {
        this.chunks.shift();
        this.storedBytes -= head.length;
        this.droppedBytes += head.length;
      } else {
        this.chunks[0] = head.subarray(excess);
        this.storedBytes -= excess;
        this.droppedBytes += excess;
      }
    }
  }

  /** Bytes dropped from the front because the capacity was exceeded. */
  get truncatedBytes(): number {
    return this.droppedBytes;
  }

  /** The kept bytes, oldest first. */
  bytes(): Uint8Array {
    if (this.chunks.length > 1) this.chunks = [concatBytes(this.chunks)];
    return this.chunks[0]?.slice() ?? new Uint8Array(0);
  }

  /** The kept bytes decoded as UTF-8 (lenient). */
  text(): string {
    return decodeUtf8(this.bytes());
  }

  /** The last `maxBytes` bytes kept (fewer when less was received). */
  tail(maxBytes: number): Uint8Array {
    const all = this.bytes();
    return all.subarray(Math.max(0, all.length - maxBytes));
  }

  /** Forgets everything, e.g. at the start of a suite. */
  clear(): void {
    this.chunks = [];
    this.storedBytes = 0;
    this.droppedBytes = 0;
  }
}
