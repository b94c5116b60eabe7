/**
 * `network.WLAN` as far as ESP-NOW needs it (ports/esp32/network_wlan.c): interfaces, activation,
 * MAC addresses, channel, power-save mode, and what the medium sees of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeRadioMedium } from './fake-radio-medium.ts';
import { MAC_A } from './espnow-fixture.ts';
import { RadioBoard } from './radio-board-harness.ts';

const medium = new FakeRadioMedium();
const port = medium.createPort();
let board: RadioBoard;

beforeAll(async () => {
  board = await RadioBoard.boot({ mac: MAC_A, radio: port });
  await board.run(
    'import network\nsta = network.WLAN(network.STA_IF)\nap = network.WLAN(network.AP_IF)\n' +
      'def err(f, *args, **kwargs):\n    try:\n        f(*args, **kwargs)\n    except Exception as x:\n        print(type(x).__name__, x.args)',
  );
});
afterAll(async () => {
  await board.stop();
});

describe('network.WLAN', () => {
  it('has one object per interface, the constants, and rejects other identifiers', async () => {
    const out = await board.run(
      'print(network.WLAN() is sta, network.WLAN(network.WLAN.IF_AP) is ap, network.STA_IF, network.AP_IF, sta.PM_NONE, sta.PM_PERFORMANCE, sta.PM_POWERSAVE)\nerr(network.WLAN, 2)',
    );
    expect(out).toBe("True True 0 1 0 1 2\r\nValueError ('invalid WLAN interface identifier',)\r\n");
  });

  it('starts inactive, with the factory MAC on STA and MAC + 1 on AP, channel 1', async () => {
    expect(await board.run('print(sta.active(), ap.active(), sta.config("mac").hex(), ap.config("mac").hex(), sta.config("channel"), sta.config("pm"))')).toBe(
      'False False 240ac4000001 240ac4000002 1 1\r\n',
    );
    expect(port).toMatchObject({ wifiActive: false, addresses: [] });
  });

  it('tells the medium which interfaces are up, with their MACs', async () => {
    expect(await board.run('print(sta.active(True), sta.isconnected(), sta.status())')).toBe('True False 1000\r\n');
    expect(port).toMatchObject({ wifiActive: true, addresses: [MAC_A] });
    await board.run('ap.active(True)');
    expect(port.addresses).toEqual([MAC_A, Uint8Array.of(0x24, 0x0a, 0xc4, 0, 0, 2)]);
    await board.run('ap.active(False)\nsta.disconnect()');
    expect(port.addresses).toEqual([MAC_A]);
  });

  it('sets the MAC of an active interface (unicast, different from the other interface)', async () => {
    const out = await board.run(
      [
        'err(sta.config, mac=b"\\x02\\x00\\x00")',
        'err(ap.config, mac=b"\\x02\\x00\\x00\\x00\\x00\\x09")',
        'err(sta.config, mac=b"\\x03\\x00\\x00\\x00\\x00\\x09")',
        'sta.config(mac=b"\\x02\\x00\\x00\\x00\\x00\\x09")',
        'print(sta.config("mac").hex())',
      ].join('\n'),
    );
    expect(out).toBe(
      "ValueError ('invalid buffer length',)\r\nOSError ('Wifi Invalid Mode',)\r\nOSError ('Wifi Invalid MAC Address',)\r\n020000000009\r\n",
    );
    expect(port.addresses).toEqual([Uint8Array.of(2, 0, 0, 0, 0, 9)]);
    await board.run('sta.config(mac=bytes([0x24, 0x0a, 0xc4, 0, 0, 1]))');
  });

  it('sets the channel of a started radio; an AP brings its own channel', async () => {
    const out = await board.run(
      [
        'sta.config(channel=11)',
        'print(sta.config("channel"), ap.config("channel"))',
        'err(sta.config, channel=0)',
        'err(sta.config, channel=15)',
        'ap.config(channel=3)',
        'print(sta.config("channel"))',
        'ap.active(True)',
        'print(sta.config("channel"))',
        'ap.active(False)',
        'sta.active(False)',
        'err(sta.config, channel=5)',
        'err(sta.disconnect)',
        'sta.active(True)',
        'sta.config(pm=sta.PM_NONE)',
        'print(sta.config("pm"))',
        'err(sta.config, "mac", channel=1)',
        'err(sta.config, "bogus")',
        'err(sta.config)',
      ].join('\n'),
    );
    expect(out).toBe(
      [
        '11 11',
        "RuntimeError ('Wifi Unknown Error 0x0102',)",
        "RuntimeError ('Wifi Unknown Error 0x0102',)",
        '11',
        '3',
        "OSError ('Wifi Not Started',)",
        "OSError ('Wifi Not Started',)",
        '0',
        "TypeError ('either pos or kw args are allowed',)",
        "ValueError ('unknown config param',)",
        "TypeError ('can query only one param',)",
        '',
      ].join('\r\n'),
    );
    expect(port.channel).toBe(3);
  });
});
