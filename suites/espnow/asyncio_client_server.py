# asyncio client/server with aioespnow: instance0 serves with `async for` over incoming messages and
# answers each one with asend(); instance1 runs two tasks side by side — one sends requests with
# asend(), the other collects the replies with arecv() — joined with asyncio.gather().
import asyncio
import network
import aioespnow

CHANNEL = 1
COUNT = 5


def init():
    sta = network.WLAN(network.WLAN.IF_STA)
    sta.active(True)
    sta.disconnect()
    sta.config(channel=CHANNEL)
    e = aioespnow.AIOESPNow()
    e.active(True)
    return sta, e


# Server.
def instance0():
    sta, e = init()
    multitest.globals(SERVER=sta.config("mac"))
    multitest.next()

    async def serve():
        served = 0
        async for mac, msg in e:
            if served == 0:
                e.add_peer(mac)
            ok = await e.asend(mac, b"re:" + msg)
            served += 1
            print("served", bytes(msg), ok)
            if served == COUNT:
                break

    asyncio.run(serve())
    e.active(False)


# Client.
def instance1():
    sta, e = init()
    multitest.next()
    e.add_peer(SERVER)

    async def requests():
        for i in range(COUNT):
            ok = await e.asend(SERVER, b"req %d" % i)
            print("sent", i, ok)
            await asyncio.sleep_ms(10)

    async def replies():
        got = []
        for _ in range(COUNT):
            mac, msg = await asyncio.wait_for_ms(e.arecv(), 2000)
            got.append((bytes(msg), bytes(mac) == SERVER))
        return got

    sent, got = asyncio.run(asyncio.gather(requests(), replies()))
    for msg, from_server in got:
        print("reply", msg, from_server)
    e.active(False)
