# _board_usbd — `machine.USBDevice` of the esp32 port on ESP32-S2/S3 (extmod/machine_usb_device.c and
# shared/tinyusb/mp_usbd_runtime.c), over the simulated board's USB device stack (`_board_hw.usbd`).
# `machine` imports it only where the firmware has the class (usbd-availability.ts).
#
# Behaviour follows micropython-host-protocols.md §8 and the C sources: non-buffer descriptors are
# ValueError("desc_dev"/"desc_cfg"), a non-subscriptable desc_strs ValueError("desc_strs"); config()
# does not look at `active` (new descriptors reach the host at the next activation); OSError(EINVAL)
# from submit_xfer/stall while inactive, from activating with neither config() nor a built-in driver,
# and from setting builtin_driver while active. Callbacks run as scheduled callbacks; what they raise
# is printed (as the port prints exceptions pended in USB callbacks) and the transfer goes on or stalls.
import _board_hw
import json
import micropython
import sys

_usbd = _board_hw.usbd

_EINVAL = 22
_DIR_IN = 0x80
# CFG_TUD_ENDPPOINT_MAX of TinyUSB's DWC2 port on ESP32-S2/S3 (7 endpoints, EP0 included).
_ENDPOINTS = 7
# MICROPY_HW_USB_DESC_STR_MAX: string descriptors are cut to this many characters.
_STR_MAX_CHARS = 40
# MP_USBD_MAX_PEND_EXCS: exceptions printed per batch of callbacks; further ones are only counted.
_MAX_PRINTED_EXCEPTIONS = 5


class _Builtin:
    """A BUILTIN_* constant: read-only facts of a set of built-in drivers."""

    def __init__(self, name, itf_max, ep_max, str_max, desc_dev, desc_cfg):
        self._facts = (name, itf_max, ep_max, str_max, desc_dev, desc_cfg)

    itf_max = property(lambda self: self._facts[1])
    ep_max = property(lambda self: self._facts[2])
    str_max = property(lambda self: self._facts[3])
    desc_dev = property(lambda self: self._facts[4])
    desc_cfg = property(lambda self: self._facts[5])

    def __repr__(self):
        return "<class '" + self._facts[0] + "'>"


_BUILTIN_DESC_DEV = bytes.fromhex(_usbd.builtin_desc_dev_hex)
# No built-in driver (machine_usb_device.c): no interfaces or endpoints, string index 0 (languages)
# only, an empty configuration, and the built-in device descriptor (micropython-lib copies bcdUSB,
# bMaxPacketSize0, VID and PID from it). Runtime endpoint numbers therefore start at max(ep_max, 1).
_NONE = _Builtin("BUILTIN_NONE", 0, 0, 1, _BUILTIN_DESC_DEV, b"")
# Any builtin_driver other than BUILTIN_NONE counts as the built-in CDC (mp_usb_device_builtin_enabled).
_CDC = _Builtin(
    "BUILTIN_DEFAULT",
    _usbd.builtin_itf_max,
    _usbd.builtin_ep_max,
    _usbd.builtin_str_max,
    _BUILTIN_DESC_DEV,
    bytes.fromhex(_usbd.builtin_desc_cfg_hex),
)

_singleton = None


def _buffer_hex(value, name):
    try:
        return bytes(memoryview(value)).hex()
    except TypeError:
        raise ValueError(name)


def _readable(value):
    """The bytes of a buffer-protocol object (TypeError otherwise, as mp_get_buffer_raise)."""
    return bytes(memoryview(value))


def _writable(value):
    """Checks that `value` is a writable buffer; returns its size in bytes."""
    if isinstance(value, (bytes, str)):
        raise TypeError("object with buffer protocol required")
    view = memoryview(value)
    if len(view):
        try:
            view[0] = view[0]
        except TypeError:
            raise TypeError("object with buffer protocol required")
    return len(bytes(view))


def _is_writable(value):
    try:
        _writable(value)
        return True
    except TypeError:
        return False


def _is_readable(value):
    if isinstance(value, bool) or value is None:
        return False
    try:
        memoryview(value)
        return True
    except TypeError:
        return False


def _int(value):
    if not isinstance(value, int):
        raise TypeError("can't convert " + type(value).__name__ + " to int")
    return value


