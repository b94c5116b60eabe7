# Between the calls the device was inactive (submit_xfer raised EINVAL); after active(True) the host
# enumerated it again and opened the runtime interface once more.
import errno
assert hil_between["active"] is False, hil_between
assert hil_between["submit_errno"] == errno.EINVAL, hil_between
assert hil_usbd().active()
assert len(hil_opened) == 1, "open_itf_cb after reactivation: %r" % hil_opened
print("HIL:PROP inactiveSubmitErrno=%d" % hil_between["submit_errno"])
