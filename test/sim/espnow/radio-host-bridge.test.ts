/**
 * The host thread's end of a board's radio: worker messages reach the port (with changes only),
 * send results and received frames come back through shared memory with a doorbell, group sends
 * count as delivered, and a disposed bridge leaves the board's radio off at the medium.
 */
import { describe, expect, it } from 'vitest';
import { RadioHostBridge } from '../../../sim/micropython/radio-host-bridge.ts';
import { RadioReceiveRing } from '../../../sim/micropython/radio-receive-ring.ts';
import { FakeRadioMedium } from './fake-radio-medium.ts';

const MAC_A = Uint8Array.of(0x24, 0, 0, 0, 0, 1);
const MAC_B = Uint8Array.of(0x24, 0, 0, 0, 0, 2);
const BROADCAST = new Uint8Array(6).fill(0xff);

function setup(): { bridge: RadioHostBridge; medium: FakeRadioMedium; wakes: () => number; port: ReturnType<FakeRadioMedium['createPort']> } {
  const medium = new FakeRadioMedium();
  const port = medium.createPort();
  let wakes = 0;
  const bridge = new RadioHostBridge(port, () => wakes++);
  return { bridge, medium, port, wakes: () => wakes };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('RadioHostBridge', () => {
  it('passes Wi-Fi, ESP-NOW and key state to the port', () => {
    const { bridge, port } = setup();
    expect(port.receiverCount).toBe(1);
    bridge.handle({ type: 'radio-wifi', active: true, addresses: [MAC_A], channel: 6, longRange: false });
    expect(port).toMatchObject({ wifiActive: true, channel: 6, addresses: [MAC_A] });
    const ring = RadioReceiveRing.create(100);
    bridge.handle({ type: 'radio-espnow', active: true, ringBuffer: ring.buffer });
    expect(port.espNowActive).toBe(true);
    const lmk = new Uint8Array(16).fill(5);
    bridge.handle({ type: 'radio-keys', pmk: new Uint8Array(16).fill(1), peers: [['240000000002', lmk], ['ffffffffffff', null]] });
    expect(port.pmk).toEqual(new Uint8Array(16).fill(1));
    expect([...port.peers]).toEqual([['240000000002', lmk], ['ffffffffffff', null]]);
  });

  it('counts unicast answers as the medium gives them and group sends as delivered', async () => {
    const { bridge, wakes } = setup();
    bridge.handle({ type: 'radio-wifi', active: true, addresses: [MAC_A], channel: 1, longRange: false });
    bridge.handle({ type: 'radio-send', src: MAC_A, dst: MAC_B, payload: Uint8Array.of(1), encrypt: false, phyRate: 0 });
    bridge.handle({ type: 'radio-send', src: MAC_A, dst: BROADCAST, payload: Uint8Array.of(1), encrypt: false, phyRate: 0 });
    await flush();
    expect(bridge.mailbox.counters()).toEqual({ txResponses: 2, txFailures: 1, rxPackets: 0, rxDropped: 0 });
    expect(wakes()).toBe(2);
  });

  it('stores received frames while ESP-NOW is active, counting drops, and wakes the worker', () => {
    const { bridge, port, wakes } = setup();
    port.deliver({ src: MAC_B, payload: Uint8Array.of(1), rssi: -30 });
    expect(bridge.mailbox.counters().rxPackets).toBe(0);
    const ring = RadioReceiveRing.create(30);
    bridge.handle({ type: 'radio-espnow', active: true, ringBuffer: ring.buffer });
    port.deliver({ src: MAC_B, payload: Uint8Array.of(1, 2), rssi: -30 });
    port.deliver({ src: MAC_B, payload: Uint8Array.of(3, 4), rssi: -30 });
    expect(bridge.mailbox.counters()).toMatchObject({ rxPackets: 1, rxDropped: 1 });
    expect(wakes()).toBe(2);
    expect(ring.take()).toMatchObject({ src: MAC_B, payload: Uint8Array.of(1, 2), rssi: -30 });
  });

  it('answers unicast sends as not delivered without a port', async () => {
    const bridge = new RadioHostBridge(undefined, () => {});
    bridge.handle({ type: 'radio-send', src: MAC_A, dst: MAC_B, payload: Uint8Array.of(1), encrypt: false, phyRate: 0 });
    await flush();
    expect(bridge.mailbox.counters()).toMatchObject({ txResponses: 1, txFailures: 1 });
  });

  it('turns the board off at the medium and stops receiving when disposed', async () => {
    const { bridge, port, medium } = setup();
    medium.silent = false;
    bridge.handle({ type: 'radio-wifi', active: true, addresses: [MAC_A], channel: 3, longRange: false });
    bridge.handle({ type: 'radio-espnow', active: true, ringBuffer: RadioReceiveRing.create(100).buffer });
    bridge.handle({ type: 'radio-send', src: MAC_A, dst: MAC_B, payload: Uint8Array.of(1), encrypt: false, phyRate: 0 });
    bridge.dispose();
    await flush();
    expect(port).toMatchObject({ wifiActive: false, espNowActive: false, addresses: [] });
    expect(port.receiverCount).toBe(0);
    expect(bridge.mailbox.counters().txResponses).toBe(0);
  });
});
