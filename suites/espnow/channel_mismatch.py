# Channel mismatch: a board only hears frames on its own channel. The sender moves its interface to
# another channel (the peer entry says 0, "the interface's current channel"): nobody acknowledges, so
# send() returns False after the MAC retries and stats() counts a failure; the receiver gets nothing.
# Back on the receiver's channel the next message is delivered. Wi-Fi keeps its channel across soft
# resets, so both boards end on the common channel whatever happens.
import network
import espnow

CHANNEL = 1
OTHER_CHANNEL = 11


def init():
    sta = network.WLAN(network.WLAN.IF_STA)
    sta.active(True)
    sta.disconnect()
    sta.config(channel=CHANNEL)
    e = espnow.ESPNow()
    e.active(True)
    return sta, e


# Receiver: stays on CHANNEL and prints everything it gets until "same channel".
def instance0():
    sta, e = init()
    multitest.globals(PEER0=sta.config("mac"))
    multitest.next()
    print("channel", sta.config("channel"))
    while True:
        mac, msg = e.recv(5000)
        if mac is None:
            print("timeout")
            break
        print("recv", msg)
        if msg == b"same channel":
            break
    print("rx", e.stats()[3:])
    e.active(False)


# Sender.
def instance1():
    sta, e = init()
    multitest.next()
    e.add_peer(PEER0)
    try:
        sta.config(channel=OTHER_CHANNEL)
        print("channel", sta.config("channel"))
        print("send on other channel", e.send(PEER0, b"other channel"))
    finally:
        sta.config(channel=CHANNEL)
    print("channel", sta.config("channel"))
    print("send on same channel", e.send(PEER0, b"same channel"))
    tx_pkts, tx_responses, tx_failures, rx_packets, rx_dropped = e.stats()
    print("tx", tx_pkts, tx_responses, tx_failures)
    e.active(False)
