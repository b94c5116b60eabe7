# Installs a boot.py that brings a runtime HID keyboard up at boot (reference §2.3: mp_usbd_init runs
# after boot.py, so the runtime device is on the bus from the first enumeration after every reset).
# The board's own boot.py is kept aside as /boot_hil_saved.py; restore_boot.py puts it back.
import os

BOOT_PY = '''# hil soft-reset suite: a runtime HID keyboard beside the built-in CDC, configured at boot
import machine, struct
hil_boot_opened = []
_report = bytes((0x05, 0x01, 0x09, 0x06, 0xA1, 0x01, 0x05, 0x07, 0x19, 0xE0, 0x29, 0xE7, 0x15, 0x00, 0x25, 0x01,
    0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0x95, 0x01, 0x75, 0x08, 0x81, 0x01, 0x95, 0x06, 0x75, 0x08, 0x15, 0x00,
    0x25, 0x65, 0x05, 0x07, 0x19, 0x00, 0x29, 0x65, 0x81, 0x00, 0xC0))
_u = machine.USBDevice()
_b = _u.BUILTIN_CDC
_hid = (bytes((9, 4, _b.itf_max, 0, 1, 3, 1, 1, _b.str_max))
    + struct.pack("<BBHBBBH", 9, 0x21, 0x0111, 0, 1, 0x22, len(_report))
    + struct.pack("<BBBBHB", 7, 5, 0x80 | _b.ep_max, 3, 8, 10))
_cfg = bytearray(_b.desc_cfg) + _hid
struct.pack_into("<H", _cfg, 2, len(_cfg))
_cfg[4] += 1
def _ctrl(stage, req):
    if req[0] == 0x81 and req[1] == 6 and req[3] == 0x22:
        return _report if stage == 1 else True
    return req[0] == 0x21 and req[1] in (0x0A, 0x0B)
_u.builtin_driver = _b
_u.config(_b.desc_dev, bytes(_cfg), {_b.str_max: "HIL boot keyboard"}, lambda d: hil_boot_opened.append(bytes(d)), None, _ctrl)
_u.active(True)
'''

names = os.listdir("/")
if "boot.py" in names and "boot_hil_saved.py" not in names:
    os.rename("/boot.py", "/boot_hil_saved.py")
with open("/boot.py", "w") as f:
    f.write(BOOT_PY)
print("HIL:PROP bootPyBytes=%d" % len(BOOT_PY))
