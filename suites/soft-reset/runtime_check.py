# The runtime device is active and the host's SET_CONFIGURATION opened its interface.
import machine
assert machine.USBDevice().active(), "runtime device not active"
assert len(hil_opened) == 1, "open_itf_cb calls: %r" % hil_opened
print("HIL:PROP openedInterface=%d" % hil_opened[0][2])
