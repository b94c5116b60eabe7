# time — the ESP32 port's `time` module. Installed as sys.modules["time"] by _board_init.
#
# Differences from the WebAssembly build it wraps, each matching the board:
# - sleeps block without using CPU and wake up for Ctrl-C (the build busy-waits);
# - the epoch is 2000-01-01, as on every bare-metal port (MICROPY_EPOCH_IS_1970 is 0 on esp32),
#   and localtime() equals gmtime() (the board has no time zone);
# - ticks_us() has microsecond resolution (the build derives it from milliseconds).
import time as _host
import _board_hw

_EPOCH_OFFSET = 946684800  # seconds from 1970-01-01 to 2000-01-01

ticks_ms = _host.ticks_ms
ticks_add = _host.ticks_add
ticks_diff = _host.ticks_diff


def ticks_us():
    return _board_hw.ticks_us()


def ticks_cpu():
    return _board_hw.ticks_us()


def time():
    return _host.time() - _EPOCH_OFFSET


def time_ns():
    return _host.time_ns() - _EPOCH_OFFSET * 1000000000


def gmtime(secs=None):
    if secs is None:
        secs = time()
    return _host.gmtime(secs + _EPOCH_OFFSET)


localtime = gmtime


def mktime(t):
    return _host.mktime(t) - _EPOCH_OFFSET


# When the host thread raised KeyboardInterrupt during the wait, _board_hw.sleep_ms returns True and
# the exception is pending in the VM; the loop's backward jump is a VM check point that raises it.
# If nothing was pending (the interrupt had already been raised elsewhere), the sleep goes on for the
# time that is left.
def sleep_ms(ms):
    end = ticks_add(ticks_ms(), int(ms))
    while _board_hw.sleep_ms(ms):
        ms = max(0, ticks_diff(end, ticks_ms()))


def sleep(seconds):
    sleep_ms(seconds * 1000)


def sleep_us(us):
    sleep_ms(us / 1000)
