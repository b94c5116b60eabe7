# Message sizes: 1 and MAX_DATA_LEN bytes arrive intact; an empty message and one byte more than
# MAX_DATA_LEN (250 with ESP-NOW v1) are refused by esp_now_send() with
# OSError(-12390, 'ESP_ERR_ESPNOW_ARG') and nothing goes on air. Only the number of an OSError is
# printed: builds with detailed errors append the C function to its name.
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


def payload(size):
    return bytes(i & 0xFF for i in range(size))


def size_name(size):
    # MAX_DATA_LEN is 250 with ESP-NOW v1 and 1470 with v2 (ESP-IDF 5.4+): printed by name.
    if size == espnow.MAX_DATA_LEN:
        return "MAX_DATA_LEN"
    if size == espnow.MAX_DATA_LEN + 1:
        return "MAX_DATA_LEN+1"
    return str(size)


def attempt_send(e, peer, size):
    try:
        print("send", size_name(size), e.send(peer, payload(size)))
    except OSError as err:
        print("send", size_name(size), "OSError", err.args[0])


# Receiver: reports what arrives until the sender's last message.
def instance0():
    sta, e = init()
    multitest.globals(PEER0=sta.config("mac"))
    multitest.next()
    while True:
        mac, msg = e.recv(5000)
        if mac is None:
            print("timeout")
            break
        if msg == b"end":
            break
        print("recv", size_name(len(msg)), msg == payload(len(msg)))
    e.active(False)


# Sender.
def instance1():
    sta, e = init()
    multitest.next()
    e.add_peer(PEER0)
    attempt_send(e, PEER0, 1)
    attempt_send(e, PEER0, 0)
    attempt_send(e, PEER0, espnow.MAX_DATA_LEN + 1)
    attempt_send(e, PEER0, espnow.MAX_DATA_LEN)
    print("end", e.send(PEER0, b"end"))
    e.active(False)