class _Exceptions:
    """Prints what callbacks raise, at most _MAX_PRINTED_EXCEPTIONS per batch (mp_usbd_task_inner)."""

    def __init__(self):
        self.count = 0

    def report(self, e):
        self.count += 1
        if self.count <= _MAX_PRINTED_EXCEPTIONS:
            sys.print_exception(e)

    def finish(self):
        if self.count > _MAX_PRINTED_EXCEPTIONS:
            print("%u additional exceptions in USB callbacks" % (self.count - _MAX_PRINTED_EXCEPTIONS))
        self.count = 0


_exceptions = _Exceptions()


def _call(fn, *args):
    """A Python callback from the USB stack: the exception is reported, the result None."""
    if not callable(fn):
        return None
    try:
        return fn(*args)
    except BaseException as e:  # noqa: B036 (the port pends and prints every exception of a USB callback)
        _exceptions.report(e)
        return None


def _string_text(value):
    """A string descriptor's text as the firmware sends it: the bytes up to a NUL, at most 40, one
    character each."""
    if isinstance(value, str):
        data = value.encode()
    else:
        data = _readable(value)
    end = data.find(b"\x00")
    if end >= 0:
        data = data[:end]
    return "".join(chr(b) for b in data[:_STR_MAX_CHARS])


def _string(strs, index):
    try:
        value = strs[index]
        return None if value is None else _string_text(value)
    except (KeyError, IndexError):
        return None
    except Exception as e:  # noqa: B036 (mp_usbd_runtime_string_cb pends anything else)
        _exceptions.report(e)
        return None


def _strings_json(strs):
    """desc_strs resolved for indexes 0…255 (index 0, the languages, is always null: English)."""
    texts = [None] * 256
    if strs is not None:
        if isinstance(strs, (list, tuple)):
            indexes = range(1, min(len(strs), 256))
        elif isinstance(strs, dict):
            indexes = [k for k in strs if isinstance(k, int) and 1 <= k <= 255]
        else:
            indexes = range(1, 256)
        for index in indexes:
            texts[index] = _string(strs, index)
        _exceptions.finish()
    return json.dumps(texts)


def _schedule_events():
    # Called by the USB stack from inside a _board_hw call: straight-line code only (no VM check point).
    micropython.schedule(_run_events, None)


def _run_events(_arg):
    """The scheduled trampoline: one callback per event the USB stack received meanwhile."""
    try:
        while True:
            event = _usbd.take_event()
            if event is None:
                return
            device = _singleton
            if device is not None:
                device._event(event)
    finally:
        _usbd.irq_done()
        _exceptions.finish()


