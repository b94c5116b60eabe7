/**
 * The fixed bytes of MicroPython's raw REPL and raw-paste protocols, as the host sees them.
 *
 * Source: micropython/micropython `shared/runtime/pyexec.c` (board side) and
 * `tools/mpremote/mpremote/transport_serial.py` (host side); MicroPython docs "Raw mode and raw-paste
 * mode" (https://docs.micropython.org/en/latest/reference/repl.html). Summarised in
 * /work/shared/reference/micropython-host-protocols.md §1.1–§1.6 and §2.1.
 */
import { utf8 } from './byte-text.ts';

export const CTRL_A = 0x01;
export const CTRL_B = 0x02;
export const CTRL_C = 0x03;
export const CTRL_D = 0x04;
export const CTRL_E = 0x05;

/** Host → board sequences. */
export const HostBytes = {
  /** CR then Ctrl-C: interrupts a running program (§1.3 step 1). */
  interrupt: Uint8Array.of(0x0d, CTRL_C),
  /** CR then Ctrl-A: enter (or re-announce) the raw REPL (§1.3 step 3). */
  enterRaw: Uint8Array.of(0x0d, CTRL_A),
  /** CR then Ctrl-B: leave the raw REPL for the friendly one (§1.3 "Leaving"). */
  exitRaw: Uint8Array.of(0x0d, CTRL_B),
  /** Ctrl-D: ends input in raw mode; on an empty line it soft-resets (§1.1, §2.1). */
  endOfInput: Uint8Array.of(CTRL_D),
  /** Ctrl-E `A` Ctrl-A: raw-paste request (§1.6). */
  rawPasteRequest: Uint8Array.of(CTRL_E, 0x41, CTRL_A),
} as const;

/** Board → host strings. */
export const BoardBytes = {
  /** Raw REPL banner (§1.2); the one-byte prompt `>` follows it. */
  rawBanner: utf8('raw REPL; CTRL-B to exit\r\n'),
  /** Raw banner plus the prompt: what the host waits for to be at an idle raw prompt. */
  rawBannerAndPrompt: utf8('raw REPL; CTRL-B to exit\r\n>'),
  /**
   * The raw banner and prompt minus its first two bytes: when old firmware answers a raw-paste request
   * with the banner, the host has already read `ra` as the "reply" (§1.6).
   */
  rawBannerTailAndPrompt: utf8('w REPL; CTRL-B to exit\r\n>'),
  /** The raw prompt (§1.2). */
  rawPrompt: utf8('>'),
  /** Friendly prompt (§1.2). */
  friendlyPrompt: utf8('>>> '),
  /** Command acknowledgement in classic raw mode (§1.4). */
  ok: utf8('OK'),
  /** Acknowledgement of an empty-line Ctrl-D before a soft reset (§2.1). */
  okBeforeSoftReset: utf8('OK\r\n'),
  /** The end of the soft-reset notice; mpremote waits for just this part (§1.3 step 4.3). */
  softRebootTail: utf8('soft reboot\r\n'),
  /** Raw-paste accepted: `R\x01`, then u16 LE window size, then `\x01` (§1.6). */
  rawPasteAccepted: Uint8Array.of(0x52, 0x01),
  /** Raw-paste refused: `R\x00`, then `>` (§1.6). */
  rawPasteRefused: Uint8Array.of(0x52, 0x00),
  /** End-of-part marker in the result framing (§1.5) and raw-paste acknowledgements (§1.6). */
  endOfPart: Uint8Array.of(CTRL_D),
} as const;

/** Classic raw mode write pacing (§1.4, §4): 256-byte chunks, 10 ms apart. */
export const CLASSIC_CHUNK_BYTES = 256;
export const CLASSIC_CHUNK_PAUSE_MS = 10;

/** mpremote's per-step default (§4): 10 s. */
export const DEFAULT_TIMEOUT_MS = 10_000;
