# Receive callbacks: ESPNow.irq(callback) schedules callback(e) after each received packet; the
# callback drains the buffer with irecv(0), as the firmware's documentation suggests (one run may find
# several packets, a later one none, so only the messages are printed, not the number of calls).
# irq(None) stops the callbacks; messages still arrive through recv().
import time
import network
import espnow

CHANNEL = 1
COUNT = 5


def init():
    sta = network.WLAN(network.WLAN.IF_STA)
    sta.active(True)
    sta.disconnect()
    sta.config(channel=CHANNEL)
    e = espnow.ESPNow()
    e.active(True)
    return sta, e


# Receiver.
def instance0():
    sta, e = init()
    received = []
    calls = [0]

    def on_receive(espnow_obj):
        calls[0] += 1
        while True:
            mac, msg = espnow_obj.irecv(0)
            if mac is None:
                return
            received.append((bytes(mac), bytes(msg)))

    e.irq(on_receive)
    multitest.globals(PEER0=sta.config("mac"))
    multitest.next()
    deadline = time.ticks_add(time.ticks_ms(), 5000)
    while len(received) < COUNT and time.ticks_diff(deadline, time.ticks_ms()) > 0:
        time.sleep_ms(10)
    for mac, msg in received:
        print("irq", msg)
    print("one sender", len(set(mac for mac, msg in received)) == 1)
    print("calls", 1 <= calls[0] <= COUNT)
    # Let callbacks scheduled for packets already read run before switching the callback off.
    time.sleep_ms(200)
    e.irq(None)
    calls_before = calls[0]
    multitest.broadcast("irq off")
    mac, msg = e.recv(5000)
    time.sleep_ms(200)
    print("recv", msg, "calls unchanged", calls[0] == calls_before)
    e.active(False)


# Sender.
def instance1():
    sta, e = init()
    multitest.next()
    e.add_peer(PEER0)
    for i in range(COUNT):
        print("send", e.send(PEER0, b"irq %d" % i))
    multitest.wait("irq off")
    print("send", e.send(PEER0, b"after irq(None)"))
    e.active(False)
