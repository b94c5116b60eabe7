# asyncio — the esp32 port's asyncio (docs: "asyncio — asynchronous I/O scheduler"), installed as
# sys.modules["asyncio"] (and "uasyncio") by _board_init in place of the WebAssembly build's
# browser variant, whose tasks never run on a board. Its parts are installed as asyncio.core,
# asyncio.event, asyncio.lock and asyncio.funcs.
import _board_asyncio_core as core
import _board_asyncio_event as event
import _board_asyncio_lock as lock
import _board_asyncio_funcs as funcs
from _board_asyncio_core import (  # noqa: F401 (the module's public names)
    CancelledError,
    Loop,
    Task,
    TimeoutError,
    create_task,
    current_task,
    get_event_loop,
    new_event_loop,
    run,
    sleep,
    sleep_ms,
)
from _board_asyncio_event import Event, ThreadSafeFlag  # noqa: F401
from _board_asyncio_lock import Lock  # noqa: F401
from _board_asyncio_funcs import gather, wait_for, wait_for_ms  # noqa: F401

__version__ = (3, 0, 0)
