import { HilError, type ErrorEvidence } from '../errors.ts';
import type { SerialLink } from '../link/serial-link.ts';
import { escapeBytes, indexOfBytes, utf8 } from './byte-text.ts';
import { systemClock, type Clock } from './clock.ts';
import { ConsoleTranscript } from './console-transcript.ts';

/** Options of {@link ByteReader}. */
export interface ByteReaderOptions {
  /** Time source for deadlines; default the process clock. */
  clock?: Clock;
  /** Received-but-unread bytes kept at most; the oldest are dropped beyond this. Default 1 MiB. */
  maxBufferBytes?: number;
  /** Size of the console transcript (most recent bytes). Default 256 KiB. */
  transcriptBytes?: number;
  /** For error evidence. */
  boardId?: string;
  /** For error evidence. */
  portPath?: string;
}

/** Deadline and cancellation of one read. */
export interface ReadOptions {
  /** Overall deadline of this read in milliseconds, counted from the call. */
  timeoutMs: number;
  /** Optional: fail when no byte arrives for this many milliseconds (mpremote's inter-byte timeout). */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
  /** What the caller is doing, e.g. `enter raw REPL: banner`; recorded in error evidence. */
  phase?: string;
}

/** How many received bytes error evidence shows. */
const EVIDENCE_BYTES = 256;

type Wake = 'data' | 'timer' | 'abort' | 'gone';

/**
 * A buffered reader over a {@link SerialLink}: collects everything the board sends and lets the REPL
 * client wait for patterns or byte counts with deadlines. Also taps every received byte into a bounded
 * {@link ConsoleTranscript}. One reader per link; reads must not overlap (the REPL serialises them).
 *
 * Errors thrown by the reads: `TIMEOUT` (deadline or idle timeout passed; evidence has `phase`,
 * `lastBytes` and `consoleTail`), `LINK_GONE` (the link vanished or was closed and the buffered bytes do
 * not satisfy the read), `ABORTED` (the signal fired).
 */
export class ByteReader {
  /** Everything received, bounded; for JUnit `<system-out>`. */
  readonly transcript: ConsoleTranscript;

