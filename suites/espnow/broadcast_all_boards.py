# Broadcast to several boards, on every board of the default bench (4 ESP32-S3 and 2 ESP32, so both
# chips send and receive). Instance 0 publishes its MAC; each receiver announces itself with a unicast
# "ready" (pairing by learned MAC). When all have, instance 0 sends BROADCASTS messages to ff:ff:ff:ff:ff:ff
# (send() to a broadcast peer always returns True), each receiver reports with a unicast
# "got N", and instance 0 answers all of them with one send(None, ...) to every registered peer.
import network
import espnow

CHANNEL = 1
RECEIVERS = 5
BROADCASTS = 3
BROADCAST_MAC = b"\xff" * 6


def init():
    sta = network.WLAN(network.WLAN.IF_STA)
    sta.active(True)
    sta.disconnect()
    sta.config(channel=CHANNEL)
    e = espnow.ESPNow()
    e.active(True)
    return sta, e


def collect(e, prefix, count):
    """Senders of `count` distinct messages starting with `prefix`, in arrival order."""
    senders = []
    while len(senders) < count:
        mac, msg = e.recv(8000)
        if mac is None:
            print("timeout")
            break
        if msg.startswith(prefix) and mac not in senders:
            senders.append(mac)
            if prefix == b"got":
                print(msg)
    return senders


# Broadcaster.
def instance0():
    sta, e = init()
    multitest.globals(PEER0=sta.config("mac"))
    multitest.next()
    receivers = collect(e, b"ready", RECEIVERS)
    for mac in receivers:
        e.add_peer(mac)
    print("ready", len(receivers))
    e.add_peer(BROADCAST_MAC)
    print("peers", e.peer_count(), len(e.get_peers()))
    for i in range(BROADCASTS):
        print("broadcast", e.send(BROADCAST_MAC, b"broadcast %d" % i))
    collect(e, b"got", len(receivers))
    print("thanks to all", e.send(b"thanks"))
    e.active(False)


def receiver():
    sta, e = init()
    multitest.next()
    e.add_peer(PEER0)
    print("ready", e.send(PEER0, b"ready"))
    got = 0
    while got < BROADCASTS:
        mac, msg = e.recv(8000)
        if mac is None:
            print("timeout")
            break
        print("recv", msg, mac == PEER0)
        got += 1
    print("got", e.send(PEER0, b"got %d" % got))
    mac, msg = e.recv(8000)
    print("recv", msg, mac == PEER0)
    e.active(False)


def instance1():
    receiver()


def instance2():
    receiver()


def instance3():
    receiver()


def instance4():
    receiver()


def instance5():
    receiver()
