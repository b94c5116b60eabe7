# Peer-table limits and errors: at most MAX_TOTAL_PEER_NUM (20) peers, of which at most
# MAX_ENCRYPT_PEER_NUM are encrypted (6 in the firmware's documentation, an ESP-IDF build option, so it
# is read from the module); one more is ESP_ERR_ESPNOW_FULL. Duplicate and unknown peers are
# ESP_ERR_ESPNOW_EXIST and ESP_ERR_ESPNOW_NOT_FOUND. ESP-IDF errors are OSError(-esp_err_t, name);
# builds with detailed errors append the C function to the name, so only the number is printed.
import network
import espnow

CHANNEL = 1
LMK = b"lmk-for-hil-test"


def init():
    sta = network.WLAN(network.WLAN.IF_STA)
    sta.active(True)
    sta.disconnect()
    sta.config(channel=CHANNEL)
    e = espnow.ESPNow()
    e.active(True)
    return sta, e


def peer(i):
    # Locally administered unicast addresses that no board has.
    return bytes([0x02, 0x48, 0x49, 0x4C, 0x00, i])


def attempt(what, fn, *args):
    try:
        fn(*args)
        print(what, "ok")
    except OSError as err:
        print(what, "OSError", err.args[0])


def instance0():
    sta, e = init()
    print("limits", espnow.MAX_TOTAL_PEER_NUM, espnow.MAX_ENCRYPT_PEER_NUM <= espnow.MAX_TOTAL_PEER_NUM)
    print("count", e.peer_count())

    # Unencrypted peers: 20 fit, the 21st does not.
    for i in range(espnow.MAX_TOTAL_PEER_NUM):
        e.add_peer(peer(i))
    print("count", e.peer_count())
    attempt("add 21st", e.add_peer, peer(espnow.MAX_TOTAL_PEER_NUM))
    print("get_peers", len(e.get_peers()))
    for i in range(espnow.MAX_TOTAL_PEER_NUM):
        e.del_peer(peer(i))
    print("count", e.peer_count())
    e.add_peer(peer(0))
    attempt("add duplicate", e.add_peer, peer(0))
    e.del_peer(peer(0))
    attempt("del unknown", e.del_peer, peer(0))
    attempt("get unknown", e.get_peer, peer(0))
    attempt("send unknown", e.send, peer(0), b"x")

    # Encrypted peers: MAX_ENCRYPT_PEER_NUM fit, one more does not; unencrypted ones still do.
    for i in range(espnow.MAX_ENCRYPT_PEER_NUM):
        e.add_peer(peer(i), LMK)
    print("encrypted full", e.peer_count() == (espnow.MAX_ENCRYPT_PEER_NUM, espnow.MAX_ENCRYPT_PEER_NUM))
    attempt("add encrypted beyond limit", e.add_peer, peer(espnow.MAX_ENCRYPT_PEER_NUM), LMK)
    attempt("add unencrypted", e.add_peer, peer(espnow.MAX_ENCRYPT_PEER_NUM))
    print("count", e.peer_count() == (espnow.MAX_ENCRYPT_PEER_NUM + 1, espnow.MAX_ENCRYPT_PEER_NUM))
    mac, lmk, channel, ifidx, encrypt = e.get_peer(peer(0))
    print("peer", mac == peer(0), lmk == LMK, encrypt)

    # active(False) is esp_now_deinit(): every peer goes.
    e.active(False)
    e.active(True)
    print("count after re-activation", e.peer_count())
    e.active(False)
