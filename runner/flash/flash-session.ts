/**
 * The flashing procedure, independent of the loader library: connect, compare each region by MD5,
 * skip or diff, write, verify, hard reset. `EsptoolFlasher` runs it over esptool-js; tests run it over a
 * fake loader that keeps a flash array, so skip/diff/verify logic is checked without a board.
 */
import type { ChipName } from '../firmware/esp-chips.ts';
import { HilError, isHilError, type ErrorCode } from '../errors.ts';
import type { FlashCallOptions, FlashPhase, FlashRequest, FlashResult, RegionOutcome, RegionResult } from './flasher.ts';
import { SECTOR_BYTES, findChangedRuns, md5Hex, padToWord, type ByteRun } from './sector-diff.ts';

/** Baud rates tried in order, highest first; the request's rate caps the list. */
export const BAUD_RATE_LADDER: readonly number[] = [921600, 460800, 115200];
/** Default target baud rate. */
export const DEFAULT_FLASH_BAUD_RATE = 921600;

/** What a connected loader reports. */
export interface LoaderConnection {
  /** The chip the loader detected, or null when it is not one the rig knows. */
  chip: ChipName | null;
  chipDescription: string;
  baudRate: number;
}

/** One contiguous write. */
export interface LoaderWrite {
  address: number;
  data: Uint8Array;
}

/**
 * The loader operations the procedure needs. Implementations translate their library's errors into
 * `HilError` (TIMEOUT, LINK_GONE, FLASH_PROTOCOL, FLASH_VERIFY_FAILED) themselves.
 */
export interface FlashLoader {
  /** Resets into download mode, syncs, detects the chip, starts the stub, and tries `baudRates` in order. */
  connect(baudRates: readonly number[]): Promise<LoaderConnection>;
  /** Lowercase hex MD5 of flash at `address`. */
  flashMd5(address: number, lengthBytes: number): Promise<string>;
  /**
   * Writes each run compressed and verifies each by MD5 (FLASH_VERIFY_FAILED on mismatch).
   * `onProgress(runIndex, bytesDone, bytesTotal)` reports uncompressed bytes of the current run.
   */
  write(runs: readonly LoaderWrite[], onProgress: (runIndex: number, bytesDone: number, bytesTotal: number) => void): Promise<void>;
  /** Hard-resets the chip into its firmware (EN pulse with GPIO0 released). */
  hardReset(): Promise<void>;
  /** Releases the port; the link stays open. Idempotent; never throws. */
  close(): Promise<void>;
  /** Makes pending and future operations fail (used for cancellation). */
  abort(): void;
}

/**
 * Runs one flash session. Errors from the loader are rethrown as `HilError` with the same code, a
 * message naming board, region and phase, and matching evidence.
 */
export async function runFlashSession(loader: FlashLoader, request: FlashRequest, options: FlashCallOptions = {}): Promise<FlashResult> {
  const { board } = request;
  const signal = options.signal;
  const emit = options.onProgress ?? ((): void => undefined);
  let phase: FlashPhase = 'connect';
  let region: string | null = null;
  const onAbort = (): void => loader.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const checkAborted = (): void => {
    if (signal?.aborted) throw new HilError('ABORTED', `${board.boardId}: flashing cancelled`);
  };
  let connected = false;
  let resetDone = false;
  try {
    checkAborted();
    const target = request.baudRate ?? DEFAULT_FLASH_BAUD_RATE;
    const ladder = [target, ...BAUD_RATE_LADDER.filter((b) => b < target)];
    emit({ phase, boardId: board.boardId, region, bytesDone: 0, bytesTotal: 1 });
    const connection = await loader.connect(ladder);
    connected = true;
    if (connection.chip !== board.chip) {
      throw new HilError(
        'FLASH_CHIP_MISMATCH',
        `${board.boardId}: board is configured as ${board.chip} but the loader detected ${connection.chipDescription}`,
        { boardId: board.boardId, portPath: board.portPath, phase },
      );
    }
    emit({ phase, boardId: board.boardId, region, bytesDone: 1, bytesTotal: 1, baudRate: connection.baudRate });

    const regions: RegionResult[] = [];
    for (const part of request.parts) {
      region = part.name;
      regions.push(await flashRegion(loader, request, part, signal, emit, (p) => (phase = p)));
    }

    region = null;
    phase = 'reset';
    checkAborted();
    emit({ phase, boardId: board.boardId, region, bytesDone: 0, bytesTotal: 1 });
    await loader.hardReset();
    resetDone = true;
    emit({ phase, boardId: board.boardId, region, bytesDone: 1, bytesTotal: 1 });
    return { boardId: board.boardId, chipDescription: connection.chipDescription, baudRate: connection.baudRate, regions };
  } catch (err: unknown) {
    // Leave the board running rather than parked in the loader (best effort: the link may be gone).
    if (connected && !resetDone) await loader.hardReset().catch(() => undefined);
    throw withContext(err, signal?.aborted === true, board.boardId, board.portPath, region, phase);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await loader.close();
  }
}