class USBDevice:
    BUILTIN_NONE = _NONE
    BUILTIN_DEFAULT = _CDC
    BUILTIN_CDC = _CDC

    def __new__(cls):
        global _singleton
        if _singleton is None:
            device = object.__new__(cls)
            device._desc_dev = None
            device._desc_cfg = None
            device._desc_strs = None
            device._open_itf_cb = None
            device._reset_cb = None
            device._control_xfer_cb = None
            device._xfer_cb = None
            device._builtin = _NONE
            device._xfers = {}  # endpoint -> buffer of its pending transfer
            device._controls = {}  # control transfer id -> buffer given at its SETUP stage
            _singleton = device
            _usbd.create(_schedule_events)
        return _singleton

    @property
    def builtin_driver(self):
        return self._builtin

    @builtin_driver.setter
    def builtin_driver(self, value):
        if _usbd.active():
            raise OSError(_EINVAL)  # deactivate first
        self._builtin = value

    def config(self, desc_dev, desc_cfg, desc_strs=None, open_itf_cb=None, reset_cb=None, control_xfer_cb=None, xfer_cb=None):
        _buffer_hex(desc_dev, "desc_dev")
        _buffer_hex(desc_cfg, "desc_cfg")
        if desc_strs is not None:
            try:
                desc_strs[0]
            except TypeError:
                raise ValueError("desc_strs")
            except Exception:  # noqa: B036 (subscriptable: what index 0 holds does not matter here)
                pass
        self._desc_dev = desc_dev
        self._desc_cfg = desc_cfg
        self._desc_strs = desc_strs
        self._open_itf_cb = open_itf_cb
        self._reset_cb = reset_cb
        self._control_xfer_cb = control_xfer_cb
        self._xfer_cb = xfer_cb

    def active(self, *args):
        if len(args) > 1:
            raise TypeError("function expected at most 2 arguments, got %d" % (len(args) + 1))
        was = _usbd.active()
        if args and bool(args[0]) != was:
            builtin = "none" if self._builtin is _NONE else "cdc"
            self._xfers = {}
            self._controls = {}
            if args[0]:
                if builtin == "none" and self._desc_dev is None:
                    raise OSError(_EINVAL)  # neither config() nor a built-in driver
                if self._desc_dev is None:
                    _usbd.activate(builtin, None, None, None)
                else:
                    _usbd.activate(
                        builtin,
                        _buffer_hex(self._desc_dev, "desc_dev"),
                        _buffer_hex(self._desc_cfg, "desc_cfg"),
                        _strings_json(self._desc_strs),
                    )
            else:
                _usbd.deactivate()
        return was

    def submit_xfer(self, ep, buffer):
        if not _usbd.active():
            raise OSError(_EINVAL)
        ep = _int(ep)
        if ep & _DIR_IN:
            data = _readable(buffer)
        else:
            size = _writable(buffer)
        number = ep & 0x7F
        if number == 0 or number >= _ENDPOINTS:
            raise ValueError("ep")
        if ep & _DIR_IN:
            queued = _usbd.submit_in(ep, data.hex())
        else:
            queued = _usbd.submit_out(ep, size)
        if queued:
            self._xfers[ep & 0x8F] = buffer
        return queued

    def stall(self, ep, *args):
        if len(args) > 1:
            raise TypeError("function expected at most 3 arguments, got %d" % (len(args) + 2))
        ep = _int(ep)
        if not _usbd.active():
            raise OSError(_EINVAL)
        was = _usbd.stalled(ep)
        if args:
            _usbd.set_stall(ep, bool(args[0]))
        return was

    def remote_wakeup(self):
        # The lab's USB host never suspends the bus, so there is no host to wake (tud_remote_wakeup()
        # fails unless suspended with remote wakeup enabled).
        return False

    # ---- events of the USB stack, from the trampoline ----

    def _event(self, event):
        kind = event.kind
        if kind == "xfer":
            self._xfer_complete(event)
        elif kind == "control":
            self._control(event)
        elif kind == "configured":
            if event.configured:
                self._open_interfaces(json.loads(event.itfs_json))
        elif kind == "bus-reset":
            self._xfers = {}
            self._controls = {}
            _call(self._reset_cb)

    def _open_interfaces(self, spans):
        cb = self._open_itf_cb
        if not callable(cb):
            return
        view = memoryview(self._desc_cfg)
        for offset, length in spans:
            _call(cb, view[offset : offset + length])

    def _xfer_complete(self, event):
        ep = event.endpoint
        buffer = self._xfers.pop(ep & 0x8F, None)
        if event.data_hex is not None and buffer is not None:
            data = bytes.fromhex(event.data_hex)
            memoryview(buffer)[: len(data)] = data
        _call(self._xfer_cb, ep, 0, event.length)

    def _control(self, event):
        setup = bytes.fromhex(event.setup_hex)
        stage = event.stage
        ident = event.id
        direction_in = setup[0] & _DIR_IN
        if stage == 2 and not direction_in and event.data_hex is not None:
            buffer = self._controls.get(ident)
            if buffer is not None:
                data = bytes.fromhex(event.data_hex)
                memoryview(buffer)[: len(data)] = data
        # No callback, or one that raised, gives None: the transfer stalls.
        result = _call(self._control_xfer_cb, stage, memoryview(setup))
        # A buffer (readable for IN, writable for OUT) is queued for the data stage; anything else
        # continues the transfer when true and stalls it when false (runtime_dev_control_xfer_cb).
        if _is_readable(result) if direction_in else _is_writable(result):
            if stage == 1:
                self._controls[ident] = result
                w_length = setup[6] | setup[7] << 8
                if direction_in:
                    _usbd.control_reply(ident, stage, "data", _readable(result)[:w_length].hex(), 0)
                else:
                    _usbd.control_reply(ident, stage, "data", None, min(_writable(result), w_length))
                return
            go_on = True
        else:
            go_on = bool(result)
        _usbd.control_reply(ident, stage, "continue" if go_on else "stall", None, 0)
        if stage == 3 or not go_on:
            self._controls.pop(ident, None)
