# The runtime USB device of this suite, as source text (a vendor interface beside the built-in CDC,
# numbered from BUILTIN_CDC.itf_max / str_max): runtime_on.py runs it, install_boot_device.py writes it
# to boot.py. It stays defined in the REPL's globals for the steps after it.
HIL_DEVICE_PY = """# hil soft-reset suite: a runtime vendor interface beside the built-in CDC
import machine, struct
hil_opened = []
_u = machine.USBDevice()
_b = _u.BUILTIN_CDC
_cfg = bytearray(_b.desc_cfg) + bytes((9, 4, _b.itf_max, 0, 0, 0xFF, 0, 0, _b.str_max))
struct.pack_into("<H", _cfg, 2, len(_cfg))
_cfg[4] += 1
_u.builtin_driver = _b
_u.config(_b.desc_dev, bytes(_cfg), {_b.str_max: "HIL soft-reset"}, lambda d: hil_opened.append(bytes(d)))
_u.active(True)
"""
