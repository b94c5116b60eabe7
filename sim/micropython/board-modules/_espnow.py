# _espnow — the esp32 port's native ESP-NOW module (ports/esp32/modespnow.c) together with the part
# of ESP-IDF's esp_now component it stands on (peer list, keys, limits, error codes), over the
# simulated radio (`_board_hw.radio`). The `espnow` module builds `ESPNow` on top of `ESPNowBase`.
#
# Behaviour follows micropython-host-protocols.md §7: ESP-IDF errors are OSError(-code, name);
# argument errors are ValueError/TypeError; received packets wait in a ring buffer of `rxbuf` bytes
# (packets that do not fit are dropped, counted, and still acknowledged to the sender); `irq`
# callbacks go through micropython.schedule; `peers_table` changes only when a message is read.
import _board_hw
import io
import micropython
from time import ticks_add, ticks_diff, ticks_ms

_MP_STREAM_POLL = 3
_EINVAL = 22

_radio = _board_hw.radio

MAX_DATA_LEN = 250
ADDR_LEN = 6
KEY_LEN = 16
MAX_TOTAL_PEER_NUM = 20
MAX_ENCRYPT_PEER_NUM = 6

# wifi_phy_rate_t names for config(rate=...), added in v1.27 (with network.WLAN.PROTOCOL_LR for the
# long-range ones); earlier firmware takes the same numbers but has no names for them.
if (_board_hw.version_major, _board_hw.version_minor, _board_hw.version_micro) >= (1, 27, 0):
    RATE_1M = 0x00
    RATE_2M = 0x01
    RATE_5M = 0x02
    RATE_11M = 0x03
    RATE_6M = 0x0B
    RATE_12M = 0x0A
    RATE_24M = 0x09
    RATE_54M = 0x0C
    RATE_LORA_250K = 0x29
    RATE_LORA_500K = 0x2A

# esp_err_t values (ESP_ERR_ESPNOW_BASE = 0x3064) and their esp_err_to_name() strings.
_NOT_INIT = 0x3065
_ARG = 0x3066
_FULL = 0x3068
_NOT_FOUND = 0x3069
_EXIST = 0x306B
_IF = 0x306C
_CHAN = 0x306D
_ERROR_NAMES = {
    0x3065: "ESP_ERR_ESPNOW_NOT_INIT",
    0x3066: "ESP_ERR_ESPNOW_ARG",
    0x3067: "ESP_ERR_ESPNOW_NO_MEM",
    0x3068: "ESP_ERR_ESPNOW_FULL",
    0x3069: "ESP_ERR_ESPNOW_NOT_FOUND",
    0x306A: "ESP_ERR_ESPNOW_INTERNAL",
    0x306B: "ESP_ERR_ESPNOW_EXIST",
    0x306C: "ESP_ERR_ESPNOW_IF",
    0x306D: "ESP_ERR_ESPNOW_CHAN",
}
_ETIMEDOUT = 110
_ENOENT = 2

# network.WLAN.IF_STA / IF_AP (a peer's ifidx).
_STA = 0
_AP = 1

# Two full-size packets: 2 x (14-byte header + MAX_DATA_LEN).
_DEFAULT_RXBUF = 2 * (14 + MAX_DATA_LEN)
_DEFAULT_TIMEOUT_MS = 5 * 60 * 1000
# The firmware gives up waiting for send callbacks after 100 ms, a limit never reached on hardware
# (they arrive within a millisecond). Here the answers come from the host thread, whose event loop
# may be busy for a while, so the limit is longer.
_RESPONSES_TIMEOUT_MS = 1000
_MAX_CHANNEL = 14
_ZERO_KEY = bytes(KEY_LEN)

# _board_hw wait outcomes (board-runtime.ts WaitOutcome).
_WAIT_TIMEOUT = 0
_WAIT_EVENT = 1

# Peer record fields (esp_now_peer_info_t).
_MAC = 0
_LMK = 1
_CHANNEL = 2
_IFIDX = 3
_ENCRYPT = 4


def _raise(code):
    raise OSError(-code, _ERROR_NAMES[code])


def _buffer(value):
    """The bytes of a buffer-protocol object (str included, as mp_get_buffer does)."""
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError("object with buffer protocol required")


