# select — the VM's select module, with waits that block without using CPU (the WebAssembly build
# spins in poll()/select() until the timeout). Installed as sys.modules["select"].
import select as _vm
from time import ticks_add, ticks_diff, ticks_ms
import _board_hw

POLLIN = _vm.POLLIN
POLLOUT = _vm.POLLOUT
POLLERR = _vm.POLLERR
POLLHUP = _vm.POLLHUP

# Longest single wait: readiness that no serial input announces is still noticed within this time.
_SLICE_MS = 20
_INTERRUPTED = 2


def _wait_ready(check, timeout_ms):
    """Calls check() until it reports readiness or timeout_ms passes (None or negative: forever)."""
    deadline = None if timeout_ms is None or timeout_ms < 0 else ticks_add(ticks_ms(), timeout_ms)
    while not check():
        if deadline is None:
            wait = _SLICE_MS
        else:
            remaining = ticks_diff(deadline, ticks_ms())
            if remaining <= 0:
                return
            wait = min(remaining, _SLICE_MS)
        # On a keyboard interrupt the exception is pending in the VM; the loop's backward jump raises it.
        while _board_hw.wait_event(wait) == _INTERRUPTED:
            wait = 0


class _Poll:
    def __init__(self):
        self._poll = _vm.poll()

    def register(self, obj, eventmask=POLLIN | POLLOUT):
        self._poll.register(obj, eventmask)

    def unregister(self, obj):
        self._poll.unregister(obj)

    def modify(self, obj, eventmask):
        self._poll.modify(obj, eventmask)

    def poll(self, timeout=-1):
        ready = []

        def check():
            nonlocal ready
            ready = self._poll.poll(0)
            return bool(ready)

        _wait_ready(check, timeout)
        return ready

    def ipoll(self, timeout=-1, flags=0):
        _wait_ready(lambda: bool(self._poll.poll(0)), timeout)
        return self._poll.ipoll(0, flags)


def poll():
    return _Poll()


def select(rlist, wlist, xlist, timeout=None):
    ready = ([], [], [])

    def check():
        nonlocal ready
        ready = _vm.select(rlist, wlist, xlist, 0)
        return any(ready)

    _wait_ready(check, None if timeout is None else int(timeout * 1000))
    return ready