  private readonly clock: Clock;
  private readonly maxBufferBytes: number;
  private buffer = new Uint8Array(4096);
  private start = 0;
  private end = 0;
  /** Absolute stream offset of `buffer[start]`, so scans survive compaction. */
  private streamOffset = 0;
  private overflowBytes = 0;
  private lastDataAt: number;
  private goneError: Error | undefined;
  private reading = false;
  private readonly wakers = new Set<(wake: Wake) => void>();
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly link: SerialLink,
    private readonly options: ByteReaderOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.maxBufferBytes = options.maxBufferBytes ?? 1024 * 1024;
    this.transcript = new ConsoleTranscript(options.transcriptBytes ?? 256 * 1024);
    this.lastDataAt = this.clock.now();
    this.unsubscribe.push(link.onData((chunk) => this.onData(chunk)));
    this.unsubscribe.push(
      link.onGone((err) => {
        this.goneError = err;
        this.wake('gone');
      }),
    );
  }

  /** Bytes received and not yet read. */
  get available(): number {
    return this.end - this.start;
  }

  /** True once the link vanished or was closed. */
  get isGone(): boolean {
    return this.goneError !== undefined || !this.link.isOpen;
  }

  /**
   * Reads up to and including the first occurrence of `pattern` (a string is UTF-8 encoded) and returns
   * those bytes; whatever came before the pattern (garbage, boot output) is part of the result.
   */
  async readUntil(pattern: Uint8Array | string, options: ReadOptions): Promise<Uint8Array> {
    const needle = typeof pattern === 'string' ? utf8(pattern) : pattern;
    let scanFrom = this.streamOffset;
    return this.waitFor(options, `"${escapeBytes(needle)}"`, () => {
      const from = Math.max(0, scanFrom - this.streamOffset) + this.start;
      const at = indexOfBytes(this.buffer, needle, from, this.end);
      if (at < 0) {
        // Next time resume where a match could still start.
        scanFrom = this.streamOffset + Math.max(0, this.end - this.start - needle.length + 1);
        return undefined;
      }
      return this.take(at + needle.length - this.start);
    });
  }

  /** Reads exactly `count` bytes. */
  async readExact(count: number, options: ReadOptions): Promise<Uint8Array> {
    if (count > this.maxBufferBytes) throw new RangeError(`readExact(${count}) exceeds the buffer limit`);
    return this.waitFor(options, `${count} byte(s)`, () => (this.available >= count ? this.take(count) : undefined));
  }

  /** Returns (and consumes) whatever is buffered now, possibly nothing. Never waits. */
  readAvailable(): Uint8Array {
    return this.take(this.available);
  }

  /** Discards whatever is buffered now and returns how many bytes that was. Never waits. */
  drain(): number {
    const count = this.available;
    this.take(count);
    return count;
  }

  /**
   * Waits until the board has been silent for `quietMs` (measured from the last byte received, which
   * may be before the call). Consumes nothing. `options.timeoutMs` bounds the whole wait, so a board
   * that never stops talking ends in `TIMEOUT`.
   */
  async waitForQuiet(quietMs: number, options: ReadOptions): Promise<void> {
    const waitingFor = `${quietMs} ms of silence`;
    const deadline = this.clock.now() + options.timeoutMs;
    for (;;) {
      this.throwIfUnusable(options, waitingFor);
      const now = this.clock.now();
      const quietLeft = this.lastDataAt + quietMs - now;
      if (quietLeft <= 0) return;
      if (now >= deadline) throw this.timeoutError(options, waitingFor, 'deadline');
      const dataSeenAt = this.lastDataAt;
      const quietFirst = quietLeft <= deadline - now;
      const wake = await this.nextWake(quietFirst ? quietLeft : deadline - now, options.signal);
      if (wake !== 'timer') continue;
      // Judge by which target the timer was set for, not by re-reading the clock (timers may fire a
      // millisecond early relative to Date.now()).
      if (quietFirst && this.lastDataAt === dataSeenAt) return;
      if (!quietFirst) throw this.timeoutError(options, waitingFor, 'deadline');
    }
  }

  /** The last received bytes, escaped, as error evidence shows them. */
  lastBytesText(maxBytes = EVIDENCE_BYTES): string {
    return escapeBytes(this.transcript.tail(maxBytes));
  }

  /** Evidence common to every error about this link: board, port, phase, last bytes, console tail. */
  evidence(phase: string | undefined, extra: Record<string, unknown> = {}): ErrorEvidence {
    const evidence: ErrorEvidence = { ...extra, lastBytes: this.lastBytesText(), consoleTail: this.consoleTail() };
    if (phase !== undefined) evidence.phase = phase;
    if (this.options.boardId !== undefined) evidence.boardId = this.options.boardId;
    if (this.options.portPath !== undefined) evidence.portPath = this.options.portPath;
    if (this.overflowBytes > 0) evidence.droppedUnreadBytes = this.overflowBytes;
    return evidence;
  }

  /** Stops listening to the link. Pending reads fail with `LINK_GONE`. Idempotent. */
  dispose(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    if (this.goneError === undefined) this.goneError = new Error('byte reader disposed');
    this.wake('gone');
  }

  private onData(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.transcript.append(chunk);
    this.lastDataAt = this.clock.now();
    this.append(chunk);
    this.wake('data');
  }

  private append(chunk: Uint8Array): void {
    let data = chunk;
    if (data.length > this.maxBufferBytes) {
      this.dropOldest(this.available);
      this.overflowBytes += data.length - this.maxBufferBytes;
      this.streamOffset += data.length - this.maxBufferBytes;
      data = data.subarray(data.length - this.maxBufferBytes);
    }
    const excess = this.available + data.length - this.maxBufferBytes;
    if (excess > 0) this.dropOldest(excess);
    if (this.end + data.length > this.buffer.length) {
      const needed = this.available + data.length;
      let capacity = this.buffer.length;
      while (capacity < needed) capacity *= 2;
      const next = capacity === this.buffer.length ? this.buffer : new Uint8Array(capacity);
      if (next === this.buffer) this.buffer.copyWithin(0, this.start, this.end);
      else next.set(this.buffer.subarray(this.start, this.end));
      this.buffer = next;
      this.end -= this.start;
      this.start = 0;
    }
    this.buffer.set(data, this.end);
    this.end += data.length;
  }

  private dropOldest(count: number): void {
    // Nobody read these in time; losing the oldest keeps memory bounded and the newest (most useful) data.
    this.start += count;
    this.streamOffset += count;
    this.overflowBytes += count;
  }

  private take(count: number): Uint8Array {
    const out = this.buffer.slice(this.start, this.start + count);
    this.start += count;
    this.streamOffset += count;
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
    return out;
  }

  private async waitFor<T>(options: ReadOptions, waitingFor: string, check: () => T | undefined): Promise<T> {
    if (this.reading) throw new Error('ByteReader: overlapping reads (the REPL client must serialise them)');
    this.reading = true;
    try {
      const startedAt = this.clock.now();
      const deadline = startedAt + options.timeoutMs;
      let lastActivity = startedAt;
      for (;;) {
        const result = check();
        if (result !== undefined) return result;
        this.throwIfUnusable(options, waitingFor);
        const now = this.clock.now();
        const idleDeadline = options.idleTimeoutMs === undefined ? Infinity : lastActivity + options.idleTimeoutMs;
        if (now >= deadline) throw this.timeoutError(options, waitingFor, 'deadline');
        if (now >= idleDeadline) throw this.timeoutError(options, waitingFor, 'idle');
        const wake = await this.nextWake(Math.min(deadline, idleDeadline) - now, options.signal);
        if (wake === 'data') lastActivity = this.clock.now();
        if (wake === 'timer') {
          // The timer only fires at the nearer of the two deadlines, so it is a timeout either way; check
          // the buffer once more in case data and timer raced.
          const late = check();
          if (late !== undefined) return late;
          throw this.timeoutError(options, waitingFor, deadline <= idleDeadline ? 'deadline' : 'idle');
        }
      }
    } finally {
      this.reading = false;
    }
  }

  private throwIfUnusable(options: ReadOptions, waitingFor: string): void {
    if (options.signal?.aborted) {
      throw new HilError('ABORTED', `reading ${waitingFor} was cancelled`, this.evidence(options.phase), {
        cause: options.signal.reason,
      });
    }
    if (this.isGone) {
      const reason = this.goneError?.message ?? 'link closed';
      throw new HilError(
        'LINK_GONE',
        `serial link ${this.link.url} gone while reading ${waitingFor}: ${reason}`,
        this.evidence(options.phase, { linkUrl: this.link.url }),
        { cause: this.goneError },
      );
    }
  }

  private timeoutError(options: ReadOptions, waitingFor: string, which: 'deadline' | 'idle'): HilError {
    const limit = which === 'deadline' ? `${options.timeoutMs} ms` : `${options.idleTimeoutMs} ms without data`;
    return new HilError(
      'TIMEOUT',
      `no ${waitingFor} within ${limit}${options.phase === undefined ? '' : ` (${options.phase})`}; last bytes: ${this.lastBytesText(64)}`,
      this.evidence(options.phase, {
        waitingFor,
        timeoutMs: options.timeoutMs,
        ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
        bufferedBytes: this.available,
      }),
    );
  }

  private consoleTail(): string {
    const lines = this.transcript.text().split(/\r?\n/);
    return lines.slice(-10).join('\n');
  }

  private wake(reason: Wake): void {
    for (const waker of [...this.wakers]) waker(reason);
  }

  private nextWake(delayMs: number, signal: AbortSignal | undefined): Promise<Wake> {
    return new Promise<Wake>((resolve) => {
      const finish = (wake: Wake): void => {
        this.wakers.delete(finish);
        cancelTimer();
        signal?.removeEventListener('abort', onAbort);
        resolve(wake);
      };
      const onAbort = (): void => finish('abort');
      this.wakers.add(finish);
      const cancelTimer = delayMs === Infinity ? () => {} : this.clock.setTimer(() => finish('timer'), delayMs);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