def _peer_address(mac):
    """A 6-byte address, or None for a false value (send: "all peers")."""
    if not mac:
        return None
    address = _buffer(mac)
    if len(address) != ADDR_LEN:
        raise ValueError("invalid buffer length")
    return address


def _is_group(address):
    return address[0] & 1 == 1


class _Singleton:
    """State of the ESPNow singleton (cleared by a soft reset, which starts a fresh VM)."""

    def __init__(self):
        self.rxbuf = _DEFAULT_RXBUF
        self.timeout_ms = _DEFAULT_TIMEOUT_MS
        self.peers_table = {}
        self.table_keys = {}  # address -> the bytes object used as peers_table key
        self.peers = []  # registration order, as esp_now_fetch_peer walks them
        self.pmk = _ZERO_KEY
        self.irq = None
        self.irq_arg = None
        self.filled = []  # bytearrays recvinto shortened (their capacity is still MAX_DATA_LEN)


_state = None


def _singleton():
    global _state
    if _state is None:
        _state = _Singleton()
    return _state


def _require_active():
    if not _radio.espnow_active():
        _raise(_NOT_INIT)


def _find(address):
    for peer in _singleton().peers:
        if peer[_MAC] == address:
            return peer
    return None


def _counts():
    peers = _singleton().peers
    return len(peers), sum(1 for peer in peers if peer[_ENCRYPT])


def _apply_peer_args(peer, lmk, channel, ifidx, encrypt):
    """Fills a peer record from add_peer/mod_peer arguments (None keeps the current value)."""
    if lmk is not None:
        peer[_ENCRYPT] = bool(lmk)
        if peer[_ENCRYPT]:
            key = _buffer(lmk)
            if len(key) != KEY_LEN:
                raise ValueError("invalid buffer length")
            peer[_LMK] = key
    if channel is not None:
        peer[_CHANNEL] = int(channel)
    if ifidx is not None:
        peer[_IFIDX] = int(ifidx)
    if encrypt is not None:
        peer[_ENCRYPT] = bool(encrypt)


def _check_peer(peer):
    """esp_now_add_peer()/esp_now_mod_peer() argument checks."""
    if not 0 <= peer[_CHANNEL] <= _MAX_CHANNEL or peer[_IFIDX] not in (0, 1):
        _raise(_ARG)
    if peer[_ENCRYPT] and _is_group(peer[_MAC]):
        _raise(_ARG)  # broadcast and multicast peers cannot be encrypted


def _peer_tuple(peer):
    return (peer[_MAC], peer[_LMK], peer[_CHANNEL], peer[_IFIDX], peer[_ENCRYPT])


def _publish_keys():
    """Tells the radio the PMK and the registered peers (with their LMK when encrypted)."""
    state = _singleton()
    peers = ",".join(p[_MAC].hex() + ":" + (p[_LMK].hex() if p[_ENCRYPT] else "") for p in state.peers)
    _radio.espnow_set_keys(state.pmk.hex(), peers)


def _deinit():
    """esp_now_deinit(): all peers gone, receive buffer and irq callback dropped."""
    state = _singleton()
    _radio.espnow_deinit()
    state.peers = []
    state.pmk = _ZERO_KEY
    state.irq = None
    state.irq_arg = None


def _schedule_irq():
    # Called by the radio from inside a _board_hw call: straight-line code only. A jump would be a VM
    # check point, where a pending KeyboardInterrupt or callback would run nested in that call.
    micropython.schedule(_run_irq, None)


def _run_irq(_arg):
    """The scheduled trampoline: the irq callback once for each packet received meanwhile."""
    for _ in range(_radio.espnow_irq_take()):
        state = _state
        if state is None or state.irq is None:
            return
        state.irq(state.irq_arg)


def _wait_responses():
    """Waits until every frame sent so far has its answer (OSError(ETIMEDOUT) after the limit)."""
    deadline = ticks_add(ticks_ms(), _RESPONSES_TIMEOUT_MS)
    while True:
        outcome = _radio.espnow_wait_responses(max(0, ticks_diff(deadline, ticks_ms())))
        if outcome == _WAIT_EVENT:
            return
        if outcome == _WAIT_TIMEOUT:
            raise OSError(_ETIMEDOUT)
        # Interrupted: KeyboardInterrupt is pending and this backward jump raises it.


