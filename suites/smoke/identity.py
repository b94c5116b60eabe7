# Reports the board's identity; every fact is checked for plausibility, then recorded as a property.
import os, machine, esp, gc

u = os.uname()
assert u.sysname in ("esp32",), "unexpected sysname %r" % (u.sysname,)
print("HIL:PROP uname.machine=" + u.machine)
print("HIL:PROP uname.release=" + u.release)

version = u.version.split(" ")[0]
assert version.startswith("v") and version.count(".") >= 2, "odd firmware version %r" % (u.version,)
print("HIL:PROP firmwareVersion=" + version)

mac = machine.unique_id()
assert len(mac) == 6, "unique_id() should be the 6-byte MAC, got %d bytes" % len(mac)
print("HIL:PROP mac=" + ":".join("%02x" % b for b in mac))

flash = esp.flash_size()
assert flash in [n * 1024 * 1024 for n in (2, 4, 8, 16, 32)], "odd flash size %d" % flash
print("HIL:PROP flashSizeBytes=%d" % flash)

gc.collect()
free = gc.mem_free()
assert free > 32 * 1024, "only %d bytes of heap free" % free
print("HIL:PROP memFreeBytes=%d" % free)
print("HIL:PROP cpuFreqHz=%d" % machine.freq())
