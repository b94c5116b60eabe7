/**
 * A single-producer / single-consumer ring of variable-length records in a SharedArrayBuffer, for data
 * the host thread hands an interpreter worker that may be busy running Python (postMessage would
 * wait for its event loop): ESP-NOW receptions, USB device events.
 *
 * Control words (Int32, `Atomics`): write index (producer only), read index (consumer only), the bytes
 * in use — the producer adds a record's size after writing all of it, the consumer subtracts it after
 * reading all of it, so neither side ever sees half a record — and a count of records taken, which a
 * producer waiting for space can wait on.
 */
const WRITE_INDEX = 0;
const READ_INDEX = 1;
const USED = 2;
const TAKEN = 3;
const CONTROL_WORDS = 4;
const HEADER_OFFSET = CONTROL_WORDS * 4;

/** `Atomics.waitAsync` (ES2024; present in Node 20, missing from the ES2022 typings). */
interface AtomicsWithWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

export class SharedRecordRing {
  /** The shared buffer (post it to the other thread and {@link SharedRecordRing.attach} it there). */
  readonly buffer: SharedArrayBuffer;
  /** Usable bytes. */
  readonly capacity: number;
  readonly #control: Int32Array;
  readonly #data: Uint8Array;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.capacity = buffer.byteLength - HEADER_OFFSET;
    this.#control = new Int32Array(buffer, 0, CONTROL_WORDS);
    this.#data = new Uint8Array(buffer, HEADER_OFFSET);
  }

  /** Allocates a ring of `capacityBytes` usable bytes (negative and fractional sizes are rounded to ≥ 0). */
  static create(capacityBytes: number): SharedRecordRing {
    return new SharedRecordRing(new SharedArrayBuffer(HEADER_OFFSET + Math.max(0, Math.floor(capacityBytes))));
  }

  static attach(buffer: SharedArrayBuffer): SharedRecordRing {
    return new SharedRecordRing(buffer);
  }

  /** Bytes in use (0 when no record is waiting). */
  used(): number {
    return Atomics.load(this.#control, USED);
  }

  // ---- producer ----

  /** Stores one record made of `parts`, back to back; false (nothing stored) when it does not fit now. */
  write(parts: readonly Uint8Array[]): boolean {
    const size = parts.reduce((sum, part) => sum + part.length, 0);
    if (Atomics.load(this.#control, USED) + size > this.capacity) return false;
    let index = Atomics.load(this.#control, WRITE_INDEX);
    for (const part of parts) {
      for (const byte of part) {
        this.#data[index] = byte;
        index = index + 1 === this.capacity ? 0 : index + 1;
      }
    }
    Atomics.store(this.#control, WRITE_INDEX, index);
    Atomics.add(this.#control, USED, size);
    return true;
  }

  /** The consumer's progress; read it before a {@link write} that may fail, for {@link waitForTaken}. */
  takenMark(): number {
    return Atomics.load(this.#control, TAKEN);
  }

  /** Resolves once the consumer has taken a record since `seen` was read with {@link takenMark}. */
  async waitForTaken(seen: number): Promise<void> {
    const result = (Atomics as unknown as AtomicsWithWaitAsync).waitAsync(this.#control, TAKEN, seen);
    if (result.async) await result.value;
  }

  // ---- consumer ----

  /**
   * Takes the oldest record, or returns null when none is waiting. `parse` reads it piece by piece with
   * `next(length)` (the record's own header says how long its later pieces are) and returns the result.
   */
  take<T>(parse: (next: (length: number) => Uint8Array) => T): T | null {
    if (this.used() === 0) return null;
    const start = Atomics.load(this.#control, READ_INDEX);
    let index = start;
    let consumed = 0;
    const next = (length: number): Uint8Array => {
      const piece = new Uint8Array(length);
      for (let i = 0; i < length; i++) {
        piece[i] = this.#data[index] ?? 0;
        index = index + 1 === this.capacity ? 0 : index + 1;
      }
      consumed += length;
      return piece;
    };
    const result = parse(next);
    Atomics.store(this.#control, READ_INDEX, index);
    Atomics.sub(this.#control, USED, consumed);
    Atomics.add(this.#control, TAKEN, 1);
    Atomics.notify(this.#control, TAKEN);
    return result;
  }
}
