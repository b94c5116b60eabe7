# The I/O waits of the board's asyncio loop: which tasks wait for which object to become readable
# or writable, and the non-blocking readiness check the loop makes before it sleeps.
#
# Objects written in Python (ThreadSafeFlag, AIOESPNow, io.IOBase subclasses) report readiness from
# their stream `ioctl(MP_STREAM_POLL, flags)` method, called directly; native streams (sys.stdin)
# go through the VM's select.poll with a zero timeout.
#
# The loop sleeps until the board's doorbell rings: serial input, radio frames and ESP-NOW send
# results ring it. An object whose readiness changes only then, or only from Python code in this VM
# (which runs before the loop sleeps again), says so with a true `_BOARD_ANNOUNCED` attribute; stdin
# is such an object too. For any other object the loop wakes every few milliseconds to poll again.
import sys
import select

POLLIN = select.POLLIN
POLLOUT = select.POLLOUT
_POLL_ERROR = select.POLLERR | select.POLLHUP
_MP_STREAM_POLL = 3


def _announced(obj):
    if getattr(obj, "_BOARD_ANNOUNCED", False):
        return True
    stdin = sys.stdin
    return obj is stdin or obj is getattr(stdin, "buffer", None)


def _remove(tasks, task):
    for i in range(len(tasks)):
        if tasks[i] is task:
            tasks.pop(i)
            return


class _Entry:
    """The tasks waiting for one object."""

    def __init__(self, obj):
        self.readers = []
        self.writers = []
        self.announced = _announced(obj)
        ioctl = getattr(obj, "ioctl", None)
        self.ioctl = ioctl if callable(ioctl) else None

    def mask(self):
        return (POLLIN if self.readers else 0) | (POLLOUT if self.writers else 0)

    def readiness(self):
        """Poll flags of a Python object; errors and negative results count as POLLERR."""
        try:
            flags = self.ioctl(_MP_STREAM_POLL, self.mask())
        except Exception:  # the reader or writer meets the error when it uses the object
            return _POLL_ERROR
        return _POLL_ERROR if flags < 0 else flags


class IoWaits:
    def __init__(self):
        self._entries = {}
        self._poller = None  # select.poll of the native objects, created on first use
        self._native = 0
        self._unannounced = 0

    def waiting(self):
        return bool(self._entries)

    def needs_slices(self):
        """Some waited-for object may become ready without the doorbell ringing."""
        return self._unannounced > 0

    def add(self, obj, event, task):
        entry = self._entries.get(obj)
        if entry is None:
            entry = _Entry(obj)
            self._entries[obj] = entry
            if not entry.announced:
                self._unannounced += 1
            if entry.ioctl is None:
                self._native += 1
        (entry.readers if event == POLLIN else entry.writers).append(task)
        if entry.ioctl is None:
            if self._poller is None:
                self._poller = select.poll()
            self._poller.register(obj, entry.mask())  # registering again updates the mask

    def remove(self, obj, task):
        entry = self._entries.get(obj)
        if entry is None:
            return
        _remove(entry.readers, task)
        _remove(entry.writers, task)
        mask = entry.mask()
        if mask:
            if entry.ioctl is None:
                self._poller.modify(obj, mask)
            return
        del self._entries[obj]
        if not entry.announced:
            self._unannounced -= 1
        if entry.ioctl is None:
            self._native -= 1
            self._poller.unregister(obj)

    def poll(self, wake):
        """Wakes (with wake(task)) every task whose object is ready now; never blocks."""
        native = {}
        if self._native:
            for ready in self._poller.poll(0):
                native[ready[0]] = ready[1]
        for obj, entry in list(self._entries.items()):
            flags = native.get(obj, 0) if entry.ioctl is None else entry.readiness()
            if flags & _POLL_ERROR:
                flags |= POLLIN | POLLOUT
            if flags & POLLIN:
                for task in entry.readers[:]:
                    wake(task)
            if flags & POLLOUT:
                for task in entry.writers[:]:
                    wake(task)
