/**
 * The wire-level steps of executing code at an idle raw REPL prompt (prompt already consumed): the
 * raw-paste transfer with flow control, the classic paced transfer, and reading the result framing.
 * Follows /work/shared/reference/micropython-host-protocols.md §1.4–§1.6 (mpremote's
 * `raw_paste_write`, `exec_raw_no_follow` and `follow`, re-implemented from that description).
 */
import { HilError, isHilError } from '../errors.ts';
import type { SerialLink } from '../link/serial-link.ts';
import type { ByteReader, ReadOptions } from './byte-reader.ts';
import { escapeBytes } from './byte-text.ts';
import { sleep, type Clock } from './clock.ts';
import {
  BoardBytes,
  CLASSIC_CHUNK_BYTES,
  CLASSIC_CHUNK_PAUSE_MS,
  CTRL_A,
  CTRL_D,
  HostBytes,
} from './raw-repl-bytes.ts';

/** What one step needs: the link to write to, the reader, the clock and the step's limits. */
export interface WireContext {
  link: SerialLink;
  reader: ByteReader;
  clock: Clock;
  /** Absolute deadline on `clock` for the whole operation. */
  deadline: number;
  idleTimeoutMs?: number;
  signal?: AbortSignal;
  /** Called with every chunk written, for trace logging. */
  onWrite?: (data: Uint8Array) => void;
}

/** How the raw-paste attempt ended. `refused`/`unsupported` leave the board at an idle raw prompt. */
export type RawPasteOutcome =
  | { kind: 'sent'; windowBytes: number; endedEarly: boolean }
  | { kind: 'refused' }
  | { kind: 'unsupported' };

/** Read options for one step: the remaining part of the operation's deadline. */
export function stepOptions(ctx: WireContext, phase: string): ReadOptions {
  const options: ReadOptions = { timeoutMs: Math.max(0, ctx.deadline - ctx.clock.now()), phase };
  if (ctx.idleTimeoutMs !== undefined) options.idleTimeoutMs = ctx.idleTimeoutMs;
  if (ctx.signal !== undefined) options.signal = ctx.signal;
  return options;
}

/** Writes to the link, translating anything but a `HilError` into `LINK_GONE` (adapter contract). */
export async function writeBytes(ctx: WireContext, data: Uint8Array, phase: string): Promise<void> {
  if (ctx.signal?.aborted) {
    throw new HilError('ABORTED', `cancelled before writing (${phase})`, ctx.reader.evidence(phase), {
      cause: ctx.signal.reason,
    });
  }
  ctx.onWrite?.(data);
  try {
    await ctx.link.write(data);
  } catch (err: unknown) {
    if (err instanceof HilError) throw err;
    throw new HilError('LINK_GONE', `writing to ${ctx.link.url} failed (${phase})`, ctx.reader.evidence(phase), {
      cause: err,
    });
  }
}

function protocolError(ctx: WireContext, phase: string, message: string, got: Uint8Array): HilError {
  return new HilError('REPL_PROTOCOL', `${message}: got ${escapeBytes(got)}`, ctx.reader.evidence(phase, { got: escapeBytes(got) }));
}

/**
 * Tries raw-paste (§1.6): request, handshake, flow-controlled transfer, end-of-data and its `\x04`
 * acknowledgement. On `R\x00` (refused) the following `>` is consumed; on any other reply (old firmware
 * re-printing the banner) the rest of the banner and its `>` are consumed.
 */
/**
 * `boardMayVanish`: the code resets the board (`machine.reset()`), so a native-USB board may drop off
 * the bus before its end-of-data acknowledgement arrives; once all data is written that is success.
 */
