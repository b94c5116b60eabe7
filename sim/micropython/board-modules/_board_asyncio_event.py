# asyncio.event — Event and ThreadSafeFlag of the board's asyncio (installed as `asyncio.event`).
import _board_asyncio_core as core
from _board_asyncio_io import POLLIN

_MP_STREAM_POLL = 3
_EINVAL = 22


class Event:
    """Wakes every waiting task when set; set() must be called from a task."""

    def __init__(self):
        self._set = False
        self._waiting = []

    def is_set(self):
        return self._set

    def set(self):
        self._set = True
        core.wake_all(self._waiting)

    def clear(self):
        self._set = False

    async def wait(self):
        if not self._set:
            await core.suspend(self._waiting)
        return True


class ThreadSafeFlag:
    """A flag that IRQ handlers and scheduled callbacks may set; one task waits for it.

    The loop polls it like a stream (readable while set). It can only be set by Python code running
    in this VM (a task, or a callback the VM schedules), which always happens before the loop
    decides to sleep, so the loop never needs to wake up just to look at it.
    """

    _BOARD_ANNOUNCED = True

    def __init__(self):
        self._flag = False

    def ioctl(self, request, flags):
        if request != _MP_STREAM_POLL:
            raise OSError(_EINVAL)
        return flags & POLLIN if self._flag else 0

    def set(self):
        self._flag = True

    def clear(self):
        self._flag = False

    async def wait(self):
        if not self._flag:
            await core.wait_io(self, POLLIN)
        self._flag = False
