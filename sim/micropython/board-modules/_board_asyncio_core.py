# asyncio.core — the scheduler of the board's asyncio (installed as `asyncio.core`): tasks, the
# queue of tasks ready to run, timers, I/O waits and the loop that runs them.
#
# The WebAssembly build's own asyncio hands scheduling to the browser's event loop, which a board's
# worker never returns to; this one runs the loop itself, like the esp32 port's. When nothing is
# ready it blocks in `_board_hw.wait_doorbell` until the next timer is due or something rings the
# board's doorbell (serial input, radio frames and send results, Ctrl-C): no CPU is used while idle.
#
# How a task suspends: an awaitable registers the running task somewhere (a wait list, a timer, an
# I/O wait) and then yields. A task that yields without registering anywhere runs again in the next
# round. Whatever wakes it up first removes it from every other place it was registered.
import sys
from heapq import heappop, heappush
from time import ticks_diff, ticks_ms
import _board_hw
from _board_asyncio_io import POLLIN, POLLOUT, IoWaits

# Longest single wait, ms. The loop's clock stays exact as long as it is read more often than every
# 2^29 ms (ticks_diff's range); waking up once a minute guarantees that and costs nothing.
_MAX_WAIT_MS = 60000
# Longest wait while an object whose readiness nobody announces is polled, ms.
_POLL_SLICE_MS = 20


class CancelledError(BaseException):
    pass


class TimeoutError(Exception):
    pass


# ---- clock ----

_clock_ticks = ticks_ms()
_clock_ms = 0


def _now():
    """Milliseconds on a clock that never wraps (it advances by ticks_diff at every call)."""
    global _clock_ticks, _clock_ms
    ticks = ticks_ms()
    _clock_ms += ticks_diff(ticks, _clock_ticks)
    _clock_ticks = ticks
    return _clock_ms


# ---- scheduler state (reset by new_event_loop) ----

_ready = []  # tasks to step, in order
_timers = []  # heap of (due_ms, timer_id, task); an entry is live while task._timer == timer_id
_timer_ids = 0
_io = IoWaits()
_current = None


class Task:
    """A coroutine run by the scheduler; `await task` waits for it and returns its result."""

    def __init__(self, coro):
        self.coro = coro
        self.data = None
        self._done = False
        self._result = None
        self._error = None
        # Tasks awaiting this one, and callables called with it when it finishes.
        self._waiters = []
        # Someone takes the outcome (no "Task exception wasn't retrieved").
        self._retrieved = False
        self._queued = False
        self._send = None
        self._throw = None
        self._parked = None  # the wait list holding the task
        self._timer = 0  # id of its live timer, 0 when none
        self._io = None  # the object whose readiness it waits for

    def __repr__(self):
        return "<Task>"

    def done(self):
        return self._done

    def cancel(self):
        if self._done:
            return False
        if self is _current:
            raise RuntimeError("can't cancel self")
        _unpark(self)
        self._throw = CancelledError()
        if not self._queued:
            self._queued = True
            _ready.append(self)
        return True

    def outcome(self):
        """The result of a finished task, or raises what it raised."""
        if self._error is not None:
            raise self._error
        return self._result

    def __iter__(self):
        if not self._done:
            self._retrieved = True
            yield from suspend(self._waiters)
        return self.outcome()


# ---- suspending and waking ----


def suspend(waitlist=None, delay_ms=None):
    """Awaitable: parks the running task in `waitlist` and/or until `delay_ms` passes."""
    task = _current
    if waitlist is not None:
        task._parked = waitlist
        waitlist.append(task)
    if delay_ms is not None:
        _add_timer(task, _now() + max(0, delay_ms))
    yield


def wait_io(obj, event):
    """Awaitable: parks the running task until `obj` polls ready for POLLIN or POLLOUT."""
    _park_io(obj, event)
    yield


def _park_io(obj, event):
    task = _current
    task._io = obj
    _io.add(obj, event, task)


def _add_timer(task, due_ms):
    global _timer_ids
    _timer_ids += 1
    task._timer = _timer_ids
    heappush(_timers, (due_ms, _timer_ids, task))


def _unpark(task):
    """Removes the task from every place it waits in."""
    waitlist = task._parked
    if waitlist is not None:
        task._parked = None
        for i in range(len(waitlist)):
            if waitlist[i] is task:
                waitlist.pop(i)
                break
    task._timer = 0
    if task._io is not None:
        _io.remove(task._io, task)
        task._io = None


def wake(task, value=None):
    """Makes a parked task ready; `value` is what its suspending await returns."""
    _unpark(task)
    if not task._queued:
        task._queued = True
        task._send = value
        _ready.append(task)


def wake_first(waitlist):
    """Wakes the task that has waited longest in `waitlist`; returns it (None when empty)."""
    if not waitlist:
        return None
    task = waitlist[0]
    wake(task)
    return task


def wake_all(waitlist):
    while waitlist:
        wake(waitlist[0])


# ---- running ----