def _next_packet(timeout_ms):
    """The oldest buffered packet, waiting up to timeout_ms (< 0: forever); None on timeout."""
    packet = _radio.espnow_take()
    if packet is not None or timeout_ms == 0:
        return packet
    deadline = None if timeout_ms < 0 else ticks_add(ticks_ms(), timeout_ms)
    while packet is None:
        # Each pass is a VM check point: scheduled irq callbacks run and Ctrl-C is raised here.
        _radio.espnow_poll_irq()
        wait = -1
        if deadline is not None:
            wait = ticks_diff(deadline, ticks_ms())
            if wait <= 0:
                return None
        _radio.espnow_wait_packet(wait)
        packet = _radio.espnow_take()
    return packet


def _message_buffer(state, msg):
    """Checks recvinto's message buffer: MAX_DATA_LEN bytes of writable storage."""
    if isinstance(msg, bytearray):
        if len(msg) == MAX_DATA_LEN:
            return
        for filled in state.filled:
            if filled is msg:
                return
        raise ValueError("invalid buffer length")
    if isinstance(msg, memoryview):
        if len(msg) != MAX_DATA_LEN:
            raise ValueError("invalid buffer length")
        return
    raise TypeError("object with buffer protocol required")


def _store_message(state, msg, payload):
    if isinstance(msg, bytearray):
        # The firmware shortens the bytearray to the message and keeps its capacity.
        msg[:] = payload
        if not any(filled is msg for filled in state.filled):
            state.filled = ([msg] + state.filled)[:4]
    else:
        msg[: len(payload)] = payload


def _table_key(state, address, rssi, time_ms):
    """Updates peers_table for a message that is being read; returns the table's key object."""
    key = state.table_keys.get(address)
    if key is None:
        key = address
        state.table_keys[address] = key
        state.peers_table[key] = [rssi, time_ms]
    else:
        entry = state.peers_table[key]
        entry[0] = rssi
        entry[1] = time_ms
    return key


