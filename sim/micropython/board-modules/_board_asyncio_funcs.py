# asyncio.funcs — gather, wait_for and wait_for_ms of the board's asyncio (installed as
# `asyncio.funcs`).
import _board_asyncio_core as core


async def wait_for(awaitable, timeout):
    if timeout is None:
        return await awaitable
    return await wait_for_ms(awaitable, int(timeout * 1000))


async def wait_for_ms(awaitable, timeout):
    """Awaits `awaitable` for up to `timeout` ms; then cancels it, waits for it and raises TimeoutError."""
    task = core.ensure_task(awaitable)
    if not task.done():
        task._retrieved = True
        try:
            await core.suspend(task._waiters, timeout)
        except core.CancelledError:
            task.cancel()
            raise
    if task.done():
        return task.outcome()
    task.cancel()
    try:
        await task
    except core.CancelledError:
        if not task.done():
            raise  # this task itself was cancelled meanwhile
    except Exception:
        pass
    raise core.TimeoutError


class _Gathering:
    """The state of one gather(): wakes the gathering task when a child finishes."""

    def __init__(self, tasks, return_exceptions):
        self.tasks = tasks
        self.return_exceptions = return_exceptions
        self.waiting = []
        self.pending = 0
        self.failed = None  # the first child that raised (when exceptions are not returned)
        self.on_done = self._child_done  # one bound method, so that it can be removed again
        for task in tasks:
            if not task.done():
                self.pending += 1
                task._waiters.append(self.on_done)
            elif task._error is not None and self.failed is None:
                self.failed = task

    def _child_done(self, task):
        self.pending -= 1
        if task._error is not None and self.failed is None:
            self.failed = task
        core.wake_all(self.waiting)

    def finished(self):
        return self.pending == 0 or (self.failed is not None and not self.return_exceptions)

    def detach(self):
        for task in self.tasks:
            waiters = task._waiters
            for i in range(len(waiters)):
                if waiters[i] is self.on_done:
                    waiters.pop(i)
                    break

    def results(self):
        if not self.return_exceptions and self.failed is not None:
            raise self.failed._error
        return [task._result if task._error is None else task._error for task in self.tasks]


async def gather(*awaitables, return_exceptions=False):
    gathering = _Gathering([core.ensure_task(awaitable) for awaitable in awaitables], return_exceptions)
    try:
        while not gathering.finished():
            await core.suspend(gathering.waiting)
    except core.CancelledError:
        gathering.detach()
        for task in gathering.tasks:
            task.cancel()
        raise
    gathering.detach()
    return gathering.results()
