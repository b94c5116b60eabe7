# network — the ESP32 port's `network` module (ports/esp32/modnetwork.c, network_wlan.c) as far as
# ESP-NOW needs it: WLAN interfaces that can be activated, their MAC addresses, the radio channel,
# power-save mode and 802.11 protocol set. There is no access point in the simulated lab, so nothing
# connects. The Wi-Fi state lives in the simulator (`_board_hw.radio`): like the chip's, it survives
# soft resets.
import _board_hw

_radio = _board_hw.radio
_FIRMWARE = (_board_hw.version_major, _board_hw.version_minor, _board_hw.version_micro)

STA_IF = 0
AP_IF = 1

STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_GOT_IP = 1010

# What network_wlan.c raises for ESP-IDF's Wi-Fi errors (esp_exceptions_helper): OSError with a
# message for ESP_ERR_WIFI_*, RuntimeError with the number for others such as ESP_ERR_INVALID_ARG.
_WIFI_NOT_STARTED = "Wifi Not Started"
_WIFI_MODE = "Wifi Invalid Mode"
_WIFI_MAC = "Wifi Invalid MAC Address"
_ESP_ERR_INVALID_ARG = 0x102

_MAX_CHANNEL = 14

# ESP-IDF's WIFI_PROTOCOL_* bits (esp_wifi_types.h). The esp32 and esp32s3 have no 802.11ax, so their
# default set is b/g/n (network_wlan.c's WIFI_PROTOCOL_DEFAULT).
_PROTOCOL_DEFAULT = 0x01 | 0x02 | 0x04
_PROTOCOL_LR = 0x08


def _buffer(value):
    """The bytes of a buffer-protocol object (str included, as mp_get_buffer does)."""
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError("object with buffer protocol required")


def _as_int(value):
    """mp_obj_get_int(): an int or a bool, nothing else."""
    if isinstance(value, int):
        return int(value)
    raise TypeError("can't convert %s to int" % type(value).__name__)


def _check_channel(channel):
    if not 1 <= channel <= _MAX_CHANNEL:
        raise RuntimeError("Wifi Unknown Error 0x%04x" % _ESP_ERR_INVALID_ARG)


class WLAN:
    IF_STA = STA_IF
    IF_AP = AP_IF
    PM_NONE = 0
    PM_PERFORMANCE = 1
    PM_POWERSAVE = 2

    _interfaces = {}

    def __new__(cls, interface_id=STA_IF):
        # One object per interface, as the firmware's static wlan_sta_obj / wlan_ap_obj.
        if interface_id not in (STA_IF, AP_IF):
            raise ValueError("invalid WLAN interface identifier")
        wlan = cls._interfaces.get(interface_id)
        if wlan is None:
            wlan = object.__new__(cls)
            wlan._if = interface_id
            cls._interfaces[interface_id] = wlan
        return wlan

    def __init__(self, interface_id=STA_IF):
        pass

    def active(self, *args):
        if len(args) > 1:
            raise TypeError("function takes at most 2 positional arguments")
        if args:
            _radio.wifi_set_active(self._if, bool(args[0]))
        return _radio.wifi_active(self._if)

    def disconnect(self):
        if not _radio.wifi_started():
            raise OSError(_WIFI_NOT_STARTED)

    def isconnected(self):
        return False

    def status(self, *args):
        if args:
            raise ValueError("unknown status param")
        return STAT_IDLE if self._if == STA_IF else None

    def config(self, *args, **kwargs):
        if args and kwargs:
            raise TypeError("either pos or kw args are allowed")
        if kwargs:
            for key, value in kwargs.items():
                self._set(key, value)
            return None
        if len(args) != 1:
            raise TypeError("can query only one param")
        return self._get(args[0])

    def _get(self, name):
        if name == "mac":
            return bytes.fromhex(_radio.wifi_mac_hex(self._if))
        if name == "channel":
            return _radio.wifi_channel()
        if name == "pm":
            return _radio.wifi_pm()
        if name == "protocol" and _HAS_PROTOCOL_PARAM:
            return _radio.wifi_protocol(self._if)
        raise ValueError("unknown config param")

    def _set(self, name, value):
        if name == "mac":
            mac = _buffer(value)
            if len(mac) != 6:
                raise ValueError("invalid buffer length")
            other = bytes.fromhex(_radio.wifi_mac_hex(AP_IF if self._if == STA_IF else STA_IF))
            # esp_wifi_set_mac(): the interface must be enabled, the address unicast and unique.
            if not _radio.wifi_active(self._if):
                raise OSError(_WIFI_MODE)
            if mac[0] & 1 or mac == other:
                raise OSError(_WIFI_MAC)
            _radio.wifi_set_mac_hex(self._if, mac.hex())
        elif name == "channel":
            channel = int(value)
            if self._if == AP_IF:
                # The AP's configuration: the radio moves there while the AP is active.
                _check_channel(channel)
                _radio.wifi_set_ap_channel(channel)
                return
            # esp_wifi_set_channel(): needs a started radio and a valid channel.
            if not _radio.wifi_started():
                raise OSError(_WIFI_NOT_STARTED)
            _check_channel(channel)
            _radio.wifi_set_channel(channel)
        elif name == "pm":
            _radio.wifi_set_pm(int(value))
        elif name == "protocol" and _HAS_PROTOCOL_PARAM:
            # esp_wifi_set_protocol() takes a uint8_t bitmap: C truncates the int.
            _radio.wifi_set_protocol(self._if, _as_int(value) & 0xFF)
        else:
            raise ValueError("unknown config param")


# config(protocol=...) since v1.20; the PROTOCOL_* constants since v1.27 (added together with
# espnow's RATE_* constants for its long-range rates).
_HAS_PROTOCOL_PARAM = _FIRMWARE >= (1, 20, 0)
if _FIRMWARE >= (1, 27, 0):
    WLAN.PROTOCOL_DEFAULT = _PROTOCOL_DEFAULT
    WLAN.PROTOCOL_LR = _PROTOCOL_LR