class ESPNowBase(io.IOBase):
    def __init__(self):
        _singleton()

    def ioctl(self, request, flags):
        """Stream poll (§7.1), so select.poll and asyncio can wait on it: readable while a packet is
        buffered, writable while no sent packet awaits its answer; nothing while inactive."""
        if request != _MP_STREAM_POLL:
            raise OSError(_EINVAL)
        return _board_hw.radio.espnow_poll() & flags

    @property
    def peers_table(self):
        return _singleton().peers_table

    def active(self, *args):
        if len(args) > 1:
            raise TypeError("function takes at most 2 positional arguments")
        if args:
            if args[0]:
                if not _radio.espnow_active():
                    _radio.espnow_init(_singleton().rxbuf)
                    _publish_keys()
            elif _radio.espnow_active():
                _deinit()
        return _radio.espnow_active()

    def config(self, param=None, *, rxbuf=-1, timeout_ms=None, rate=-1):
        state = _singleton()
        if rxbuf >= 0:
            state.rxbuf = int(rxbuf)  # used by the next active(True)
        if timeout_ms is not None:
            state.timeout_ms = int(timeout_ms)
        if rate >= 0:
            # esp_wifi_config_espnow_rate() for each interface the Wi-Fi mode includes; no mode at all
            # (no active interface) is OSError(ENOENT).
            modes = [i for i in (_STA, _AP) if _radio.wifi_active(i)]
            if not modes:
                raise OSError(_ENOENT)
            for i in modes:
                _radio.wifi_set_espnow_rate(i, rate)
        if param is None:
            return None
        if param == "rxbuf":
            return state.rxbuf
        if param == "timeout_ms":
            return state.timeout_ms
        raise ValueError("unknown config param")

    def irq(self, callback, arg=None):
        if callback is not None and not callable(callback):
            raise ValueError("invalid handler")
        state = _singleton()
        state.irq = callback
        state.irq_arg = arg
        _radio.espnow_set_irq(None if callback is None else _schedule_irq)

    def stats(self):
        return tuple(int(n) for n in _radio.espnow_stats().split(","))

    def recvinto(self, data, timeout_ms=None):
        _require_active()
        state = _singleton()
        _radio.espnow_poll_irq()
        timeout_ms = state.timeout_ms if timeout_ms is None else int(timeout_ms)
        if not isinstance(data, list) or len(data) < 2:
            raise ValueError("ESPNow.recvinto(): Invalid argument")
        msg = data[1]
        _message_buffer(state, msg)
        packet = _next_packet(timeout_ms)
        if packet is None:
            return 0
        payload = bytes.fromhex(packet.msg_hex)
        _store_message(state, msg, payload)
        time_ms = ticks_add(ticks_ms(), -packet.age_ms)
        rssi = packet.rssi
        data[0] = _table_key(state, bytes.fromhex(packet.src_hex), rssi, time_ms)
        if len(data) >= 4:
            data[2] = rssi
            data[3] = time_ms
        return len(payload)

    def any(self):
        _require_active()
        _radio.espnow_poll_irq()
        return _radio.espnow_any()

    def send(self, *args, **kwargs):
        if kwargs:
            raise TypeError("function doesn't take keyword arguments")
        if not 1 <= len(args) <= 3:
            raise TypeError("function expected 1 to 3 positional arguments")
        _require_active()
        _radio.espnow_poll_irq()
        address = _peer_address(args[0]) if len(args) > 1 else None
        message = _buffer(args[1] if len(args) > 1 else args[0])
        sync = len(args) < 3 or args[2] is None or bool(args[2])
        if sync:
            _wait_responses()
        failures = _radio.espnow_failures()
        for peer in _route(address, message):
            _radio.espnow_send(peer[_IFIDX], peer[_MAC].hex(), message.hex(), peer[_ENCRYPT])
        if sync:
            _wait_responses()
        return not (sync and _radio.espnow_failures() != failures)

    def set_pmk(self, pmk):
        key = _buffer(pmk)
        if len(key) != KEY_LEN:
            raise ValueError("invalid buffer length")
        _require_active()
        _singleton().pmk = key
        _publish_keys()

    def add_peer(self, mac, lmk=None, channel=None, ifidx=None, encrypt=None):
        address = _peer_address(mac)
        peer = [address, _ZERO_KEY, 0, 0, False]
        _apply_peer_args(peer, lmk, channel, ifidx, encrypt)
        _require_active()
        if address is None:
            _raise(_ARG)
        _check_peer(peer)
        if _find(address) is not None:
            _raise(_EXIST)
        total, encrypted = _counts()
        if total >= MAX_TOTAL_PEER_NUM or (peer[_ENCRYPT] and encrypted >= MAX_ENCRYPT_PEER_NUM):
            _raise(_FULL)
        _singleton().peers.append(peer)
        _publish_keys()

    def mod_peer(self, mac, lmk=None, channel=None, ifidx=None, encrypt=None):
        address = _peer_address(mac)
        _require_active()
        current = _find(address) if address is not None else None
        if current is None:
            _raise(_NOT_FOUND)
        peer = list(current)
        _apply_peer_args(peer, lmk, channel, ifidx, encrypt)
        _check_peer(peer)
        if peer[_ENCRYPT] and not current[_ENCRYPT] and _counts()[1] >= MAX_ENCRYPT_PEER_NUM:
            _raise(_FULL)
        current[:] = peer
        _publish_keys()

    def del_peer(self, mac):
        address = _peer_address(mac)
        _require_active()
        peer = _find(address) if address is not None else None
        if peer is None:
            _raise(_NOT_FOUND)
        _singleton().peers.remove(peer)
        _publish_keys()

    def get_peer(self, mac):
        address = _peer_address(mac)
        _require_active()
        peer = _find(address) if address is not None else None
        if peer is None:
            _raise(_NOT_FOUND)
        return _peer_tuple(peer)

    def get_peers(self):
        _require_active()
        return tuple(_peer_tuple(p) for p in _singleton().peers if not _is_group(p[_MAC]))

    def peer_count(self):
        _require_active()
        return _counts()


def _route(address, message):
    """esp_now_send() checks: the peers a message goes to, or OSError."""
    if not message or len(message) > MAX_DATA_LEN:
        _raise(_ARG)
    if address is None:
        targets = [p for p in _singleton().peers if not _is_group(p[_MAC])]
        if not targets:
            _raise(_NOT_FOUND)
    else:
        peer = _find(address)
        if peer is None:
            _raise(_NOT_FOUND)
        targets = [peer]
    for peer in targets:
        if not _radio.wifi_active(peer[_IFIDX]):
            _raise(_IF)
        if peer[_CHANNEL] and peer[_CHANNEL] != _radio.wifi_channel():
            _raise(_CHAN)
    return targets
