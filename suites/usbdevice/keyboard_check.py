# After re-enumeration: the device is active and the host's SET_CONFIGURATION opened exactly the
# runtime interface (numbered from BUILTIN_CDC.itf_max), not the built-in CDC's.
u = hil_usbd()
b = u.BUILTIN_CDC
assert u.active(), "runtime device not active"
assert u.builtin_driver is b, "built-in driver changed"
assert len(hil_opened) == 1, "open_itf_cb calls: %r" % hil_opened
d = hil_opened[0]
assert d[1] == 4 and d[2] == b.itf_max and d[5] == 3, "opened %r" % d
print("HIL:PROP itf_max=%d" % b.itf_max)
print("HIL:PROP ep_max=%d" % b.ep_max)
print("HIL:PROP str_max=%d" % b.str_max)
print("HIL:PROP openedInterface=%d" % d[2])
