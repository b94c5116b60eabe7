# RSSI and peers_table: the table starts empty and gets an entry [rssi, time_ms] for a sender when
# the application reads one of its messages (not when the radio receives it). recvinto() with a list of
# four items also returns the RSSI and receive time. The RSSI of boards side by side is some negative
# dBm value that differs from board to board, so only its plausibility is printed.
import time
import network
import espnow

CHANNEL = 1


def init():
    sta = network.WLAN(network.WLAN.IF_STA)
    sta.active(True)
    sta.disconnect()
    sta.config(channel=CHANNEL)
    e = espnow.ESPNow()
    e.active(True)
    return sta, e


def plausible_rssi(rssi):
    return -100 <= rssi < 0


# Receiver.
def instance0():
    sta, e = init()
    multitest.globals(PEER0=sta.config("mac"))
    print("table before", e.peers_table)
    multitest.next()
    mac, msg = e.recv(5000)
    print("recv", msg)
    if mac is None:
        return
    print("table keys", list(e.peers_table) == [mac])
    rssi, time_ms = e.peers_table[mac]
    print("rssi plausible", plausible_rssi(rssi))
    print("time recent", 0 <= time.ticks_diff(time.ticks_ms(), time_ms) < 5000)
    multitest.broadcast("read 1")

    # The second message waits in the buffer: the table keeps the first message's values until it is read.
    deadline = time.ticks_add(time.ticks_ms(), 5000)
    while not e.any() and time.ticks_diff(deadline, time.ticks_ms()) > 0:
        time.sleep_ms(10)
    print("any", e.any())
    print("table unchanged before reading", e.peers_table[mac][1] == time_ms)
    data = [None, bytearray(espnow.MAX_DATA_LEN), None, None]
    n = e.recvinto(data, 5000)
    print("recvinto", n, bytes(data[1]), data[0] == mac)
    print("recvinto rssi", plausible_rssi(data[2]), [data[2], data[3]] == e.peers_table[mac])
    print("time advanced", time.ticks_diff(data[3], time_ms) >= 0)
    e.active(False)


# Sender.
def instance1():
    sta, e = init()
    multitest.next()
    e.add_peer(PEER0)
    print("send", e.send(PEER0, b"first"))
    multitest.wait("read 1")
    print("send", e.send(PEER0, b"second"))
    e.active(False)
