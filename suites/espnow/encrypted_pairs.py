# Encrypted unicast (CCMP keyed by the PMK and a local master key per peer). The receiver registers
# both senders with the same LMK. Sender A uses that LMK: delivered. Sender B uses another one: the
# receiver cannot decrypt its message and drops it silently, but its radio has already acknowledged
# the frame at the MAC layer, so B's send() still returns True.
# The receiver learns the senders' MACs from plaintext hellos (pairing by learned MAC); each sender
# keeps one key for the whole test, so no key is ever replaced under a running CCMP session.
import network
import espnow

CHANNEL = 1
PMK = b"pmk-for-hil-test"
LMK = b"lmk-for-hil-test"
WRONG_LMK = b"not-the-same-lmk"


def init():
    sta = network.WLAN(network.WLAN.IF_STA)
    sta.active(True)
    sta.disconnect()
    sta.config(channel=CHANNEL)
    e = espnow.ESPNow()
    e.active(True)
    e.set_pmk(PMK)
    return sta, e


# Receiver.
def instance0():
    sta, e = init()
    multitest.globals(PEER0=sta.config("mac"))
    multitest.next()
    senders = {}
    while len(senders) < 2:
        mac, msg = e.recv(5000)
        if mac is None:
            print("timeout")
            return
        senders[msg] = mac
    for hello in sorted(senders):
        e.add_peer(senders[hello], LMK)
        print(hello, e.get_peer(senders[hello])[4])
    print("peers", e.peer_count())
    multitest.broadcast("keys set")
    # B sends first; its message must not show up before A's.
    multitest.wait("B sent")
    while True:
        mac, msg = e.recv(5000)
        if mac is None:
            print("timeout")
            break
        print("recv", msg, mac == senders[b"hello A"])
        if msg == b"secret A":
            break
    print("rx_packets", e.stats()[3])
    e.active(False)


def sender(name, lmk):
    sta, e = init()
    multitest.next()
    e.add_peer(PEER0)
    print("hello", e.send(PEER0, b"hello " + name))
    multitest.wait("keys set")
    e.mod_peer(PEER0, lmk)
    mac, key, channel, ifidx, encrypt = e.get_peer(PEER0)
    print("peer", key == lmk, encrypt, e.peer_count())
    return e


# Sender A: the receiver's LMK.
def instance1():
    e = sender(b"A", LMK)
    multitest.wait("B sent")
    print("secret A", e.send(PEER0, b"secret A"))
    e.active(False)


# Sender B: another LMK.
def instance2():
    e = sender(b"B", WRONG_LMK)
    print("secret B", e.send(PEER0, b"secret B"))
    multitest.broadcast("B sent")
    e.active(False)
