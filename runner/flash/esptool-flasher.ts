/**
 * The flasher over esptool-js 0.7.0: the only file that imports esptool-js, and the one place its
 * errors are translated into `HilError`. Driven through {@link SerialLinkWebSerialPort}, so the same
 * code flashes boards over RFC 2217 and local ttys. Call sequence: reference/esptool-protocol.md §B,
 * §7.1; pitfalls avoided: §13 items 12, 14, 17.
 */
import { deflateSync } from 'node:zlib';
import { ESPLoader, TimeoutError, Transport, type IEspLoaderTerminal } from 'esptool-js';
import { Unzlib } from 'fflate';
import { HilError, isHilError } from '../errors.ts';
import type { ChipName } from '../firmware/esp-chips.ts';
import type { SerialLink } from '../link/serial-link.ts';
import type { Logger } from '../logger.ts';
import { runFlashSession, type FlashLoader, type LoaderConnection, type LoaderWrite } from './flash-session.ts';
import type { FlashCallOptions, FlashRequest, FlashResult, Flasher } from './flasher.ts';
import { md5Hex } from './sector-diff.ts';
import { SerialLinkWebSerialPort } from './web-serial-port.ts';

/** Rate the ROM loader talks at after reset (§7.1). */
const ROM_BAUD_RATE = 115200;

/**
 * Hard reset after flashing: DTR released (GPIO0 high), EN pulsed low for 100 ms through RTS. Used
 * instead of `after("hard_reset")`, which never pulses EN in 0.7.0 (§B.11, §13.12). Over RFC 2217 there
 * is no VID:PID, so native-USB S3 boards get this classic sequence too (§13.16).
 */
const HARD_RESET_SEQUENCE = 'D0|R1|W100|R0';

/** esptool-js `CHIP_NAME` → the rig's chip names (targets/esp32.ts, targets/esp32s3.ts). */
const CHIP_BY_ESPTOOL_NAME: Readonly<Record<string, ChipName>> = { ESP32: 'esp32', 'ESP32-S3': 'esp32s3' };

/**
 * esptool-js's Transport, with `trace()` sent to the logger instead of `console.log` (§13.17), and a
 * `read()` that waits for the link's bytes instead of polling: esptool-js checks its buffer every
 * millisecond (`sleep(1)`, 1–2 ms in Node), which is most of a command's round trip at 921600 baud.
 */
class LinkTransport extends Transport {
  readonly #log: Logger;
  readonly #waiters = new Set<() => void>();
  readonly #stopData: () => void;
  readonly #stopGone: () => void;
  /** Set when the link vanished (the board lost power, its tty went away): reads fail at once. */
  #gone: HilError | null = null;

  constructor(device: SerialLinkWebSerialPort, link: SerialLink, log: Logger) {
    // esptool-js types the device as Web Serial's SerialPort; the shim implements the members it uses (§11.2).
    super(device as unknown as ConstructorParameters<typeof Transport>[0], false);
    this.#log = log;
    this.#stopData = link.onData(() => {
      for (const wake of [...this.#waiters]) wake();
    });
    this.#stopGone = link.onGone((err) => {
      this.#gone = new HilError('LINK_GONE', `${link.url}: link vanished while flashing: ${err.message}`, { portPath: link.url }, { cause: err });
      for (const wake of [...this.#waiters]) wake();
    });
  }

  override trace(message: string): void {
    this.#log.trace({ esptool: message }, 'esptool-js trace');
  }