def create_task(coro):
    if not hasattr(coro, "send"):
        raise TypeError("coroutine expected")
    task = Task(coro)
    task._queued = True
    _ready.append(task)
    return task


async def _await(awaitable):
    return await awaitable


def ensure_task(awaitable):
    """The awaitable itself when it is a Task, else a new task awaiting it."""
    if isinstance(awaitable, Task):
        return awaitable
    if not hasattr(awaitable, "send"):
        awaitable = _await(awaitable)
    return create_task(awaitable)


def current_task():
    if _current is None:
        raise RuntimeError("no running event loop")
    return _current


async def sleep_ms(t):
    await suspend(None, t)


async def sleep(t):
    await suspend(None, int(t * 1000))


def _step(task):
    global _current
    task._queued = False
    value = task._send
    error = task._throw
    task._send = None
    task._throw = None
    _current = task
    try:
        if error is None:
            task.coro.send(value)
        else:
            task.coro.throw(error)
    except StopIteration as stop:
        _finish(task, stop.value, None)
    except (CancelledError, Exception) as e:  # KeyboardInterrupt and SystemExit end the loop
        _finish(task, None, e)
    else:
        if task._parked is None and not task._timer and task._io is None and not task._queued:
            wake(task)  # a bare yield: run again next round
    finally:
        _current = None


def _finish(task, result, error):
    task._done = True
    task._result = result
    task._error = error
    waiters = task._waiters
    retrieved = task._retrieved or bool(waiters)
    while waiters:
        waiter = waiters.pop(0)
        if isinstance(waiter, Task):
            waiter._parked = None
            wake(waiter)
        else:
            waiter(task)
    if error is not None and not retrieved and not isinstance(error, CancelledError):
        _loop.call_exception_handler({"message": "Task exception wasn't retrieved", "exception": error, "future": task})


def _release_timers():
    """Wakes the tasks whose timers are due; drops stale entries from the top of the heap."""
    now = None
    while _timers:
        due, timer_id, task = _timers[0]
        if task._timer != timer_id:
            heappop(_timers)
            continue
        if now is None:
            now = _now()
        if due > now:
            return
        heappop(_timers)
        task._timer = 0
        wake(task)


def _wait(doorbell):
    """Blocks until the next timer is due or the doorbell rings (zero CPU)."""
    wait_ms = _MAX_WAIT_MS
    if _timers:
        wait_ms = min(wait_ms, max(0, _timers[0][0] - _now()))
    if _io.needs_slices():
        wait_ms = min(wait_ms, _POLL_SLICE_MS)
    return _board_hw.wait_doorbell(doorbell, wait_ms)


def _run(finished):
    """Runs tasks until finished() is true; KeyboardInterrupt (Ctrl-C) and SystemExit end it."""
    while not finished():
        _release_timers()
        doorbell = None if _ready else _board_hw.doorbell()
        if _io.waiting():
            _io.poll(wake)
        if not _ready:
            # A keyboard interrupt is pending in the VM: the loop's backward jump raises it. Scheduled
            # callbacks (ESP-NOW irq) run there too, before the next poll.
            _wait(doorbell)
            continue
        for _ in range(len(_ready)):
            if not _ready:
                break
            _step(_ready.pop(0))
            if finished():
                return


# ---- the event loop object ----

_stopping = False


class Loop:
    """The single event loop (get_event_loop); it holds the exception handler."""

    def __init__(self):
        self._handler = None

    def create_task(self, coro):
        return create_task(coro)

    def run_until_complete(self, awaitable):
        task = ensure_task(awaitable)
        task._retrieved = True
        _run(task.done)
        return task.outcome()

    def run_forever(self):
        global _stopping
        _stopping = False
        _run(_stop_requested)
        _stopping = False

    def stop(self):
        global _stopping
        _stopping = True

    def close(self):
        pass

    def set_exception_handler(self, handler):
        self._handler = handler

    def get_exception_handler(self):
        return self._handler

    def default_exception_handler(self, context):
        print(context["message"])
        print("future:", context["future"], "coro=", context["future"].coro)
        sys.print_exception(context["exception"])

    def call_exception_handler(self, context):
        if self._handler is None:
            self.default_exception_handler(context)
        else:
            self._handler(self, context)


def _stop_requested():
    return _stopping


_loop = Loop()


def get_event_loop(*_legacy_sizes):
    return _loop


def new_event_loop():
    """Forgets every task, timer and I/O wait (MicroPython has one loop: this resets it)."""
    global _ready, _timers, _io, _stopping
    _ready = []
    _timers = []
    _io = IoWaits()
    _stopping = False
    return _loop


def run(coro):
    return _loop.run_until_complete(create_task(coro))


class _IOQueue:
    """What stream helpers written for the esp32 port's asyncio call to wait for an object."""

    def queue_read(self, obj):
        _park_io(obj, POLLIN)

    def queue_write(self, obj):
        _park_io(obj, POLLOUT)


_io_queue = _IOQueue()
