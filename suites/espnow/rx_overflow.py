# Receive-buffer overflow: with a small rxbuf, a burst that the application does not read fills the
# buffer; further packets are dropped and counted in stats()[4] (rx_dropped_packets), yet each was
# acknowledged by the receiver's radio, so every send() returns True. How many packets fit depends on
# the firmware's per-packet header, so only the relations are printed: the oldest packets are kept
# in order, kept + dropped = sent, and the buffer works again once read.
import network
import espnow

CHANNEL = 1
RXBUF = 128
BURST = 10


def init(rxbuf=None):
    sta = network.WLAN(network.WLAN.IF_STA)
    sta.active(True)
    sta.disconnect()
    sta.config(channel=CHANNEL)
    e = espnow.ESPNow()
    if rxbuf is not None:
        e.config(rxbuf=rxbuf)
    e.active(True)
    return sta, e


def message(i):
    return b"burst message %02d" % i


# Receiver with a small buffer: reads nothing until the whole burst was sent.
def instance0():
    sta, e = init(RXBUF)
    print("rxbuf", e.config("rxbuf"))
    multitest.globals(PEER0=sta.config("mac"))
    multitest.next()
    multitest.wait("burst sent")
    kept = []
    while True:
        mac, msg = e.recv(0)
        if mac is None:
            break
        kept.append(msg)
    tx_pkts, tx_responses, tx_failures, rx_packets, rx_dropped = e.stats()
    print("kept some", 0 < len(kept) < BURST)
    print("oldest kept in order", kept == [message(i) for i in range(len(kept))])
    print("rx_packets", rx_packets == len(kept))
    print("dropped", rx_dropped > 0, rx_dropped + len(kept) == BURST)
    multitest.broadcast("buffer read")
    mac, msg = e.recv(5000)
    print("recv after drain", msg)
    e.active(False)


# Sender: a burst of synchronous sends, each acknowledged.
def instance1():
    sta, e = init()
    multitest.next()
    e.add_peer(PEER0)
    results = [e.send(PEER0, message(i)) for i in range(BURST)]
    print("burst", results.count(True), "of", BURST, "acknowledged")
    multitest.broadcast("burst sent")
    multitest.wait("buffer read")
    print("send", e.send(PEER0, b"after drain"))
    e.active(False)
