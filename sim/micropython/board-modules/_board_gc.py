# gc — the garbage collector module with the board's heap size. Installed as sys.modules["gc"].
#
# The WebAssembly build grows its heap on demand and reports ~100 MB free; a board has a fixed heap
# (esp32 without PSRAM: ~150 KB, with PSRAM: its size). mem_alloc() is the real allocation of this VM
# since boot plus what MicroPython itself holds on a freshly booted board; mem_free() is the board's
# heap minus that, so it shrinks as programs allocate and grows back after collect().
import gc as _gc
import _board_hw

collect = _gc.collect
enable = _gc.enable
disable = _gc.disable
isenabled = _gc.isenabled
threshold = _gc.threshold

_BOOT_ALLOC = 2048  # bytes a freshly booted esp32 VM has allocated (order of magnitude)
_baseline = 0


def calibrate():
    """Called once the simulator's own modules are loaded: their memory is not the board's."""
    global _baseline
    _gc.collect()
    _baseline = _gc.mem_alloc()


def mem_alloc():
    global _baseline
    real = _gc.mem_alloc()
    if real < _baseline:
        # Simulator objects alive at calibration have since been collected.
        _baseline = real
    return real - _baseline + _BOOT_ALLOC


def mem_free():
    return max(0, _board_hw.heap_total - mem_alloc())
