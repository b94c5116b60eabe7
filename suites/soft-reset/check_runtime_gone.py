# After the soft reset the runtime device is gone: a fresh singleton, inactive (MicroPython docs: soft
# reset clears runtime interfaces; the built-in CDC is what the host sees again).
import machine
u = machine.USBDevice()
assert not u.active(), "runtime device survived the soft reset"
print("HIL:PROP activeAfterReset=%s" % u.active())