  override async read(timeout: number): Promise<Uint8Array> {
    if (this.inWaiting() === 0) await this.#bytesArrive(timeout);
    if (this.#gone !== null && this.inWaiting() === 0) throw this.#gone;
    // Nothing within the timeout: esptool-js's own read then fails at once with its usual error.
    return super.read(this.inWaiting() === 0 ? 0 : timeout);
  }

  /** Stops listening to the link. */
  dispose(): void {
    this.#stopData();
    this.#stopGone();
    for (const wake of [...this.#waiters]) wake();
  }

  /** Resolves once esptool-js's read loop has buffered bytes from the link, or after `timeoutMs`. */
  async #bytesArrive(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inWaiting() === 0 && this.#gone === null && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
        this.#waiters.add(done);
      });
      // The link's bytes reach esptool-js's buffer through its stream reader a few microtasks later.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

/** Collects esptool-js's terminal output into the logger, one log record per line. */
function loggerTerminal(log: Logger): IEspLoaderTerminal {
  let partial = '';
  return {
    clean: () => undefined,
    writeLine: (line: string) => {
      log.debug({ esptool: partial + line }, 'esptool-js');
      partial = '';
    },
    write: (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) log.debug({ esptool: line }, 'esptool-js');
    },
  };
}

/** A {@link FlashLoader} over esptool-js. One instance per session. */
class EsptoolFlashLoader implements FlashLoader {
  readonly #link: SerialLink;
  readonly #log: Logger;
  readonly #device: SerialLinkWebSerialPort;
  readonly #transport: LinkTransport;
  readonly #initialBaudRate: number;
  #loader: ESPLoader | null = null;
  #aborted = false;
  #closed = false;

  constructor(link: SerialLink, usbId: FlashRequest['usbId'], log: Logger) {
    this.#link = link;
    this.#log = log;
    this.#initialBaudRate = link.baudRate;
    this.#device = new SerialLinkWebSerialPort(link, usbId === undefined ? {} : { usbVendorId: usbId.vendorId, usbProductId: usbId.productId });
    this.#transport = new LinkTransport(this.#device, link, log);
  }

  async connect(baudRates: readonly number[]): Promise<LoaderConnection> {
    const ladder = baudRates.length > 0 ? baudRates : [ROM_BAUD_RATE];
    for (let i = 0; i < ladder.length; i++) {
      const rate = ladder[i] ?? ROM_BAUD_RATE;
      // A fresh loader per rung: a rate the board cannot keep means a new session (reset, sync, stub),
      // only paid when the higher rate failed.
      if (i > 0) await this.#translate(() => this.#transport.disconnect());
      const loader = new ESPLoader({
        transport: this.#transport,
        baudrate: rate,
        romBaudrate: ROM_BAUD_RATE,
        terminal: loggerTerminal(this.#log),
      });
      this.#loader = loader;
      await this.#connectWithRetries(loader);
      const next = ladder[i + 1];
      if (rate !== ROM_BAUD_RATE && !(await this.#translate(() => this.#romChangeBaud(loader, rate)))) {
        if (next !== undefined) {
          this.#log.info({ baudRate: rate, next }, 'baud rate change failed, trying a lower rate');
          continue;
        }
        throw new HilError('FLASH_PROTOCOL', `${this.#link.url}: the ROM loader stopped answering at ${rate} baud`);
      }
      const chipDescription = await this.#translate(() => this.#startStub(loader));
      const chip = CHIP_BY_ESPTOOL_NAME[loader.chip.CHIP_NAME] ?? null;
      const reached = this.#transport.baudrate;
      this.#log.info({ chip: chipDescription, baudRate: reached }, 'loader connected');
      return { chip, chipDescription, baudRate: reached };
    }
    throw new HilError('FLASH_PROTOCOL', `${this.#link.url}: no baud rate worked`);
  }

  /**
   * Reset, sync and chip detection, tried up to {@link CONNECT_ATTEMPTS} times (each a full reset).
   * Detection reads the magic register first: the ESP32 ROM has no GET_SECURITY_INFO and answers it
   * with eight error replies that esptool-js drains for 100–400 ms (reference §3.2), so it is only
   * asked of chips that have it (where it also reveals Secure Download Mode).
   */
  async #connectWithRetries(loader: ESPLoader): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#translate(async () => {
          await loader.connect('default_reset', SYNC_ATTEMPTS, false);
          await detectChip(loader, this.#transport);
        });
        return;
      } catch (err: unknown) {
        const retryable = isHilError(err, 'FLASH_PROTOCOL') || isHilError(err, 'TIMEOUT');
        if (!retryable || attempt >= CONNECT_ATTEMPTS || this.#aborted) throw err;
        this.#log.info({ attempt, err }, 'connect to the ROM loader failed; resetting and trying again');
        await this.#translate(() => this.#transport.disconnect()).catch(() => undefined);
      }
    }
  }

