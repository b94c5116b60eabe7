/**
 * ESP-NOW between simulated boards over a fake medium: pairing, unicast, acknowledgement, broadcast,
 * encryption, the receive calls, any(), peers_table, stats with receive-buffer drops, and irq
 * callbacks (micropython-host-protocols.md §7.3–§7.8).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeRadioMedium } from './fake-radio-medium.ts';
import { MAC_A, MAC_B, MAC_C, RESET, SETUP } from './espnow-fixture.ts';
import { RadioBoard } from './radio-board-harness.ts';

const medium = new FakeRadioMedium();
let a: RadioBoard;
let b: RadioBoard;
let c: RadioBoard;

beforeAll(async () => {
  [a, b, c] = await RadioBoard.bootAll(medium, [MAC_A, MAC_B, MAC_C], SETUP) as [RadioBoard, RadioBoard, RadioBoard];
});
afterAll(async () => {
  await Promise.all([a, b, c].map((board) => board.stop()));
});
beforeEach(async () => {
  medium.rssi = -42;
  await Promise.all([a, b, c].map((board) => board.run(RESET)));
});

describe('unicast', () => {
  it('pairs two boards and echoes a message back', async () => {
    await b.begin('e.add_peer(A)\nhost, msg = e.recv(5000)\nprint("got", host.hex(), msg)\nprint(e.send(host, b"echo:" + msg))');
    expect(await a.run('e.add_peer(B)\nprint(e.send(B, b"ping"))\nhost, msg = e.recv(5000)\nprint(host.hex(), msg)')).toBe(
      "True\r\n240ac4000002 b'echo:ping'\r\n",
    );
    expect(await b.finish()).toEqual({ stdout: "got 240ac4000001 b'ping'\r\nTrue\r\n", stderr: '' });
  });

  it('receives from an unregistered sender (no add_peer needed to receive)', async () => {
    await a.run('e.add_peer(C)\ne.send(C, b"hi")');
    expect(await c.run('print(e.get_peers(), e.recv(1000))')).toBe("() [b'$\\n\\xc4\\x00\\x00\\x01', b'hi']\r\n");
  });

  it('send returns False when nobody acknowledges: unknown address, radio off, other channel', async () => {
    await c.run('sta.active(False)');
    await b.run('sta.config(channel=6)');
    const out = await a.run(
      'e.add_peer(b"\\x24\\x0a\\xc4\\x00\\x00\\x09")\ne.add_peer(B)\ne.add_peer(C)\n' +
        'print(e.send(b"\\x24\\x0a\\xc4\\x00\\x00\\x09", b"x"), e.send(C, b"x"), e.send(B, b"x"), e.send(None, b"x"))\nprint(delta())',
    );
    expect(out).toBe('False False False False\r\n(6, 6, 6, 0, 0)\r\n');
  });

  it('acknowledges on a board whose Wi-Fi is on even when its ESP-NOW is off', async () => {
    await c.run('e.active(False)');
    expect(await a.run('e.add_peer(C)\nprint(e.send(C, b"x"))')).toBe('True\r\n');
  });

  it('send(sync=False) returns True at once; the next sync send waits for the answers', async () => {
    const out = await a.run(
      'e.add_peer(B)\ne.add_peer(b"\\x24\\x0a\\xc4\\x00\\x00\\x09")\n' +
        'print(e.send(b"\\x24\\x0a\\xc4\\x00\\x00\\x09", b"1", False), e.send(B, b"2", False))\n' +
        'print(e.send(B, b"3"))\nprint(delta()[:3])',
    );
    expect(out).toBe('True True\r\nTrue\r\n(3, 3, 1)\r\n');
    expect(await b.run('print(e.recv(1000)[1], e.recv(1000)[1])')).toBe("b'2' b'3'\r\n");
  });

  it('sends to every registered unicast peer with send(None, msg) and send(msg)', async () => {
    await a.run('e.add_peer(B)\ne.add_peer(C)\ne.add_peer(BCAST)\nprint(e.send(None, b"n"), e.send(b"m"))');
    expect(await b.run('print(e.recv(1000)[1], e.recv(1000)[1])')).toBe("b'n' b'm'\r\n");
    expect(await c.run('print(e.recv(1000)[1], e.recv(1000)[1])')).toBe("b'n' b'm'\r\n");
    expect(await a.run('print(delta()[:3])')).toBe('(4, 4, 0)\r\n');
  });
});

describe('broadcast', () => {
  it('reaches every board on the channel and always returns True', async () => {
    await c.run('sta.config(channel=11)');
    expect(await a.run('e.add_peer(BCAST)\nprint(e.send(BCAST, b"all"))\nprint(e.get_peers(), e.peer_count())')).toBe('True\r\n() (1, 0)\r\n');
    expect(await b.run('print(e.recv(1000))')).toBe("[b'$\\n\\xc4\\x00\\x00\\x01', b'all']\r\n");
    expect(await c.run('print(e.recv(100))')).toBe('(None, None)\r\n');
    await b.run('sta.active(False)');
    expect(await a.run('print(e.send(BCAST, b"nobody"))')).toBe('True\r\n');
  });
});

describe('encryption', () => {
  it('delivers an encrypted frame only to a receiver that registered the sender with the same LMK and PMK', async () => {
    await b.run('e.add_peer(A, b"0123456789abcdef")');
    await c.run('e.add_peer(A, lmk=b"fedcba9876543210")');
    const sent = await a.run(
      'e.add_peer(B, b"0123456789abcdef")\ne.add_peer(C, lmk=b"0123456789abcdef")\n' +
        'print(e.send(B, b"secret"), e.send(C, b"secret"), e.get_peer(B)[4], e.peer_count())',
    );
    expect(sent).toBe('True True True (2, 2)\r\n');
    expect(await b.run('print(e.recv(1000)[1])')).toBe("b'secret'\r\n");
    expect(await c.run('print(e.recv(100))')).toBe('(None, None)\r\n');
    await a.run('e.set_pmk(b"pmk-pmk-pmk-pmk!")\ne.send(B, b"other pmk")');
    expect(await b.run('print(e.recv(100))')).toBe('(None, None)\r\n');
    await b.run('e.set_pmk(b"pmk-pmk-pmk-pmk!")');
    await a.run('e.send(B, b"same pmk")');
    expect(await b.run('print(e.recv(1000)[1])')).toBe("b'same pmk'\r\n");
  });
});

describe('receiving', () => {
  it('recv() times out with the tuple (None, None); iteration yields it too', async () => {
    expect(await b.run('r = e.recv(50)\nprint(r, type(r).__name__)\ne.config(timeout_ms=50)\nfor mac, msg in e:\n    print(mac, msg)\n    break')).toBe(
      '(None, None) tuple\r\nNone None\r\n',
    );
  });

  it('recvinto() fills [peer, msg, rssi, time] and reuses the shortened bytearray; irecv() reuses its list', async () => {
    await a.run('e.add_peer(B)\nfor m in (b"first", b"2nd", b"three", b"four"):\n    e.send(B, m)');
    const out = await b.run(
      [
        'buf = [None, bytearray(espnow.MAX_DATA_LEN), 0, 0]',
        'n = e.recvinto(buf, 1000)',
        'print(n, buf[0].hex(), buf[1], buf[2], any(k is buf[0] for k in e.peers_table), buf[3] == e.peers_table[buf[0]][1])',
        'print(e.recvinto(buf, 1000), buf[1])',
        'r1 = e.irecv(1000)',
        'm1 = bytes(r1[1])',
        'r2 = e.irecv(1000)',
        'print(r1 is r2, m1, r2[1], type(r2).__name__)',
        'print(e.recvinto(buf, 0), e.irecv(0))',
        'err(e.recvinto, [None, bytearray(10)], 0)',
        'err(e.recvinto, (None, bytearray(250)), 0)',
        'err(e.recvinto, [bytearray(250)], 0)',
      ].join('\n'),
    );
    expect(out).toBe(
      [
        "5 240ac4000001 bytearray(b'first') -42 True True",
        "3 bytearray(b'2nd')",
        "True b'three' bytearray(b'four') list",
        '0 (None, None)',
        "ValueError ('invalid buffer length',)",
        "ValueError ('ESPNow.recvinto(): Invalid argument',)",
        "ValueError ('ESPNow.recvinto(): Invalid argument',)",
        '',
      ].join('\r\n'),
    );
  });

  it('any() tells whether a packet is buffered', async () => {
    expect(await b.run('print(e.any())')).toBe('False\r\n');
    await a.run('e.add_peer(B)\ne.send(B, b"x")');
    expect(await b.run('print(e.any())\ne.recv(0)\nprint(e.any())')).toBe('True\r\nFalse\r\n');
  });

  it('peers_table records RSSI and reception time only when the message is read', async () => {
    medium.rssi = -57;
    await b.run('t0 = time.ticks_ms()\nbefore = e.peers_table.get(A, [None])[0]');
    await a.run('e.add_peer(B)\ne.send(B, b"x")');
    const out = await b.run(
      'print(before != -57, e.peers_table.get(A, [None])[0] != -57)\ne.recv(1000)\nrssi, t = e.peers_table[A]\n' +
        'print(rssi, 0 <= time.ticks_diff(t, t0) <= time.ticks_diff(time.ticks_ms(), t0))',
    );
    expect(out).toBe('True True\r\n-57 True\r\n');
  });
});

describe('stats and the receive buffer', () => {
  it('drops packets that do not fit rxbuf, counts them, and the sender still sees them acknowledged', async () => {
    expect(await b.run('e.active(False)\ne.config(rxbuf=60)\ne.active(True)\nprint(e.config("rxbuf"))\nrx0 = e.stats()[3:]')).toBe('60\r\n');
    const sent = await a.run('e.add_peer(B)\ntx0 = e.stats()[:3]\nprint([e.send(B, b"%010d" % i) for i in range(5)])\ntx = e.stats()[:3]\nprint([tx[i] - tx0[i] for i in range(3)])');
    expect(sent).toBe('[True, True, True, True, True]\r\n[5, 5, 0]\r\n');
    const received = await b.run('rx = e.stats()[3:]\nprint(rx[0] - rx0[0], rx[1] - rx0[1])\nprint(e.recv(0)[1], e.recv(0)[1], e.recv(0))');
    expect(received).toBe("2 3\r\nb'0000000000' b'0000000001' (None, None)\r\n");
  });

  it('holds two full-size packets in the default rxbuf', async () => {
    expect(await b.run('print(e.config("rxbuf"))\nrx0 = e.stats()[3:]')).toBe('528\r\n');
    await a.run('e.add_peer(B)\nfor i in range(3):\n    e.send(B, bytes([i]) * 250)');
    expect(await b.run('rx = e.stats()[3:]\nprint(rx[0] - rx0[0], rx[1] - rx0[1], [m[1][0] for m in (e.recv(0), e.recv(0))])')).toBe('2 1 [0, 1]\r\n');
  });
});

describe('irq', () => {
  it('runs the callback (with the ESPNow object) for each packet while the receiver sleeps', async () => {
    await b.begin(
      'def cb(obj):\n    while True:\n        mac, msg = obj.irecv(0)\n        if mac is None:\n            return\n        print("irq", obj is e, msg)\n' +
        'e.irq(cb)\nprint("armed")\ntime.sleep(30)',
    );
    await b.readUntil('armed\r\n');
    await a.run('e.add_peer(B)\ne.send(B, b"ping")');
    expect(await b.readUntil('\r\n')).toBe("irq True bytearray(b'ping')\r\n");
    await a.run('e.send(B, b"pong")');
    expect(await b.readUntil('\r\n')).toBe("irq True bytearray(b'pong')\r\n");
    b.send('\x03');
    expect((await b.finish()).stderr).toMatch(/KeyboardInterrupt: \r\n$/);
  });

  it('calls the callback once per received packet, whether or not it reads them', async () => {
    await b.run('calls = []\ne.irq(lambda obj: calls.append(obj.any()))');
    await a.run('e.add_peer(B)\nfor m in (b"1", b"2", b"3"):\n    e.send(B, m)');
    expect(await b.run('for _ in range(100):\n    if len(calls) >= 3:\n        break\n    time.sleep_ms(10)\nprint(calls, e.stats()[3] - stats0[3])')).toBe(
      '[True, True, True] 3\r\n',
    );
  });

  it('leaves the board usable when Ctrl-C lands while callbacks run', async () => {
    await a.run('e.add_peer(B)');
    for (let round = 0; round < 5; round++) {
      await b.begin('def cb(obj):\n    while obj.irecv(0)[0] is not None:\n        pass\ne.irq(cb)\nprint("armed")\nwhile True:\n    time.sleep_ms(1)');
      await b.readUntil('armed\r\n');
      await a.run('for i in range(10):\n    e.send(B, b"burst", False)');
      b.send('\x03');
      expect((await b.finish()).stderr).toMatch(/KeyboardInterrupt: \r\n$/);
    }
    expect(await b.run('e.irq(None)\nwhile e.irecv(0)[0]:\n    pass\nprint(e.any())')).toBe('False\r\n');
  });

  it('irq(None) stops the callbacks; active(False) clears the callback', async () => {
    await b.run('calls = []\ne.irq(lambda obj: calls.append(1))\ne.irq(None)');
    await a.run('e.add_peer(B)\ne.send(B, b"x")');
    expect(await b.run('time.sleep_ms(50)\nprint(len(calls), e.any())')).toBe('0 True\r\n');
    await b.run('e.irq(lambda obj: calls.append(2))\ne.active(False)\ne.active(True)');
    await a.run('e.send(B, b"y")');
    expect(await b.run('time.sleep_ms(50)\nprint(calls, e.recv(0)[1])')).toBe("[] b'y'\r\n");
  });
});
