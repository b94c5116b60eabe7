/** Errno translation of the interpreter's system-call imports (sim/micropython/wasi-errno.ts). */
import { describe, expect, it } from 'vitest';
import { translateSyscallErrnos, wasiToBoardErrno, WasiErrno } from '../../../sim/micropython/wasi-errno.ts';

describe('errno translation', () => {
  it('maps WASI numbers to the board\'s and keeps EINTR for the C library', () => {
    expect(wasiToBoardErrno(WasiErrno.ENOENT)).toBe(2);
    expect(wasiToBoardErrno(WasiErrno.ENOSPC)).toBe(28);
    expect(wasiToBoardErrno(WasiErrno.EAGAIN)).toBe(11);
    expect(wasiToBoardErrno(WasiErrno.EINTR)).toBe(WasiErrno.EINTR);
  });

  it('wraps __syscall_* (negative errno) and fd_* (positive errno) imports only', () => {
    const imports: Record<string, unknown> = {
      __syscall_openat: () => -44,
      __syscall_getcwd: () => 12,
      fd_write: () => 51,
      fd_close: () => 0,
      mp_js_ticks_ms: () => -44,
    };
    translateSyscallErrnos(imports);
    const call = (name: string) => (imports[name] as () => number)();
    expect(call('__syscall_openat')).toBe(-2);
    expect(call('__syscall_getcwd')).toBe(12);
    expect(call('fd_write')).toBe(28);
    expect(call('fd_close')).toBe(0);
    expect(call('mp_js_ticks_ms')).toBe(-44);
  });
});
