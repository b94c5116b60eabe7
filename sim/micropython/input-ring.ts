/**
 * The board's receive buffer: a single-producer/single-consumer byte ring in a SharedArrayBuffer.
 * The host thread writes what the serial host sends; the interpreter's worker reads it while the
 * REPL is idle, while Python code reads `sys.stdin`, and to wake up from `time.sleep`.
 *
 * Control words (Int32, all accessed with `Atomics`):
 * - write and read positions (free-running counters; index = position mod capacity);
 * - a doorbell bumped on every write and every keyboard interrupt — the worker `Atomics.wait`s on it,
 *   so an idle board uses no CPU;
 * - the number of keyboard interrupts the host thread has raised (see `keyboard-interrupt-line.ts`);
 * - a discard mark: bytes before it are dropped unread (TinyUSB CDC discards pending input when the
 *   interrupt character arrives, micropython-host-protocols.md §1.1);
 * - a word nobody ever notifies, for a worker that must park forever (a requested hard reset).
 */

const WRITE_POS = 0;
const READ_POS = 1;
const DOORBELL = 2;
const INTERRUPTS = 3;
const DISCARD_TO = 4;
const PARKING = 5;
const CONTROL_WORDS = 8;
const HEADER_BYTES = CONTROL_WORDS * 4;

/** `Atomics.waitAsync` (ES2024; present in Node 20, missing from the ES2022 typings). */
interface AtomicsWithWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

/** Default capacity: comfortably above a raw-paste window and a classic-mode 256-byte chunk burst. */
export const DEFAULT_RING_CAPACITY = 64 * 1024;

