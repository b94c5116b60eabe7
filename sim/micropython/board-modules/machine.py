# machine — the part of the ESP32 port's `machine` module (ports/esp32/modmachine.c) that the
# simulated board provides. Hardware facts come from the simulator through `_board_hw`.
import _board_hw

# Reset causes, numbered as in ports/esp32/modmachine.h.
PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

# machine.USBDevice: ESP32-S2/S3 firmware from v1.24 (usbd-availability.ts); elsewhere the name does
# not exist, as on the original ESP32 and on older firmware.
if _board_hw.usbd.available:
    from _board_usbd import USBDevice  # noqa: F401

# CPU frequencies the esp32 and esp32s3 accept, in MHz (modmachine.c, mp_machine_set_freq).
_VALID_MHZ = (20, 40, 80, 160, 240)


def freq(*args):
    """freq() -> CPU frequency in Hz; freq(hz) sets it (20/40/80/160/240 MHz)."""
    if len(args) > 1:
        raise TypeError("function takes at most 1 positional argument")
    if not args:
        return _board_hw.get_freq()
    mhz = int(args[0]) // 1000000
    if mhz not in _VALID_MHZ:
        raise ValueError("frequency must be 20MHz, 40MHz, 80Mhz, 160MHz or 240MHz")
    _board_hw.set_freq(mhz * 1000000)


def unique_id():
    """The factory MAC address (6 bytes), as esp_efuse_mac_get_default() returns it."""
    return bytes.fromhex(_board_hw.mac_hex)


def reset_cause():
    return _board_hw.reset_cause


def reset():
    """Hard reset: the board restarts the chip; this call never returns."""
    _board_hw.request_reset("hard")


def bootloader(*args):
    """Reboots into the ROM download mode; never returns."""
    _board_hw.request_reset("bootloader")


def soft_reset():
    """Soft reset, as Ctrl-D at the REPL: SystemExit makes the REPL restart the VM."""
    raise SystemExit


def idle():
    # Waits for the next interrupt on hardware (at most one RTOS tick); here: give up the time slice.
    _board_hw.sleep_ms(0)


def disable_irq():
    return 0


def enable_irq(state=0):
    pass
