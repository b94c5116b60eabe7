/**
 * The flasher over esptool-js 0.7.0: the only file that imports esptool-js, and the one place its
 * errors are translated into `HilError`. Driven through {@link SerialLinkWebSerialPort}, so the same
 * code flashes boards over RFC 2217 and local ttys. Call sequence: reference/esptool-protocol.md §B,
 * §7.1; pitfalls avoided: §13 items 12, 14, 17.
 */
import { ESPLoader, TimeoutError, Transport, type IEspLoaderTerminal } from 'esptool-js';
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

/** esptool-js's Transport with `trace()` sent to the logger instead of `console.log` (§13.17). */
class LoggingTransport extends Transport {
  readonly #log: Logger;
  constructor(device: SerialLinkWebSerialPort, log: Logger) {
    // esptool-js types the device as Web Serial's SerialPort; the shim implements the members it uses (§11.2).
    super(device as unknown as ConstructorParameters<typeof Transport>[0], false);
    this.#log = log;
  }
  override trace(message: string): void {
    this.#log.trace({ esptool: message }, 'esptool-js trace');
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
  readonly #transport: LoggingTransport;
  readonly #initialBaudRate: number;
  #loader: ESPLoader | null = null;
  #aborted = false;
  #closed = false;

  constructor(link: SerialLink, usbId: FlashRequest['usbId'], log: Logger) {
    this.#link = link;
    this.#log = log;
    this.#initialBaudRate = link.baudRate;
    this.#device = new SerialLinkWebSerialPort(link, usbId === undefined ? {} : { usbVendorId: usbId.vendorId, usbProductId: usbId.productId });
    this.#transport = new LoggingTransport(this.#device, log);
  }

  async connect(baudRates: readonly number[]): Promise<LoaderConnection> {
    const ladder = baudRates.length > 0 ? baudRates : [ROM_BAUD_RATE];
    for (let i = 0; i < ladder.length; i++) {
      const rate = ladder[i] ?? ROM_BAUD_RATE;
      // A fresh loader per rung: esptool-js keeps its target rate private, so a lower rate means a new
      // session (reset, sync, stub) — only paid when the higher rate failed.
      if (i > 0) await this.#translate(() => this.#transport.disconnect());
      const loader = new ESPLoader({
        transport: this.#transport,
        baudrate: rate,
        romBaudrate: ROM_BAUD_RATE,
        terminal: loggerTerminal(this.#log),
      });
      this.#loader = loader;
      const chipDescription = await this.#connectWithRetries(loader);
      const next = ladder[i + 1];
      // esptool-js falls back to the ROM rate by itself when the target rate does not work.
      const reached = this.#transport.baudrate;
      if (reached !== rate && next !== undefined && next > ROM_BAUD_RATE) {
        this.#log.info({ baudRate: rate, next }, 'baud rate change failed, trying a lower rate');
        continue;
      }
      const chip = CHIP_BY_ESPTOOL_NAME[loader.chip.CHIP_NAME] ?? null;
      this.#log.info({ chip: chipDescription, baudRate: reached }, 'loader connected');
      return { chip, chipDescription, baudRate: reached };
    }
    throw new HilError('FLASH_PROTOCOL', `${this.#link.url}: no baud rate worked`);
  }

  /**
   * `main()` (reset, sync, detect, stub, baud change), tried up to {@link CONNECT_ATTEMPTS} times: a
   * reply split across reads during chip detection (the ESP32 ROM repeats its "unsupported" reply,
   * reference §3.2, and esptool-js drains input after the first) fails a connect now and then.
   */
  async #connectWithRetries(loader: ESPLoader): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#translate(() => loader.main('default_reset'));
      } catch (err: unknown) {
        const retryable = isHilError(err, 'FLASH_PROTOCOL') || isHilError(err, 'TIMEOUT');
        if (!retryable || attempt >= CONNECT_ATTEMPTS || this.#aborted) throw err;
        this.#log.info({ attempt, err }, 'connect to the ROM loader failed; resetting and trying again');
        await this.#translate(() => this.#transport.disconnect()).catch(() => undefined);
      }
    }
  }

  async flashMd5(address: number, lengthBytes: number): Promise<string> {
    const loader = this.#requireLoader();
    return (await this.#translate(() => loader.flashMd5sum(address, lengthBytes))).toLowerCase();
  }

  async write(runs: readonly LoaderWrite[], onProgress: (runIndex: number, bytesDone: number, bytesTotal: number) => void): Promise<void> {
    const loader = this.#requireLoader();
    await this.#translate(() =>
      loader.writeFlash({
        fileArray: runs.map((r) => ({ address: r.address, data: r.data })),
        // `keep` leaves the bootloader header unpatched, so flash matches the file byte for byte (§9.7).
        flashMode: 'keep',
        flashFreq: 'keep',
        flashSize: 'keep',
        eraseAll: false,
        compress: true,
        // esptool-js reports compressed bytes; scale to the run's uncompressed length.
        reportProgress: (index: number, written: number, total: number) => {
          const length = runs[index]?.data.length ?? 0;
          onProgress(index, total > 0 ? Math.round((written / total) * length) : length, length);
        },
        calculateMD5Hash: (image: Uint8Array) => md5Hex(image),
      }),
    );
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
    if (message.includes('MD5 of file does not match')) return new HilError('FLASH_VERIFY_FAILED', `written run failed MD5 verification: ${message}`, {}, { cause: err });
    return new HilError('FLASH_PROTOCOL', `loader error: ${message}`, {}, { cause: err });
  }
}

/** Connect attempts (each a full reset and sync) before giving up. */
const CONNECT_ATTEMPTS = 3;

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
