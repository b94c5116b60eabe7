# Helpers for the usbdevice and soft-reset suites' runtime USB devices (machine.USBDevice, MicroPython
# docs "USBDevice – USB Device driver"). Run first in a test: the names stay defined in the REPL's
# globals for the scripts after it (the rig enters the raw REPL without soft-resetting between steps).
import machine
import struct


def hil_usbd():
    return machine.USBDevice()


def hil_itf(number, endpoints, cls, subclass=0, protocol=0, string=0):
    """A standard interface descriptor (USB 2.0 Table 9-12)."""
    return bytes((9, 4, number, 0, endpoints, cls, subclass, protocol, string))


def hil_ep(address, attributes, size, interval=0):
    """A standard endpoint descriptor (USB 2.0 Table 9-13)."""
    return struct.pack("<BBBBHB", 7, 5, address, attributes, size, interval)


def hil_config_with(builtin_cfg, extra, extra_interfaces):
    """The built-in configuration with `extra` appended: wTotalLength and bNumInterfaces patched (docs: desc_cfg must begin with the built-in one)."""
    cfg = bytearray(builtin_cfg) + extra
    struct.pack_into("<H", cfg, 2, len(cfg))
    cfg[4] = builtin_cfg[4] + extra_interfaces
    return bytes(cfg)


# HID 1.11 Appendix B.1: boot keyboard report descriptor.
HIL_KEYBOARD_REPORT = bytes((
    0x05, 0x01, 0x09, 0x06, 0xA1, 0x01, 0x05, 0x07, 0x19, 0xE0, 0x29, 0xE7, 0x15, 0x00, 0x25, 0x01,
    0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0x95, 0x01, 0x75, 0x08, 0x81, 0x01, 0x95, 0x05, 0x75, 0x01,
    0x05, 0x08, 0x19, 0x01, 0x29, 0x05, 0x91, 0x02, 0x95, 0x01, 0x75, 0x03, 0x91, 0x01, 0x95, 0x06,
    0x75, 0x08, 0x15, 0x00, 0x25, 0x65, 0x05, 0x07, 0x19, 0x00, 0x29, 0x65, 0x81, 0x00, 0xC0,
))

hil_opened = []


def hil_keyboard_device(builtin):
    """(desc_cfg, strings, control callback) of a boot keyboard numbered after `builtin` (itf_max/ep_max/str_max)."""
    itf, ep, string = builtin.itf_max, max(builtin.ep_max, 1), builtin.str_max
    hid = (hil_itf(itf, 1, 3, 1, 1, string)
           + struct.pack("<BBHBBBH", 9, 0x21, 0x0111, 0, 1, 0x22, len(HIL_KEYBOARD_REPORT))
           + hil_ep(0x80 | ep, 3, 8, 10))
    strings = {string: "HIL keyboard"}

    def control(stage, request):
        # GET_DESCRIPTOR(report) to the interface; SET_IDLE / SET_PROTOCOL (class requests) accepted.
        if request[0] == 0x81 and request[1] == 6 and request[3] == 0x22:
            return HIL_KEYBOARD_REPORT if stage == 1 else True
        if request[0] == 0x21 and request[1] in (0x0A, 0x0B):
            return True
        return False

    return hil_config_with(builtin.desc_cfg, hid, 1), strings, control


def hil_open(desc):
    hil_opened.append(bytes(desc))


def hil_activate_keyboard():
    u = hil_usbd()
    builtin = u.BUILTIN_CDC
    cfg, strings, control = hil_keyboard_device(builtin)
    hil_opened.clear()
    u.active(False)
    u.builtin_driver = builtin
    u.config(builtin.desc_dev, cfg, strings, hil_open, None, control)
    u.active(True)


# The vendor-specific loopback interface (class 0xFF) of vendor_on.py and builtin_none.py:
# - control: vendor OUT request 1 stores up to 64 bytes, vendor IN request 2 returns them;
# - bulk: what the host writes to the OUT endpoint comes back on the IN endpoint of the same number.
HIL_EP = 1
hil_store = bytearray(64)
hil_stored = [0]
hil_rx = bytearray(64)
hil_stats = {"control_in": 0, "control_out": 0, "bulk_in": 0, "bulk_out": 0, "bytes": 0, "resets": 0}


def hil_vendor_control(stage, request):
    kind, req, length = request[0], request[1], request[6] | (request[7] << 8)
    if kind & 0x60 != 0x40:
        return False
    if req == 1 and not kind & 0x80:
        if stage == 1:
            return memoryview(hil_store)[:length]
        if stage == 2:
            hil_stored[0] = length
            hil_stats["control_out"] += 1
        return True
    if req == 2 and kind & 0x80:
        if stage == 1:
            hil_stats["control_in"] += 1
            return bytes(hil_store[:hil_stored[0]])
        return True
    return False


def hil_vendor_open(desc):
    hil_opened.append(bytes(desc))
    hil_usbd().submit_xfer(HIL_EP, hil_rx)


def hil_vendor_xfer(ep, result, count):
    u = hil_usbd()
    if ep == HIL_EP:
        hil_stats["bulk_out"] += 1
        hil_stats["bytes"] += count
        u.submit_xfer(0x80 | HIL_EP, bytes(hil_rx[:count]))
    elif ep == 0x80 | HIL_EP:
        hil_stats["bulk_in"] += 1
        u.submit_xfer(HIL_EP, hil_rx)


def hil_vendor_reset():
    hil_stats["resets"] += 1


