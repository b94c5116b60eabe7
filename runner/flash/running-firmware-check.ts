/**
 * Before resetting a board into its ROM loader, ask the MicroPython it runs whether its flash already
 * holds the image: SHA-256 of each region computed on the board from `esp.flash_read` (the esp32
 * port's `esp` module). When every region matches there is nothing to flash, and the reset, sync and
 * stub upload — most of an identical re-flash — are saved. Any doubt (no REPL, no `esp.flash_read`,
 * an error) answers "no", and the flasher does its usual MD5 comparison.
 */
import { createHash } from 'node:crypto';
import type { MicroPythonRepl } from '../repl/micropython-repl.ts';
import type { FlashPart } from './flasher.ts';

export interface RunningFirmwareCheckOptions {
  /** How long to try for a raw REPL (a board without MicroPython never answers). */
  replTimeoutMs: number;
  /** Deadline of the digest computation on the board. */
  digestTimeoutMs: number;
  signal?: AbortSignal;
}

/** True when the board's flash already equals every part, as reported by its running MicroPython. */
export async function partsMatchRunningFirmware(repl: MicroPythonRepl, parts: readonly FlashPart[], options: RunningFirmwareCheckOptions): Promise<boolean> {
  const signal = options.signal ? { signal: options.signal } : {};
  try {
    await repl.enterRawRepl({ timeoutMs: options.replTimeoutMs, ...signal });
    const regions = parts.map((part) => `(${part.offset}, ${part.data.length})`).join(', ');
    const { stdout, stderr } = await repl.exec([
      'import esp, hashlib, binascii',
      'def _hil_digest(offset, n):',
      '    d = hashlib.sha256()',
      '    while n > 0:',
      '        k = 4096 if n > 4096 else n',
      '        d.update(esp.flash_read(offset, k))',
      '        offset += k',
      '        n -= k',
      '    return binascii.hexlify(d.digest()).decode()',
      `print(' '.join(_hil_digest(o, n) for o, n in [${regions}]))`,
    ].join('\n'), { timeoutMs: options.digestTimeoutMs, ...signal });
    if (stderr !== '') return false;
    const onBoard = stdout.trim().split(' ');
    return parts.length === onBoard.length && parts.every((part, i) => createHash('sha256').update(part.data).digest('hex') === onBoard[i]);
  } catch {
    return false;
  }
}
