# Round-trip latency and one-way throughput between two boards, reported with
# multitest.output_metric (JUnit properties; not part of the compared output). The printed lines
# only check that every message made it.
#   rtt: ROUNDS ping-pongs of a small message, each timed from send() to the echo's arrival;
#   throughput: BURST messages of PAYLOAD bytes with synchronous send() (each waits for the MAC ACK).
import time
import network
import espnow

CHANNEL = 1
ROUNDS = 50
BURST = 50
PAYLOAD = 250  # ESP-NOW v1's MAX_DATA_LEN; v2 firmware allows more, but the figures stay comparable
# Room for the whole burst (payload plus the firmware's per-packet header), so the measurement does
# not depend on how fast the receiver reads; small enough for an ESP32 without PSRAM.
RXBUF = BURST * (PAYLOAD + 32)


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


# Echo server, then counter of the burst.
def instance0():
    sta, e = init(RXBUF)
    multitest.globals(PEER0=sta.config("mac"))
    multitest.next()
    peer = None
    echoed = 0
    while echoed < ROUNDS:
        mac, msg = e.recv(5000)
        if mac is None:
            print("timeout")
            break
        if peer is None:
            peer = mac
            e.add_peer(peer)
        e.send(peer, msg)
        echoed += 1
    print("echoed", echoed)
    received = 0
    while True:
        mac, msg = e.recv(5000)
        if mac is None:
            print("timeout")
            break
        if msg == b"end":
            break
        received += len(msg) == PAYLOAD
    print("received", received, "dropped", e.stats()[4])
    e.active(False)


# Client: measures.
def instance1():
    sta, e = init()
    multitest.next()
    e.add_peer(PEER0)
    rtts_us = []
    for i in range(ROUNDS):
        ping = b"ping %d" % i
        start = time.ticks_us()
        e.send(PEER0, ping)
        mac, reply = e.recv(2000)
        if reply != ping:
            print("bad reply", i, reply)
            break
        rtts_us.append(time.ticks_diff(time.ticks_us(), start))
    print("replies", len(rtts_us))
    if rtts_us:
        rtts_us.sort()
        multitest.output_metric("rtt_ms_mean=%.2f" % (sum(rtts_us) / len(rtts_us) / 1000))
        multitest.output_metric("rtt_ms_median=%.2f" % (rtts_us[len(rtts_us) // 2] / 1000))
        multitest.output_metric("rtt_ms_max=%.2f" % (rtts_us[-1] / 1000))

    payload = bytes(PAYLOAD)
    acked = 0
    start = time.ticks_us()
    for i in range(BURST):
        acked += e.send(PEER0, payload)
    elapsed_us = max(1, time.ticks_diff(time.ticks_us(), start))
    print("acknowledged", acked)
    print("end", e.send(PEER0, b"end"))
    multitest.output_metric("messages_per_s=%.1f" % (BURST * 1000000 / elapsed_us))
    multitest.output_metric("kbit_per_s=%.1f" % (BURST * len(payload) * 8 * 1000 / elapsed_us))
    e.active(False)
