# esp — the part of the ESP32 port's `esp` module (ports/esp32/modesp.c) the simulated board provides.
import _board_hw
import binascii

# ESP-IDF log levels accepted by osdebug() (esp_log_level_t).
LOG_NONE = 0
LOG_ERROR = 1
LOG_WARNING = 2
LOG_INFO = 3
LOG_DEBUG = 4
LOG_VERBOSE = 5


def osdebug(uart, level=LOG_ERROR):
    """Accepted for compatibility; the simulator has no ESP-IDF log output to redirect."""
    if uart is not None:
        int(uart)
    int(level)


def flash_size():
    """Size of the SPI flash chip in bytes."""
    return _board_hw.flash_size


def flash_read(offset, length_or_buffer):
    """Reads SPI flash at byte `offset`: returns `length` bytes, or fills the given buffer (as modesp.c)."""
    length = length_or_buffer if isinstance(length_or_buffer, int) else len(length_or_buffer)
    data = _board_hw.flash_read_hex(offset, length)
    if data is None:
        raise OSError(22)  # EINVAL: outside the flash (ESP_ERR_INVALID_ARG)
    data = binascii.unhexlify(data)
    if isinstance(length_or_buffer, int):
        return data
    length_or_buffer[:] = data
