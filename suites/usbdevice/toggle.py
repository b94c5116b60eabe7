# active(False) then active(True) — the documented way to simulate unplugging and replugging. While
# deactivated the whole device is off the bus ("it will not be detected by the USB Host"), the REPL's
# CDC port included, so both calls happen in this one script; what the device did in between is kept
# in globals for toggle_check.py.
import errno
u = hil_usbd()
assert u.active()
u.active(False)
hil_between = {"active": u.active(), "submit_errno": 0}
try:
    u.submit_xfer(0x81, b"x")
except OSError as e:
    hil_between["submit_errno"] = e.errno
hil_opened.clear()
u.active(True)
