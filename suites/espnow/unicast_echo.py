# Pairing by learning the peer's MAC: instance0 publishes its MAC, instance1 sends to it, and instance0
# adds the sender it learned from recv() as a peer and echoes every message back.
import network
import espnow

COUNT = 5


def init():
    sta = network.WLAN(network.WLAN.IF_STA)
    sta.active(True)
    sta.disconnect()
    e = espnow.ESPNow()
    e.active(True)
    return sta, e


# Echo server.
def instance0():
    sta, e = init()
    multitest.globals(PEER0=sta.config("mac"))
    multitest.next()
    for i in range(COUNT):
        mac, msg = e.recv(2000)
        if mac is None:
            print("timeout")
            break
        if i == 0:
            e.add_peer(mac)
        print("echo", msg, e.send(mac, msg.replace(b"ping", b"pong")))
    e.active(False)


# Client.
def instance1():
    sta, e = init()
    multitest.next()
    e.add_peer(PEER0)
    for i in range(COUNT):
        print("send", e.send(PEER0, b"ping %d" % i))
        mac, reply = e.recv(2000)
        print("reply", reply, mac == PEER0)
    e.active(False)
