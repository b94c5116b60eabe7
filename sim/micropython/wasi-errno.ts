/**
 * Errno translation between the WebAssembly build and a real board.
 *
 * The emscripten C library numbers errors the WASI way (ENOENT = 44), but MicroPython on an ESP32
 * raises `OSError` with the Linux/newlib numbers that its `errno` module uses (ENOENT = 2), and host
 * tools recognise errors by those numbers and names (`OSError: [Errno 2] ENOENT`). The interpreter's
 * system-call imports are therefore wrapped so that every error code leaving JavaScript is translated.
 *
 * EINTR is the exception: the C library itself compares it (MicroPython's `MP_HAL_RETRY_SYSCALL`
 * retries and runs pending exceptions on EINTR), so it must keep the WASI value.
 *
 * Sources: WASI preview 1 `errno` enumeration (WebAssembly/WASI, `legacy/preview1/witx/typenames.witx`)
 * and Linux `include/uapi/asm-generic/errno-base.h` / `errno.h`.
 */

/** WASI errno numbers used below. */
export const WasiErrno = {
  EINTR: 27,
  ENOENT: 44,
  ENOSPC: 51,
  EAGAIN: 6,
} as const;

/** WASI errno → Linux errno, by name. Codes missing here are passed through unchanged. */
const WASI_TO_LINUX: Readonly<Record<number, number>> = {
  1: 7, // E2BIG
  2: 13, // EACCES
  3: 98, // EADDRINUSE
  4: 99, // EADDRNOTAVAIL
  5: 97, // EAFNOSUPPORT
  6: 11, // EAGAIN
  7: 114, // EALREADY
  8: 9, // EBADF
  10: 16, // EBUSY
  12: 10, // ECHILD
  13: 103, // ECONNABORTED
  14: 111, // ECONNREFUSED
  15: 104, // ECONNRESET
  16: 35, // EDEADLK
  18: 33, // EDOM
  20: 17, // EEXIST
  21: 14, // EFAULT
  22: 27, // EFBIG
  23: 113, // EHOSTUNREACH
  26: 115, // EINPROGRESS
  // 27 EINTR: kept (see module note)
  28: 22, // EINVAL
  29: 5, // EIO
  30: 106, // EISCONN
  31: 21, // EISDIR
  32: 40, // ELOOP
  33: 24, // EMFILE
  34: 31, // EMLINK
  37: 36, // ENAMETOOLONG
  41: 23, // ENFILE
  42: 105, // ENOBUFS
  43: 19, // ENODEV
  44: 2, // ENOENT
  45: 8, // ENOEXEC
  48: 12, // ENOMEM
  51: 28, // ENOSPC
  52: 38, // ENOSYS
  53: 107, // ENOTCONN
  54: 20, // ENOTDIR
  55: 39, // ENOTEMPTY
  58: 95, // ENOTSUP / EOPNOTSUPP
  59: 25, // ENOTTY
  60: 6, // ENXIO
  63: 1, // EPERM
  64: 32, // EPIPE
  68: 34, // ERANGE
  69: 30, // EROFS
  70: 29, // ESPIPE
  71: 3, // ESRCH
  73: 110, // ETIMEDOUT
  74: 26, // ETXTBSY
  75: 18, // EXDEV
};

/** Translates one WASI errno to the number a real board reports. */
export function wasiToBoardErrno(wasiErrno: number): number {
  return WASI_TO_LINUX[wasiErrno] ?? wasiErrno;
}

type ImportFunction = (...args: number[]) => number;

/**
 * Wraps the emscripten system-call imports in place so errors come out with board numbers:
 * `__syscall_*` return `-errno`, the WASI `fd_*` calls return `errno` (0 = success).
 */
export function translateSyscallErrnos(imports: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(imports)) {
    if (typeof value !== 'function') continue;
    const original = value as ImportFunction;
    if (name.startsWith('__syscall_')) {
      imports[name] = (...args: number[]) => {
        const result = original(...args);
        return result < 0 && result > -4096 ? -wasiToBoardErrno(-result) : result;
      };
    } else if (name.startsWith('fd_')) {
      imports[name] = (...args: number[]) => {
        const result = original(...args);
        return result > 0 ? wasiToBoardErrno(result) : result;
      };
    }
  }
}
