/**
 * ESP-NOW data rates and long-range mode (micropython-host-protocols.md §7.2, §7.4; MicroPython's
 * espnow and network.WLAN documentation): `ESPNow.config(rate=…)` sets the `wifi_phy_rate_t` of every
 * active interface, `WLAN.config(protocol=…)` the interface's 802.11 protocol set; the names
 * `espnow.RATE_*` and `WLAN.PROTOCOL_DEFAULT` / `PROTOCOL_LR` exist from v1.27. Frames carry their
 * interface's rate to the medium, which times them by it and lets only radios in long-range mode
 * receive the long-range rates.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { transmissionPhyRate } from '../../../sim/micropython/radio-phy-port.ts';
import { LabRadioPort } from '../../../sim/radio/lab-radio-port.ts';
import type { RadioMedium } from '../../../sim/radio/radio-medium.ts';
import type { RadioReception } from '../../../sim/micropython/board-radio-port.ts';
import { makeMedium } from '../radio/radio-fixture.ts';
import { FakeRadioMedium, type FakeRadioPort } from './fake-radio-medium.ts';
import { MAC_A, MAC_B, SETUP } from './espnow-fixture.ts';
import { RadioBoard } from './radio-board-harness.ts';

const boards: RadioBoard[] = [];

async function boot(version: string, radio?: FakeRadioPort): Promise<RadioBoard> {
  const board = await RadioBoard.boot({
    mac: MAC_A,
    ...(radio === undefined ? {} : { radio }),
    firmware: { version, buildDate: '2025-12-01', boardName: 'Generic ESP32S3 module', mcuName: 'ESP32S3' },
  });
  boards.push(board);
  return board;
}

describe('firmware versions', () => {
  afterEach(async () => {
    await Promise.all(boards.splice(0).map((board) => board.stop()));
  });

  it('v1.24 takes rate numbers and protocol bitmaps but has no names for them', async () => {
    const board = await boot('v1.24.1');
    const out = await board.run(
      [
        SETUP,
        'print(hasattr(espnow, "RATE_1M"), hasattr(espnow, "RATE_LORA_250K"), hasattr(network.WLAN, "PROTOCOL_LR"))',
        'print(sta.config("protocol"))',
        'sta.config(protocol=0x10F)',
        'e.config(rate=0x29)',
        'print(sta.config("protocol"))',
      ].join('\n'),
    );
    // 0x10F: esp_wifi_set_protocol() takes a uint8_t, so only 0x0F arrives.
    expect(out).toBe('False False False\r\n7\r\n15\r\n');
  });

  it('v1.27 names the rates and the protocol sets with their ESP-IDF values', async () => {
    const board = await boot('v1.27.0');
    const out = await board.run(
      [
        'import espnow, network',
        'print([getattr(espnow, "RATE_" + n) for n in ("1M", "2M", "5M", "11M", "6M", "12M", "24M", "54M", "LORA_250K", "LORA_500K")])',
        'print(network.WLAN.PROTOCOL_DEFAULT, network.WLAN.PROTOCOL_LR)',
      ].join('\n'),
    );
    expect(out).toBe('[0, 1, 2, 3, 11, 10, 9, 12, 41, 42]\r\n7 8\r\n');
  });

  it('has no protocol parameter before v1.20', async () => {
    const board = await boot('v1.19.1');
    const out = await board.run(
      'import network\nsta = network.WLAN(network.STA_IF)\ntry:\n    sta.config("protocol")\nexcept ValueError as x:\n    print(x)',
    );
    expect(out).toBe('unknown config param\r\n');
  });
});

describe('what the board tells the medium', () => {
  const medium = new FakeRadioMedium();
  const radio = medium.createPort();
  let board: RadioBoard;
  beforeAll(async () => {
    board = await boot('v1.27.0', radio);
    await board.run(`${SETUP}\nap = network.WLAN(network.AP_IF)`);
  });
  afterAll(async () => {
    await Promise.all(boards.splice(0).map((b) => b.stop()));
  });

  const lastRate = (): number | undefined => {
    const frame = medium.transmissions.at(-1);
    return frame === undefined ? undefined : transmissionPhyRate(frame);
  };

  it('sends at 1 Mbps until config(rate=…), then at that rate, per active interface', async () => {
    await board.run('e.add_peer(B)\ne.send(B, b"x", False)');
    expect(lastRate()).toBe(0x00);
    await board.run('e.config(rate=espnow.RATE_54M)\ne.send(B, b"x", False)');
    expect(lastRate()).toBe(0x0c);
    // The AP was inactive when the rate was set: its frames keep the default.
    await board.run('ap.active(True)\ne.add_peer(b"\\x24\\x0a\\xc4\\x00\\x00\\x07", ifidx=1)\ne.send(b"\\x24\\x0a\\xc4\\x00\\x00\\x07", b"x", False)');
    expect(lastRate()).toBe(0x00);
    await board.run('e.config(rate=espnow.RATE_LORA_500K)\ne.send(b"\\x24\\x0a\\xc4\\x00\\x00\\x07", b"x", False)\ne.send(B, b"x", False)');
    expect(medium.transmissions.slice(-2).map(transmissionPhyRate)).toEqual([0x2a, 0x2a]);
  });

  it('is in long-range mode while an active interface has PROTOCOL_LR', async () => {
    const port = (): boolean => radio.longRange;
    await board.run('ap.active(False)\nsta.active(True)');
    expect(port()).toBe(false);
    await board.run('sta.config(protocol=network.WLAN.PROTOCOL_DEFAULT | network.WLAN.PROTOCOL_LR)');
    expect(port()).toBe(true);
    await board.run('sta.active(False)');
    expect(port()).toBe(false);
    await board.run('sta.active(True)\nprint(sta.config("protocol"))');
    expect(port()).toBe(true);
    await board.run('sta.config(protocol=network.WLAN.PROTOCOL_DEFAULT)');
    expect(port()).toBe(false);
  });
});

describe('long-range frames on the lab medium', () => {
  let medium: RadioMedium;
  afterEach(() => medium.close());

  function port(id: string, mac: Uint8Array): { port: LabRadioPort; inbox: RadioReception[] } {
    const lab = new LabRadioPort(medium, id, mac);
    const inbox: RadioReception[] = [];
    lab.setWifiActive(true);
    lab.setEspNowActive(true);
    lab.onReceive((frame) => inbox.push(frame));
    return { port: lab, inbox };
  }
  const frame = (phyRate: number): Parameters<LabRadioPort['send']>[0] & { phyRate: number } => ({
    src: MAC_A,
    dst: MAC_B,
    payload: Uint8Array.of(1, 2, 3),
    encrypt: false,
    phyRate,
  });

  it('reach only a receiver in long-range mode; other rates reach every receiver', async () => {
    medium = makeMedium().medium;
    const a = port('a', MAC_A);
    const b = port('b', MAC_B);
    a.port.setLongRange(true);
    expect(await a.port.send(frame(0x29))).toEqual({ acked: false });
    expect(b.inbox).toHaveLength(0);
    expect(await a.port.send(frame(0x0c))).toEqual({ acked: true });
    expect(b.inbox).toHaveLength(1);
    b.port.setLongRange(true);
    expect(await a.port.send(frame(0x2a))).toEqual({ acked: true });
    expect(b.inbox).toHaveLength(2);
  });

  it('times each frame at the rate it was sent with', () => {
    medium = makeMedium({ timeModel: 'air-time' }).medium;
    const a = port('a', MAC_A);
    port('b', MAC_B);
    void a.port.send(frame(0x0c));
    const at54MbpsMs = medium.modelledDeliveryMs('a', 'b', 250);
    void a.port.send(frame(0x29));
    const at250KbpsMs = medium.modelledDeliveryMs('a', 'b', 250);
    void a.port.send(frame(0x04)); // no known rate: ESP-NOW's default 1 Mbps
    const atDefaultMs = medium.modelledDeliveryMs('a', 'b', 250);
    // DIFS 50 + mean backoff 310 µs, then preamble + 293 bytes (250 + ESP-NOW framing).
    expect(at54MbpsMs).toBeCloseTo((360 + 20 + (293 * 8) / 54) / 1000, 6);
    expect(at250KbpsMs).toBeCloseTo((360 + 192 + (293 * 8) / 0.25) / 1000, 6);
    expect(atDefaultMs).toBeCloseTo((360 + 192 + 293 * 8) / 1000, 6);
  });
});
