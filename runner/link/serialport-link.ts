import { stat } from 'node:fs/promises';
import { SerialPort } from 'serialport';
import { HilError } from '../errors.ts';
import type { OpenLinkOptions, SerialLink } from './serial-link.ts';
import { LinkListeners, writeWithCallback } from './link-listeners.ts';
import { abortedError, withDeadline } from './with-deadline.ts';

const DEFAULT_BAUD_RATE = 115200;
const DEFAULT_OPEN_TIMEOUT_MS = 5000;
const PURGE_TIMEOUT_MS = 3000;
/** How often the device node is checked for having vanished (see {@link SerialportLink}). */
const PRESENCE_CHECK_MS = 500;

/**
 * Opens a local tty with the `serialport` package (the only file that imports it): 8N1, no flow
 * control, `hupcl: false` so DTR/RTS survive close (dropping them on close could reset the board),
 * `lock: true` (an exclusive `flock`, so two rig processes cannot share a board).
 *
 * The OS asserts DTR and RTS when a tty opens (Linux, macOS, and Windows' default DCB), so the link
 * starts with `signals = { dtr: true, rts: true }` without touching the lines; on the two-transistor
 * auto-reset circuit that state keeps EN and GPIO0 high (reference §8.1, §11.3).
 *
 * @throws HilError `PORT_IN_USE` when another process (or link) holds the port, `PORT_UNREACHABLE`
 *   naming the path when it does not exist or cannot be opened, `USAGE` for a bad baud rate,
 *   `ABORTED`/`PORT_UNREACHABLE` when `signal` fires or `timeoutMs` passes first.
 */
/** The host's serial ports as `serialport` lists them (on Linux it runs `udevadm`; without it this rejects). */
export function listSerialPorts(): ReturnType<typeof SerialPort.list> {
  return SerialPort.list();
}

export async function openSerialportLink(path: string, options: OpenLinkOptions = {}): Promise<SerialportLink> {
  const baudRate = options.baudRate ?? DEFAULT_BAUD_RATE;
  if (!Number.isInteger(baudRate) || baudRate < 1) {
    throw new HilError('USAGE', `${path}: baud rate ${baudRate} is not a positive integer`, { portPath: path });
  }
  if (options.signal?.aborted) throw abortedError(options.signal);
  const timeoutMs = options.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS;
  if (path.trim() === '') throw new HilError('USAGE', 'no serial port path given', { portPath: path });
  let port: SerialPort;
  try {
    port = new SerialPort({ path, baudRate, autoOpen: false, hupcl: false, lock: true });
  } catch (err: unknown) {
    // The constructor only throws for invalid arguments.
    throw new HilError('USAGE', `${path}: ${err instanceof Error ? err.message : String(err)}`, { portPath: path }, { cause: err });
  }
  // The stream emits 'error' for failures nobody passed a callback for; unhandled it would crash.
  port.on('error', () => undefined);
  let abandoned = false;
  const opened = new Promise<void>((resolve, reject) => {
    port.open((err) => {
      if (err) {
        reject(translateOpenError(err, path));
      } else if (abandoned) {
        // The open finished after the deadline or abort: do not leak the descriptor and its lock.
        port.close(() => undefined);
      } else {
        resolve();
      }
    });
  });
  await withDeadline(
    opened,
    timeoutMs,
    () => new HilError('PORT_UNREACHABLE', `${path}: not opened within ${timeoutMs} ms`, { portPath: path, phase: 'open' }),
    options.signal,
    () => {
      abandoned = true;
    },
  );
  // Only watch nodes that exist as files (a Windows "COM3" does not); see SerialportLink's doc.
  const watchPresence = await stat(path).then(
    () => true,
    () => false,
  );
  return new SerialportLink(path, port, baudRate, watchPresence);
}

/**
 * A {@link SerialLink} over a local tty.
 *
 * Modem lines: `setSignals` always passes both DTR and RTS to `port.set()`, because serialport fills
 * omitted flags with `dtr: true, rts: true` (reference §13 pitfall 13). Ports without modem lines
 * (a pty rejects the ioctls with ENOTTY or EINVAL) are detected on the first `setSignals`: the link
 * then only remembers the requested state, silently, and {@link hasModemLines} turns false.
 *
 * Vanishing: serialport reports EIO/ENXIO reads as a disconnect ('close' with `disconnected`), but a
 * hung-up tty (USB unplug, the other end of a pty gone) returns 0-byte reads, which serialport 13
 * retries in a tight loop without ever reporting. So the link also checks every 500 ms that the
 * device node still exists; when it is gone the link closes the port (ending that loop) and reports
 * `onGone`.
 */
