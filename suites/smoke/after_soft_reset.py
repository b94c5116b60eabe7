# After a soft reset the VM is fresh (RAM state gone) but the filesystem keeps its files.
import machine, os

assert "hil_marker" not in globals(), "RAM state survived a soft reset"
assert machine.reset_cause() == machine.SOFT_RESET, "reset_cause() is %r, expected SOFT_RESET" % machine.reset_cause()
with open("/hil_reset_marker.txt") as f:
    assert f.read() == "survives soft reset"
os.remove("/hil_reset_marker.txt")