async function flashRegion(
  loader: FlashLoader,
  request: FlashRequest,
  part: FlashRequest['parts'][number],
  signal: AbortSignal | undefined,
  emit: NonNullable<FlashCallOptions['onProgress']>,
  setPhase: (phase: FlashPhase) => void,
): Promise<RegionResult> {
  const boardId = request.board.boardId;
  const data = padToWord(part.data);
  const localMd5 = md5Hex(data);
  const base = { boardId, region: part.name };

  setPhase('compare');
  signal?.throwIfAborted();
  emit({ ...base, phase: 'compare', bytesDone: 0, bytesTotal: data.length });
  let runs: ByteRun[] = [{ startBytes: 0, lengthBytes: data.length }];
  let outcome: RegionOutcome = 'full';
  const skipUnchanged = request.skipUnchanged ?? true;
  const diff = (request.diff ?? true) && part.offset % SECTOR_BYTES === 0;
  if (skipUnchanged || diff) {
    const boardMd5 = await loader.flashMd5(part.offset, data.length);
    if (boardMd5 === localMd5 && skipUnchanged) {
      emit({ ...base, phase: 'compare', bytesDone: data.length, bytesTotal: data.length, outcome: 'skipped' });
      return { name: part.name, offset: part.offset, sizeBytes: data.length, outcome: 'skipped', writtenBytes: 0, runs: 0, md5: localMd5 };
    }
    if (diff && boardMd5 !== localMd5) {
      const changed = await findChangedRuns(data, part.offset, (a, n) => loader.flashMd5(a, n), signal ? { signal } : {});
      const changedBytes = changed.runs.reduce((sum, r) => sum + r.lengthBytes, 0);
      // No differing block although the whole differs cannot happen on a stable flash; write it all then.
      if (changed.runs.length > 0 && changedBytes < data.length) {
        runs = changed.runs;
        outcome = 'diff';
      }
    }
  }
  emit({ ...base, phase: 'compare', bytesDone: data.length, bytesTotal: data.length, outcome });

  setPhase('write');
  signal?.throwIfAborted();
  const totalBytes = runs.reduce((sum, r) => sum + r.lengthBytes, 0);
  const runStarts: number[] = [];
  let acc = 0;
  for (const r of runs) {
    runStarts.push(acc);
    acc += r.lengthBytes;
  }
  emit({ ...base, phase: 'write', bytesDone: 0, bytesTotal: totalBytes });
  await loader.write(
    runs.map((r) => ({ address: part.offset + r.startBytes, data: data.subarray(r.startBytes, r.startBytes + r.lengthBytes) })),
    (runIndex, done) => emit({ ...base, phase: 'write', bytesDone: (runStarts[runIndex] ?? 0) + done, bytesTotal: totalBytes }),
  );
  emit({ ...base, phase: 'write', bytesDone: totalBytes, bytesTotal: totalBytes });

  setPhase('verify');
  signal?.throwIfAborted();
  const written = await loader.flashMd5(part.offset, data.length);
  if (written !== localMd5) {
    throw new HilError('FLASH_VERIFY_FAILED', `MD5 of the region on the board is ${written}, expected ${localMd5}`);
  }
  emit({ ...base, phase: 'verify', bytesDone: data.length, bytesTotal: data.length, outcome });
  return { name: part.name, offset: part.offset, sizeBytes: data.length, outcome, writtenBytes: totalBytes, runs: runs.length, md5: localMd5 };
}

function withContext(err: unknown, aborted: boolean, boardId: string, portPath: string, region: string | null, phase: FlashPhase): HilError {
  const where = region === null ? `${phase}` : `region ${region}, ${phase}`;
  const evidence = { boardId, portPath, phase, ...(region === null ? {} : { region }) };
  if (aborted) return new HilError('ABORTED', `${boardId}: flashing cancelled (${where})`, evidence, { cause: err });
  if (isHilError(err)) {
    // Chip mismatch already names the board and is bad input; keep its message as is.
    if (err.code === 'FLASH_CHIP_MISMATCH') return err;
    const code: ErrorCode = err.code;
    return new HilError(code, `${boardId} (${where}): ${err.message}`, { ...err.evidence, ...evidence }, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new HilError('FLASH_PROTOCOL', `${boardId} (${where}): ${message}`, evidence, { cause: err });
}
