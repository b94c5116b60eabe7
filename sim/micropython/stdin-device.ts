/**
 * Makes the VM's `sys.stdin` (file descriptor 0, an emscripten device) read the board's receive
 * buffer: reads block on `Atomics.wait` until the serial host sends something (no CPU while waiting),
 * and a keyboard interrupt raised by the host thread ends the wait with EINTR, on which MicroPython's
 * `MP_HAL_RETRY_SYSCALL` runs `mp_handle_pending()` and raises the pending `KeyboardInterrupt`
 * inside the read — the same place a real board raises it (micropython-host-protocols.md §1.7).
 */
import { POLLIN, POLLOUT, type EmscriptenFs } from './emscripten-fs.ts';
import type { InputRing } from './input-ring.ts';
import { WasiErrno } from './wasi-errno.ts';

/**
 * Replaces the read and poll operations of the VM's stdin device.
 * @param beforeBlock runs before each blocking wait (flush console output, persist files)
 */
export function installBlockingStdin(fs: EmscriptenFs, ring: InputRing, beforeBlock: () => void): void {
  const stream = fs.getStream(0);
  if (stream === null) throw new Error('the VM has no stdin stream');
  const ops = stream.stream_ops;
  ops.read = (_stream, buffer, offset, length) => {
    if (length === 0) return 0;
    let blocked = false;
    for (;;) {
      const count = ring.read(buffer, offset, length);
      if (count > 0) return count;
      if (ring.takeInterrupt()) throw new fs.ErrnoError(WasiErrno.EINTR);
      const bell = ring.doorbell();
      if (ring.available() > 0) continue;
      if (ring.takeInterrupt()) throw new fs.ErrnoError(WasiErrno.EINTR);
      if (!blocked) beforeBlock();
      blocked = true;
      ring.waitDoorbell(bell);
    }
  };
  ops.poll = () => (ring.available() > 0 ? POLLIN : 0) | POLLOUT;
}
