/**
 * ESP-NOW and Wi-Fi over the board's life: which firmware versions have `espnow`, soft reset
 * (ESP-NOW deinitialised, Wi-Fi kept: micropython-host-protocols.md §2.3, §7.3), blocking receives
 * that use no CPU and end on Ctrl-C, and the radio going off at the medium when the interpreter stops.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeRadioMedium, type FakeRadioPort } from './fake-radio-medium.ts';
import { MAC_A, MAC_B, SETUP } from './espnow-fixture.ts';
import { RadioBoard } from './radio-board-harness.ts';

const boards: RadioBoard[] = [];
async function boot(mac: Uint8Array, radio?: FakeRadioPort, version = 'v1.24.1'): Promise<RadioBoard> {
  const board = await RadioBoard.boot({
    mac,
    ...(radio === undefined ? {} : { radio }),
    firmware: { version, buildDate: '2024-11-29', boardName: 'Generic ESP32 module', mcuName: 'ESP32' },
    chip: 'esp32',
  });
  boards.push(board);
  return board;
}

afterEach(async () => {
  await Promise.all(boards.splice(0).map((board) => board.stop()));
});

describe('firmware versions', () => {
  it('has no espnow module before v1.20 (ImportError), but network', async () => {
    const board = await boot(MAC_A, undefined, 'v1.19.1');
    const out = await board.run(
      'for name in ("espnow", "_espnow"):\n    try:\n        __import__(name)\n    except ImportError as x:\n        print("ImportError", x)\nimport network\nprint(network.WLAN(network.STA_IF).active())',
    );
    expect(out).toBe("ImportError no module named 'espnow'\r\nImportError no module named '_espnow'\r\nFalse\r\n");
  });

  it('has espnow from v1.20', async () => {
    const board = await boot(MAC_A, undefined, 'v1.20.0');
    expect(await board.run('import espnow\nprint(espnow.ESPNow().active(), espnow.MAX_DATA_LEN)')).toBe('False 250\r\n');
  });
});

describe('soft reset', () => {
  it('deinitialises ESP-NOW (peers, buffer, stats, peers_table) and keeps Wi-Fi active on its channel', async () => {
    const medium = new FakeRadioMedium();
    const port = medium.createPort();
    const peer = await boot(MAC_B, medium.createPort());
    const board = await boot(MAC_A, port);
    await peer.run(`${SETUP}\ne.add_peer(A)`);
    await board.run(`${SETUP}\nsta.config(channel=6)\ne.add_peer(B, b"0123456789abcdef")\ne.set_pmk(b"pmk-pmk-pmk-pmk!")`);
    await peer.run('sta.config(channel=6)\ne.send(A, b"before")');
    expect(await board.run('print(e.recv(1000)[1], e.peers_table != {}, e.stats())')).toBe("b'before' True (0, 0, 0, 1, 0)\r\n");
    expect(port).toMatchObject({ espNowActive: true, channel: 6 });
    expect(port.peers.size).toBe(1);

    board.send('\x04');
    await board.readUntil('MPY: soft reboot\r\n');
    await board.readUntil('raw REPL; CTRL-B to exit\r\n>');
    expect(port).toMatchObject({ espNowActive: false, wifiActive: true, channel: 6, addresses: [MAC_A] });
    expect(port.peers.size).toBe(0);
    expect(port.pmk).toEqual(new Uint8Array(16));
    await peer.run('e.send(A, b"while off")');
    const after = await board.run(
      'import network, espnow\nsta = network.WLAN(network.STA_IF)\ne = espnow.ESPNow()\n' +
        'print(sta.active(), sta.config("channel"), e.active(), e.config("rxbuf"), e.stats(), e.peers_table)\n' +
        'e.active(True)\nprint(e.get_peers(), e.recv(100))',
    );
    expect(after).toBe('True 6 False 528 (0, 0, 0, 0, 0) {}\r\n() (None, None)\r\n');
    await peer.run('e.send(A, b"after")');
    expect(await board.run('print(e.recv(1000)[1])')).toBe("b'after'\r\n");
  });
});

describe('blocking receive', () => {
  it('uses (almost) no CPU while waiting and returns (None, None) on timeout', async () => {
    const board = await boot(MAC_A, new FakeRadioMedium().createPort());
    await board.run(SETUP);
    const before = process.cpuUsage();
    const startedAt = performance.now();
    expect(await board.run('print(e.recv(600))')).toBe('(None, None)\r\n');
    const used = process.cpuUsage(before);
    expect((used.user + used.system) / 1000 / (performance.now() - startedAt)).toBeLessThan(0.5);
  });

  it('ends recv() with the default timeout, recv(-1) and irecv() on Ctrl-C', async () => {
    const board = await boot(MAC_A, new FakeRadioMedium().createPort());
    await board.run(SETUP);
    for (const call of ['e.recv()', 'e.recv(-1)', 'e.irecv()']) {
      await board.begin(`print("waiting")\n${call}`);
      await board.readUntil('waiting\r\n');
      board.send('\x03');
      expect(await board.finish()).toEqual({
        stdout: '',
        stderr: 'Traceback (most recent call last):\r\n  File "<stdin>", line 2, in <module>\r\nKeyboardInterrupt: \r\n',
      });
    }
    expect(await board.run('print(e.active(), e.any())')).toBe('True False\r\n');
  });

  it('wakes as soon as a packet arrives', async () => {
    const medium = new FakeRadioMedium();
    const [board, peer] = [await boot(MAC_A, medium.createPort()), await boot(MAC_B, medium.createPort())];
    await Promise.all([board.run(SETUP), peer.run(`${SETUP}\ne.add_peer(A)`)]);
    await board.begin('print("waiting")\nprint(e.recv(-1)[1])');
    await board.readUntil('waiting\r\n');
    await peer.run('e.send(A, b"wake up")');
    expect(await board.finish()).toEqual({ stdout: "b'wake up'\r\n", stderr: '' });
  });
});

describe('stopping the interpreter', () => {
  it('turns the board\'s radio off at the medium and stops delivering to it', async () => {
    const port = new FakeRadioMedium().createPort();
    const board = await boot(MAC_A, port);
    await board.run(SETUP);
    expect(port).toMatchObject({ wifiActive: true, espNowActive: true });
    expect(port.receiverCount).toBe(1);
    await board.stop();
    expect(port).toMatchObject({ wifiActive: false, espNowActive: false, addresses: [] });
    expect(port.receiverCount).toBe(0);
  });
});