/** Both ends of the ring; each thread uses only its side's methods. */
export class InputRing {
  /** The shared buffer (post it to the worker and call {@link InputRing.attach} there). */
  readonly buffer: SharedArrayBuffer;
  readonly capacity: number;
  readonly #control: Int32Array;
  readonly #data: Uint8Array;
  /** Reader side: interrupts already taken by a wait (see {@link takeInterrupt}). */
  #takenInterrupts: number;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.capacity = buffer.byteLength - HEADER_BYTES;
    if (this.capacity <= 0 || (this.capacity & (this.capacity - 1)) !== 0) {
      throw new RangeError(`ring capacity must be a power of two, got ${this.capacity}`);
    }
    this.#control = new Int32Array(buffer, 0, CONTROL_WORDS);
    this.#data = new Uint8Array(buffer, HEADER_BYTES);
    this.#takenInterrupts = Atomics.load(this.#control, INTERRUPTS);
  }

  /** Allocates a ring of `capacityBytes` (a power of two). */
  static create(capacityBytes = DEFAULT_RING_CAPACITY): InputRing {
    return new InputRing(new SharedArrayBuffer(HEADER_BYTES + capacityBytes));
  }

  /** Opens the other end of a ring created elsewhere. */
  static attach(buffer: SharedArrayBuffer): InputRing {
    return new InputRing(buffer);
  }

  // ---- writer (host thread) ----

  /** Free space in bytes. */
  free(): number {
    return this.capacity - this.#used();
  }

  /**
   * Appends as many bytes of `data[start..]` as fit; returns how many. Does not ring the doorbell
   * (call {@link ringDoorbell} after a batch).
   */
  write(data: Uint8Array, start = 0): number {
    const count = Math.min(data.length - start, this.free());
    let position = Atomics.load(this.#control, WRITE_POS);
    for (let i = 0; i < count; i++) {
      this.#data[position & (this.capacity - 1)] = data[start + i] ?? 0;
      position = (position + 1) | 0;
    }
    Atomics.store(this.#control, WRITE_POS, position);
    return count;
  }

  /** Wakes the reader. */
  ringDoorbell(): void {
    Atomics.add(this.#control, DOORBELL, 1);
    Atomics.notify(this.#control, DOORBELL);
  }

  /** Records one keyboard interrupt (optionally dropping all unread input) and wakes the reader. */
  recordInterrupt(discardPending: boolean): void {
    if (discardPending) Atomics.store(this.#control, DISCARD_TO, Atomics.load(this.#control, WRITE_POS));
    Atomics.add(this.#control, INTERRUPTS, 1);
    this.ringDoorbell();
  }

  /** Resolves when the reader has consumed something (for a writer waiting for space). */
  async waitForSpace(): Promise<void> {
    const seen = Atomics.load(this.#control, READ_POS);
    if (this.free() > 0) return;
    const result = (Atomics as unknown as AtomicsWithWaitAsync).waitAsync(this.#control, READ_POS, seen);
    if (result.async) await result.value;
  }

  // ---- reader (worker) ----

  /** Unread bytes. */
  available(): number {
    this.#applyDiscard();
    return this.#used();
  }

  /** Takes one byte, or returns -1 when the ring is empty. */
  readByte(): number {
    this.#applyDiscard();
    const read = Atomics.load(this.#control, READ_POS);
    if (read === Atomics.load(this.#control, WRITE_POS)) return -1;
    const byte = this.#data[read & (this.capacity - 1)] ?? 0;
    this.#advanceRead((read + 1) | 0);
    return byte;
  }

  /** Takes up to `length` bytes into `target[offset..]`; returns how many (0 when empty). */
  read(target: Uint8Array, offset: number, length: number): number {
    this.#applyDiscard();
    let read = Atomics.load(this.#control, READ_POS);
    const count = Math.min(length, this.#used());
    for (let i = 0; i < count; i++) {
      target[offset + i] = this.#data[read & (this.capacity - 1)] ?? 0;
      read = (read + 1) | 0;
    }
    if (count > 0) this.#advanceRead(read);
    return count;
  }

  /** Current doorbell value; pass it to {@link waitDoorbell} to sleep until something happens. */
  doorbell(): number {
    return Atomics.load(this.#control, DOORBELL);
  }

  /** How many keyboard interrupts the host thread has raised so far. */
  interrupts(): number {
    return Atomics.load(this.#control, INTERRUPTS);
  }

  /**
   * Reader side: true once for each batch of keyboard interrupts not yet taken by any wait. The count
   * persists across waits, so an interrupt raised just *before* a wait starts (the VM only checks for a
   * pending exception at its next branch) still ends that wait. A wait may therefore end for an
   * interrupt the VM has already raised elsewhere; callers treat that as a spurious wake and carry on
   * (MicroPython retries reads on EINTR; the sleeps continue with the time left).
   */
  takeInterrupt(): boolean {
    const raised = Atomics.load(this.#control, INTERRUPTS);
    if (raised === this.#takenInterrupts) return false;
    this.#takenInterrupts = raised;
    return true;
  }

  /**
   * Blocks the calling worker until the doorbell differs from `seen` or `timeoutMs` passes
   * (undefined = no limit). Zero CPU while waiting. Not allowed on the main thread.
   */
  waitDoorbell(seen: number, timeoutMs?: number): void {
    Atomics.wait(this.#control, DOORBELL, seen, timeoutMs);
  }

  /** Blocks the calling worker forever (until the thread is terminated). */
  parkForever(): never {
    for (;;) Atomics.wait(this.#control, PARKING, 0);
  }

  #used(): number {
    return (Atomics.load(this.#control, WRITE_POS) - Atomics.load(this.#control, READ_POS)) | 0;
  }

  #applyDiscard(): void {
    const read = Atomics.load(this.#control, READ_POS);
    const mark = Atomics.load(this.#control, DISCARD_TO);
    if (((mark - read) | 0) > 0) this.#advanceRead(mark);
  }

  #advanceRead(position: number): void {
    Atomics.store(this.#control, READ_POS, position);
    Atomics.notify(this.#control, READ_POS);
  }
}
