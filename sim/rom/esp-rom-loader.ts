/**
 * The ESP serial bootloader for simulated boards: plugs into `SimBoard` as its `romLoader` and
 * speaks the ROM and flasher-stub protocol (reference esptool-protocol.md §A) in every download-mode
 * session. Stateless between sessions: the uploaded stub and any flash operation die with a reset.
 */
import type { RomLoader, RomLoaderContext, RomLoaderSession } from '../board/rom-loader.ts';
import { EspRomLoaderSession } from './esp-rom-loader-session.ts';
import { SlipDecoder } from './slip-codec.ts';

/** ROM loader for ESP32 and ESP32-S3 simulated boards. One instance may serve any number of boards. */
export class EspRomLoader implements RomLoader {
  /** Starts a session in ROM personality; it becomes the stub after a stub upload (MEM_END + OHAI). */
  start(context: RomLoaderContext): RomLoaderSession {
    return new EspRomLoaderSession(context, new SlipDecoder());
  }
}