export async function sendRawPaste(ctx: WireContext, source: Uint8Array, boardMayVanish = false): Promise<RawPasteOutcome> {
  await writeBytes(ctx, HostBytes.rawPasteRequest, 'raw-paste request');
  const reply = await ctx.reader.readExact(2, stepOptions(ctx, 'raw-paste reply'));
  if (reply[0] === BoardBytes.rawPasteRefused[0] && reply[1] === BoardBytes.rawPasteRefused[1]) {
    await ctx.reader.readUntil(BoardBytes.rawPrompt, stepOptions(ctx, 'raw-paste refused: prompt'));
    return { kind: 'refused' };
  }
  if (reply[0] !== BoardBytes.rawPasteAccepted[0] || reply[1] !== BoardBytes.rawPasteAccepted[1]) {
    await ctx.reader.readUntil(BoardBytes.rawBannerTailAndPrompt, stepOptions(ctx, 'raw-paste unsupported: banner'));
    return { kind: 'unsupported' };
  }
  const sizeBytes = await ctx.reader.readExact(2, stepOptions(ctx, 'raw-paste window size'));
  const windowBytes = (sizeBytes[0] ?? 0) | ((sizeBytes[1] ?? 0) << 8);
  if (windowBytes === 0) throw protocolError(ctx, 'raw-paste window size', 'raw-paste window of 0 bytes', sizeBytes);

  // One window now; the `\x01` that ends the handshake is read by the loop and adds the second.
  let credit = windowBytes;
  let offset = 0;
  while (offset < source.length) {
    while (credit === 0 || ctx.reader.available > 0) {
      const got = await ctx.reader.readExact(1, stepOptions(ctx, 'raw-paste flow control'));
      if (got[0] === CTRL_A) {
        credit += windowBytes;
      } else if (got[0] === CTRL_D) {
        // The board stopped early (compile error, or it saw Ctrl-C/D): acknowledge and stop sending.
        await writeBytes(ctx, HostBytes.endOfInput, 'raw-paste early end acknowledgement');
        return { kind: 'sent', windowBytes, endedEarly: true };
      } else {
        throw protocolError(ctx, 'raw-paste flow control', 'unexpected byte during raw-paste', got);
      }
    }
    const chunk = source.subarray(offset, offset + credit);
    await writeBytes(ctx, chunk, 'raw-paste data');
    offset += chunk.length;
    credit -= chunk.length;
  }
  await writeBytes(ctx, HostBytes.endOfInput, 'raw-paste end of data');
  // Stray credit bytes may precede the acknowledgement; mpremote also just reads up to the `\x04`.
  try {
    await ctx.reader.readUntil(BoardBytes.endOfPart, stepOptions(ctx, 'raw-paste end acknowledgement'));
  } catch (err: unknown) {
    if (!(boardMayVanish && isHilError(err, 'LINK_GONE'))) throw err;
  }
  return { kind: 'sent', windowBytes, endedEarly: false };
}

/** Classic raw mode (§1.4): paced 256-byte chunks, `\x04`, then exactly `OK`. */
export async function sendClassic(ctx: WireContext, source: Uint8Array): Promise<void> {
  for (let offset = 0; offset < source.length; offset += CLASSIC_CHUNK_BYTES) {
    await writeBytes(ctx, source.subarray(offset, offset + CLASSIC_CHUNK_BYTES), 'classic raw write');
    try {
      // No flow control in classic mode: the pause lets the board's 256-byte stdin buffer empty.
      await sleep(ctx.clock, CLASSIC_CHUNK_PAUSE_MS, ctx.signal);
    } catch (reason: unknown) {
      throw new HilError('ABORTED', 'cancelled during classic raw write', ctx.reader.evidence('classic raw write'), {
        cause: reason,
      });
    }
  }
  await writeBytes(ctx, HostBytes.endOfInput, 'classic raw end of input');
  const ack = await ctx.reader.readExact(2, stepOptions(ctx, 'classic raw OK'));
  if (ack[0] !== BoardBytes.ok[0] || ack[1] !== BoardBytes.ok[1]) {
    throw protocolError(ctx, 'classic raw OK', 'could not exec command (expected OK)', ack);
  }
}

/** Reads the result framing (§1.5): stdout up to `\x04`, stderr up to `\x04`. Both without the marker. */
export async function readFraming(ctx: WireContext): Promise<{ stdout: Uint8Array; stderr: Uint8Array }> {
  const stdout = await ctx.reader.readUntil(BoardBytes.endOfPart, stepOptions(ctx, 'exec: stdout'));
  const stderr = await ctx.reader.readUntil(BoardBytes.endOfPart, stepOptions(ctx, 'exec: stderr'));
  return { stdout: stdout.subarray(0, -1), stderr: stderr.subarray(0, -1) };
}
