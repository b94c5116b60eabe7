# espnow — the esp32 port's `espnow` module: everything `_espnow` provides, plus the `ESPNow` class
# with the receive conveniences the firmware's frozen module adds (micropython-host-protocols.md §7.4).
from _espnow import *  # noqa: F401,F403 (re-exports the constants and ESPNowBase)
from _espnow import ESPNowBase, MAX_DATA_LEN


class ESPNow(ESPNowBase):
    # irecv() returns this very list every time, overwritten by each receive (allocation-free);
    # recv() reads into it too and returns copies.
    _received = [None, bytearray(MAX_DATA_LEN)]
    _timed_out = (None, None)

    def __init__(self):
        super().__init__()

    def irecv(self, timeout_ms=None):
        if self.recvinto(self._received, timeout_ms):
            return self._received
        return self._timed_out

    def recv(self, timeout_ms=None):
        if self.recvinto(self._received, timeout_ms):
            return [bytes(self._received[0]), bytes(self._received[1])]
        return self._timed_out

    def irq(self, callback):
        # The callback receives the ESPNow object.
        super().irq(callback, self)

    def __iter__(self):
        return self

    def __next__(self):
        return self.irecv()
