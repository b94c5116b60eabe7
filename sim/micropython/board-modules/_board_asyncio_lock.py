# asyncio.lock — Lock of the board's asyncio (installed as `asyncio.lock`).
import _board_asyncio_core as core


class Lock:
    """A lock handed to waiting tasks in the order they asked for it."""

    def __init__(self):
        self._locked = False
        self._waiting = []
        # The task release() handed the lock to, until it runs: if it is cancelled before that,
        # it passes the lock on.
        self._handed_to = None

    def locked(self):
        return self._locked

    def release(self):
        if not self._locked:
            raise RuntimeError("Lock not acquired")
        self._handed_to = core.wake_first(self._waiting)
        if self._handed_to is None:
            self._locked = False

    async def acquire(self):
        if not self._locked:
            self._locked = True
            return True
        try:
            await core.suspend(self._waiting)
        except core.CancelledError:
            if self._handed_to is core.current_task():
                self._handed_to = None
                self.release()
            raise
        self._handed_to = None
        return True

    async def __aenter__(self):
        return await self.acquire()

    async def __aexit__(self, exc_type, exc, traceback):
        self.release()