  /**
   * Raises the rate while still talking to the ROM (CHANGE_BAUDRATE with old rate 0, §4.5), so the
   * stub is uploaded at the target rate rather than 115200. The ROM answers at the old rate and then
   * switches; the host follows, lets the line settle, and checks the chip still answers.
   * Returns false when it does not (the caller falls back to a lower rate).
   */
  async #romChangeBaud(loader: ESPLoader, rate: number): Promise<boolean> {
    await loader.checkCommand('change baud rate', loader.ESP_CHANGE_BAUDRATE, words(rate, 0));
    await this.#transport.changeBaudrate(rate);
    await sleep(BAUD_SETTLE_MS);
    this.#transport.flushInput();
    for (let probe = 0; probe < 2; probe++) {
      try {
        await loader.readReg(loader.CHIP_DETECT_MAGIC_REG_ADDR, BAUD_PROBE_TIMEOUT_MS);
        return true;
      } catch (err: unknown) {
        this.#log.debug({ err, rate }, 'no answer after the baud change');
        this.#transport.flushInput();
      }
    }
    return false;
  }

  /** Uploads and starts the stub, then reads the chip description and checks the flash chip answers. */
  async #startStub(loader: ESPLoader): Promise<string> {
    // Chip-specific setup esptool-js's main() does before the stub (ESP32-S3 on USB-OTG: smaller RAM blocks).
    await loader.chip.postConnect?.(loader);
    await loader.runStub();
    const description = await loader.chip.getChipDescription(loader);
    const flashId = await loader.readFlashId();
    if (flashId === 0xffffff || flashId === 0) {
      throw new HilError('FLASH_PROTOCOL', `the chip's SPI flash does not answer (flash id 0x${flashId.toString(16)})`);
    }
    return description;
  }

  async flashMd5(address: number, lengthBytes: number): Promise<string> {
    const loader = this.#requireLoader();
    return (await this.#translate(() => loader.flashMd5sum(address, lengthBytes))).toLowerCase();
  }

  /**
   * Writes each run with FLASH_DEFL_BEGIN / DATA / END and checks its MD5. The loop is ours rather than
   * esptool-js's `writeFlash`, which compresses in JavaScript and inflates every block again one byte
   * at a time (pako with `chunkSize: 1`) to size its timeouts — ~20 ms per 16 KiB block, 10% of the
   * wire time at 921600 baud. Here zlib compresses natively and fflate counts the inflated bytes.
   */
  async write(runs: readonly LoaderWrite[], onProgress: (runIndex: number, bytesDone: number, bytesTotal: number) => void): Promise<void> {
    const loader = this.#requireLoader();
    for (let index = 0; index < runs.length; index++) {
      const run = runs[index]!;
      await this.#translate(() => writeDeflated(loader, run, (done) => onProgress(index, done, run.data.length)));
      const boardMd5 = (await this.#translate(() => loader.flashMd5sum(run.address, run.data.length))).toLowerCase();
      const localMd5 = md5Hex(run.data);
      if (boardMd5 !== localMd5) {
        throw new HilError('FLASH_VERIFY_FAILED', `written run at 0x${run.address.toString(16)} (${run.data.length} B) has MD5 ${boardMd5} on the board, expected ${localMd5}`);
      }
    }
  }

  async hardReset(): Promise<void> {
    const loader = this.#requireLoader();
    // The ROM boots at 115200 (or whatever the REPL used): switch the link back before the reset so the
    // boot banner is readable.
    await this.#restoreBaudRate();
    await this.#translate(() => loader.after('custom_reset', undefined, HARD_RESET_SEQUENCE));
  }

  abort(): void {
    this.#aborted = true;
    // Closing the device ends esptool-js's read loop, so a pending command fails at its next read.
    void this.#device.close();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#transport.disconnect();
    } catch (err: unknown) {
      this.#log.debug({ err }, 'esptool-js disconnect failed');
    }
    this.#transport.dispose();
    await this.#device.close();
    await this.#restoreBaudRate().catch(() => undefined);
  }

  async #restoreBaudRate(): Promise<void> {
    if (this.#link.isOpen && this.#link.baudRate !== this.#initialBaudRate) await this.#link.setBaudRate(this.#initialBaudRate);
  }

  #requireLoader(): ESPLoader {
    if (this.#loader === null) throw new HilError('FLASH_PROTOCOL', 'loader used before connect');
    return this.#loader;
  }

  /** Runs an esptool-js call and translates its errors, once, into the catalogue. */
  async #translate<T>(call: () => Promise<T>): Promise<T> {
    if (this.#aborted) throw new HilError('ABORTED', `${this.#link.url}: flashing cancelled`);
    try {
      return await call();
    } catch (err: unknown) {
      throw this.#translateError(err);
    }
  }

  #translateError(err: unknown): HilError {
    if (isHilError(err)) return err;
    const message = err instanceof Error ? err.message : String(err);
    if (this.#aborted) return new HilError('ABORTED', `${this.#link.url}: flashing cancelled`, {}, { cause: err });
    if (!this.#link.isOpen) return new HilError('LINK_GONE', `${this.#link.url}: link closed while flashing (${message})`, {}, { cause: err });
    if (err instanceof TimeoutError) return new HilError('TIMEOUT', `board stopped answering the loader: ${message}`, {}, { cause: err });
    // esptool-js's ESPError carries no code; these two messages are its only connect and verify failures.
    if (message.includes('Failed to connect')) return new HilError('TIMEOUT', `board did not enter download mode: ${message}`, {}, { cause: err });
    if (message.includes('Serial data stream stopped') || message.includes('No serial data received')) {
      return new HilError('TIMEOUT', `board stopped answering the loader: ${message}`, {}, { cause: err });
    }
    return new HilError('FLASH_PROTOCOL', `loader error: ${message}`, {}, { cause: err });
  }
}

/** Connect attempts (each a full reset and sync) before giving up. */
const CONNECT_ATTEMPTS = 3;
/** Reset-and-sync rounds inside one esptool-js connect (its default is 7). */
const SYNC_ATTEMPTS = 7;
/** Pause after the host follows a baud change, for bytes garbled by the switch to arrive and be dropped. */
const BAUD_SETTLE_MS = 20;
/** Per-probe timeout of the register read that confirms the chip answers at the new rate. */
const BAUD_PROBE_TIMEOUT_MS = 500;
/** Quiet time that ends the drain of leftover SYNC replies (8 replies take ~10 ms at 115200 baud). */
const SYNC_DRAIN_QUIET_MS = 20;
/** Longest drain of leftover SYNC replies. */
const SYNC_DRAIN_MAX_MS = 200;
/** Smallest per-block timeout, as esptool (3 s). */
const MIN_BLOCK_TIMEOUT_MS = 3000;

/**
 * esptool-js 0.7.0 members that its typings mark private; used for chip detection only. The version is
 * pinned in package.json, and the integration tests exercise both chips through these calls.
 */
interface EsptoolDetection {
  chipFromMagicValue(): Promise<ESPLoader['chip'] & { USES_MAGIC_VALUE?: boolean }>;
  identifyChip(): Promise<ESPLoader['chip']>;
  applyDetectedChip(chip: ESPLoader['chip']): void;
}

/**
 * Detects the chip: the magic register first; chips identified by it alone (ESP32) are done, the others
 * are asked GET_SECURITY_INFO as esptool does (chip id, Secure Download Mode).
 */
async function detectChip(loader: ESPLoader, transport: Transport): Promise<void> {
  const internals = loader as unknown as EsptoolDetection;
  // The ROM answers every SYNC eight times and esptool-js may have sent more than one: let the
  // remaining replies arrive and drop them, or the next command reads one as its answer.
  await transport.drainInput(SYNC_DRAIN_QUIET_MS, SYNC_DRAIN_MAX_MS);
  try {
    const byMagic = await internals.chipFromMagicValue();
    if (byMagic.USES_MAGIC_VALUE === true && byMagic.CHIP_NAME === 'ESP32') {
      internals.applyDetectedChip(byMagic);
      return;
    }
  } catch {
    // Unknown magic or a register read refused (Secure Download Mode): GET_SECURITY_INFO decides.
  }
  internals.applyDetectedChip(await internals.identifyChip());
}

/** One compressed write session: begin, 16 KiB blocks each acknowledged, end. */
async function writeDeflated(loader: ESPLoader, run: LoaderWrite, onProgress: (bytesDone: number) => void): Promise<void> {
  const compressed = deflateSync(run.data, { level: 9 });
  const blockBytes = loader.FLASH_WRITE_SIZE;
  const blocks = await loader.flashDeflBegin(run.data.length, compressed.length, run.address);
  let inflatedBytes = 0;
  const inflater = new Unzlib((chunk) => {
    inflatedBytes += chunk.length;
  });
  // The stub acknowledges a block on receipt and writes it while the next arrives, so a block's
  // acknowledgement can wait for the previous block's flash write: its timeout follows that block's size.
  let timeoutMs = loader.DEFAULT_TIMEOUT;
  onProgress(0);
  for (let seq = 0; seq < blocks; seq++) {
    const block = compressed.subarray(seq * blockBytes, (seq + 1) * blockBytes);
    const before = inflatedBytes;
    inflater.push(block, seq === blocks - 1);
    const blockTimeoutMs = Math.max(MIN_BLOCK_TIMEOUT_MS, loader.timeoutPerMb(loader.ERASE_WRITE_TIMEOUT_PER_MB, inflatedBytes - before));
    if (!loader.IS_STUB) timeoutMs = blockTimeoutMs; // the ROM writes before acknowledging
    await loader.flashDeflBlock(block, seq, timeoutMs);
    if (loader.IS_STUB) timeoutMs = blockTimeoutMs;
    onProgress(Math.min(run.data.length, inflatedBytes));
  }
  if (loader.IS_STUB) await loader.flashDeflFinish(false, timeoutMs);
}

/** Little-endian 32-bit words, as the loader protocol encodes command arguments. */
function words(...values: number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setUint32(i * 4, v >>> 0, true));
  return bytes;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Options of {@link EsptoolFlasher}. */
export interface EsptoolFlasherOptions {
  /** Child logger (per board); esptool-js output goes here at `debug`, wire traces at `trace`. */
  logger: Logger;
}

/**
 * {@link Flasher} over esptool-js: resets the board into its ROM loader, uploads the stub, raises the
 * baud rate (921600 → 460800 → 115200), skips regions whose MD5 already matches, writes only changed
 * sectors of the others (compressed, each run MD5-verified), verifies every region by MD5, and
 * hard-resets into the new firmware. The link is left open at its original baud rate.
 */
export class EsptoolFlasher implements Flasher {
  readonly #log: Logger;

  constructor(options: EsptoolFlasherOptions) {
    this.#log = options.logger;
  }

  async flash(request: FlashRequest, options: FlashCallOptions = {}): Promise<FlashResult> {
    const log = this.#log.child({ boardId: request.board.boardId });
    const loader = new EsptoolFlashLoader(request.link, request.usbId, log);
    return runFlashSession(loader, request, options);
  }
}
