/**
 * What the suite engine needs to know about a board it may use: identity (port path), chip, how its
 * console is reached, and how it is reset. Produced by a bench (virtual lab or physical), consumed by
 * the engine; the engine never knows which kind of bench produced it.
 */
import type { BenchUsb } from './bench-usb.ts';

export interface BoardEndpoint {
  boardId: string;
  /** USB hub port path: the board's identity. */
  portPath: string;
  chip: 'esp32' | 'esp32s3';
  /**
   * How the console is attached. `uart-bridge` boards have the DTR/RTS auto-reset circuit (EN pulse
   * = hard reset); `native` USB boards are hard-reset from their own REPL (`machine.reset()`).
   */
  usb: 'native' | 'uart-bridge';
  /** `rfc2217://host:port` or a tty path. */
  linkUrl: string;
  /** MAC the bench expects, to confirm identity; undefined when unknown. */
  expectedMac: string | undefined;
  /**
   * USB id (`vvvv:pppp`) the board enumerates as once its firmware runs, when known: `303a:4001` for a
   * native-USB S3 under MicroPython (it shows as USB-Serial-JTAG `303a:1001` while the ROM boots).
   */
  runtimeUsbId?: string;
}

/** An opened bench: its boards are ready to be connected to until `close()`. */
export interface BenchSession {
  readonly name: string;
  readonly boards: readonly BoardEndpoint[];
  /** USB topology and hub port power; undefined when the bench has no USB view. */
  readonly usb?: BenchUsb;
  close(): Promise<void>;
}