export class SerialportLink implements SerialLink {
  readonly url: string;
  readonly #port: SerialPort;
  readonly #listeners = new LinkListeners();
  #baudRate: number;
  #signals = { dtr: true, rts: true };
  #hasModemLines = true;
  #state: 'open' | 'closed' | 'gone' = 'open';
  #closing: Promise<void> | undefined;
  #presenceTimer: NodeJS.Timeout | undefined;

  /**
   * Wraps an already opened port; use {@link openSerialportLink}. With `watchPresence` the device
   * node at `path` is checked periodically (see the class doc).
   */
  constructor(path: string, port: SerialPort, baudRate: number, watchPresence = false) {
    this.url = path;
    this.#port = port;
    this.#baudRate = baudRate;
    port.on('data', (chunk: Buffer) => this.#listeners.data.emit(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
    port.on('close', (err: (Error & { disconnected?: boolean }) | null) => this.#onGone(err ?? undefined));
    if (watchPresence) this.#watchPresence();
  }

  get baudRate(): number {
    return this.#baudRate;
  }

  get isOpen(): boolean {
    return this.#state === 'open';
  }

  get signals(): { readonly dtr: boolean; readonly rts: boolean } {
    return { ...this.#signals };
  }

  /** False once the port turned out to have no modem lines (e.g. a pty). */
  get hasModemLines(): boolean {
    return this.#hasModemLines;
  }

  write(data: Uint8Array): Promise<void> {
    if (!this.isOpen) return Promise.reject(this.#goneError('write'));
    if (data.length === 0) return Promise.resolve();
    return writeWithCallback((done) => this.#port.write(Buffer.from(data), done), (err) => this.#goneError('write', err));
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.#listeners.onData(listener);
  }

  onGone(listener: (err: Error) => void): () => void {
    return this.#listeners.onGone(listener);
  }

  /**
   * Applies the merged DTR/RTS state with one `port.set()` (one TIOCMSET on Unix: both lines change
   * together). On a port without modem lines this only remembers the state.
   *
   * @throws HilError `LINK_GONE` when closed, gone, or the ioctl fails for another reason.
   */
  async setSignals(signals: { dtr?: boolean; rts?: boolean }): Promise<void> {
    if (!this.isOpen) throw this.#goneError('setSignals');
    const next = { dtr: signals.dtr ?? this.#signals.dtr, rts: signals.rts ?? this.#signals.rts };
    this.#signals = next;
    if (!this.#hasModemLines) return;
    try {
      await new Promise<void>((resolve, reject) => {
        this.#port.set({ dtr: next.dtr, rts: next.rts }, (err) => (err ? reject(err) : resolve()));
      });
    } catch (err: unknown) {
      if (isNoModemLinesError(err)) {
        this.#hasModemLines = false;
        return;
      }
      throw this.#goneError('setSignals', err);
    }
  }

  /**
   * Changes the rate in place with `port.update()` (no close/reopen, which could toggle the lines).
   *
   * @throws HilError `USAGE` for a rate the platform rejects, `LINK_GONE` when closed or gone.
   */
  async setBaudRate(baudRate: number): Promise<void> {
    if (!Number.isInteger(baudRate) || baudRate < 1) {
      throw new HilError('USAGE', `${this.url}: baud rate ${baudRate} is not a positive integer`, { portPath: this.url });
    }
    if (!this.isOpen) throw this.#goneError('setBaudRate');
    try {
      await new Promise<void>((resolve, reject) => {
        this.#port.update({ baudRate }, (err) => (err ? reject(err) : resolve()));
      });
    } catch (err: unknown) {
      if (err instanceof Error && /not supported/i.test(err.message)) {
        throw new HilError('USAGE', `${this.url}: baud rate ${baudRate} is not supported here`, { portPath: this.url }, { cause: err });
      }
      throw this.#goneError('setBaudRate', err);
    }
    this.#baudRate = baudRate;
  }

  /**
   * Drops received bytes not yet delivered. The OS buffers are flushed with `drain()` then `flush()`:
   * serialport's flush is `tcflush(TCIOFLUSH)`, which also discards unsent output, so pending writes
   * are drained first. A write issued while the purge runs may be lost; callers purge, then write.
   *
   * @throws HilError `LINK_GONE` when closed or gone, `TIMEOUT` when the OS does not finish in 3 s.
   */
  async purgeInput(): Promise<void> {
    if (!this.isOpen) throw this.#goneError('purgeInput');
    this.#listeners.data.clear();
    const flushed = (async (): Promise<void> => {
      await new Promise<void>((resolve, reject) => this.#port.drain((err) => (err ? reject(err) : resolve())));
      await new Promise<void>((resolve, reject) => this.#port.flush((err) => (err ? reject(err) : resolve())));
    })();
    try {
      // tcdrain can wait forever on a wedged USB bridge; the deadline keeps the caller in charge.
      await withDeadline(flushed, PURGE_TIMEOUT_MS, () => new HilError('TIMEOUT', `${this.url}: purge did not finish within ${PURGE_TIMEOUT_MS} ms`, { portPath: this.url, phase: 'purgeInput' }));
    } catch (err: unknown) {
      if (err instanceof HilError) throw err;
      throw this.#goneError('purgeInput', err);
    }
    this.#listeners.data.clear();
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const wasOpen = this.#state === 'open';
    if (wasOpen) this.#state = 'closed';
    clearInterval(this.#presenceTimer);
    this.#listeners.dispose();
    if (!wasOpen || !this.#port.isOpen) return;
    await new Promise<void>((resolve) => {
      // A close error means the descriptor is already gone; either way the link is closed.
      this.#port.close(() => resolve());
    });
  }

  #watchPresence(): void {
    let checking = false;
    this.#presenceTimer = setInterval(() => {
      if (checking) return;
      checking = true;
      stat(this.url).then(
        () => {
          checking = false;
        },
        (err: NodeJS.ErrnoException) => {
          checking = false;
          if (err.code === 'ENOENT' || err.code === 'ENODEV' || err.code === 'ENXIO') this.#onGone(err);
        },
      );
    }, PRESENCE_CHECK_MS);
    // The check must never keep a process alive on its own.
    this.#presenceTimer.unref();
  }

  /** The port closed underneath us or its node vanished: report once, and release the descriptor. */
  #onGone(cause: Error | undefined): void {
    if (this.#state !== 'open') return;
    this.#state = 'gone';
    clearInterval(this.#presenceTimer);
    const err = this.#goneError('connection', cause, cause ? `port vanished (${cause.message})` : 'port closed underneath the link');
    if (this.#port.isOpen) this.#port.close(() => undefined);
    this.#listeners.emitGone(err);
  }

  #goneError(phase: string, cause?: unknown, message?: string): HilError {
    const why = message ?? (this.#state === 'closed' ? 'link closed' : this.#state === 'gone' ? 'link gone' : 'port error');
    return new HilError('LINK_GONE', `${this.url}: ${why}`, { portPath: this.url, phase }, { cause });
  }
}

/** Translates serialport's open errors (plain messages from bindings-cpp) once, here. */
function translateOpenError(err: Error, path: string): HilError {
  const message = err.message;
  if (/cannot lock port|resource temporarily unavailable|device or resource busy|access denied/i.test(message)) {
    return new HilError('PORT_IN_USE', `${path} is already open in another process or link`, { portPath: path, phase: 'open' }, { cause: err });
  }
  if (/no such file|file not found|cannot find the file/i.test(message)) {
    return new HilError('PORT_UNREACHABLE', `${path} does not exist`, { portPath: path, phase: 'open' }, { cause: err });
  }
  return new HilError('PORT_UNREACHABLE', `${path} cannot be opened: ${message}`, { portPath: path, phase: 'open' }, { cause: err });
}

/** ENOTTY / EINVAL from TIOCMSET or TIOCCBRK: the device has no modem lines (pty, some USB CDC stacks). */
function isNoModemLinesError(err: unknown): boolean {
  return err instanceof Error && /inappropriate ioctl|invalid argument/i.test(err.message);
}
