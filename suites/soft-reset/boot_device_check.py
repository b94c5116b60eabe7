# After the soft reset, boot.py's runtime device is active and was opened by the host's SET_CONFIGURATION.
import machine
u = machine.USBDevice()
assert u.active(), "boot.py's runtime device is not active"
assert len(hil_boot_opened) == 1, "open_itf_cb calls: %r" % hil_boot_opened
print("HIL:PROP openedInterface=%d" % hil_boot_opened[0][2])
