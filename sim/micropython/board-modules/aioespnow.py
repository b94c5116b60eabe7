# aioespnow — ESP-NOW for asyncio (micropython-lib's aioespnow, frozen into esp32 firmware;
# micropython-host-protocols.md §7.9): AIOESPNow adds arecv(), airecv(), asend() and `async for`
# to espnow.ESPNow, each waiting for the radio's readiness in the asyncio loop.
import espnow
from _board_asyncio_core import wait_io
from _board_asyncio_io import POLLIN, POLLOUT


class AIOESPNow(espnow.ESPNow):
    # Received frames and send results ring the board's doorbell, which ends the loop's sleep.
    _BOARD_ANNOUNCED = True

    async def arecv(self):
        await wait_io(self, POLLIN)
        return self.recv(0)

    async def airecv(self):
        await wait_io(self, POLLIN)
        return self.irecv(0)

    async def asend(self, mac, msg=None, sync=None):
        if msg is None:
            mac, msg = None, mac
        await wait_io(self, POLLOUT)
        return self.send(mac, msg, sync)

    def __aiter__(self):
        return self

    async def __anext__(self):
        return await self.airecv()
