import { afterEach, describe, expect, it } from 'vitest';
import { BROADCAST_MAC, parseMac } from '../../../sim/radio/mac-address.ts';
import type { RadioMedium } from '../../../sim/radio/radio-medium.ts';
import { addBoard, bytes, makeMedium, texts } from './radio-fixture.ts';

describe('RadioMedium broadcast and channels', () => {
  let medium: RadioMedium;
  afterEach(() => medium.close());

  it('reaches every active radio on the channel except the sender, without ACK', async () => {
    medium = makeMedium().medium;
    const boards = [1, 2, 3, 4, 5, 6].map((n) => addBoard(medium, `b${n}`, n));
    const [sender, two, three, offAir, otherChannel, noEspNow] = boards as [typeof boards[0], typeof boards[0], typeof boards[0], typeof boards[0], typeof boards[0], typeof boards[0]];
    offAir.radio.setWifiActive(false);
    otherChannel.radio.setChannel(13);
    noEspNow.radio.setEspNow(null);

    expect(await sender.radio.send({ dst: BROADCAST_MAC, payload: bytes('all') })).toEqual({ acked: false, attempts: 1 });

    expect(texts(two.inbox)).toEqual(['all']);
    expect(texts(three.inbox)).toEqual(['all']);
    expect(sender.inbox).toEqual([]);
    expect(offAir.inbox).toEqual([]);
    expect(otherChannel.inbox).toEqual([]);
    expect(noEspNow.radio.counters.rxRejected).toBe(1);
    expect(sender.radio.counters).toMatchObject({ txFrames: 1, txAcked: 0, txFailed: 0, txAttempts: 1 });
    // Each receiver owns its payload.
    expect(two.inbox[0]?.payload).not.toBe(three.inbox[0]?.payload);
  });

  it('treats multicast addresses like broadcast', async () => {
    medium = makeMedium().medium;
    const a = addBoard(medium, 'a', 1);
    const b = addBoard(medium, 'b', 2);
    const outcome = await a.radio.send({ dst: parseMac('33:33:00:00:00:01'), payload: bytes('group') });
    expect(outcome.acked).toBe(false);
    expect(texts(b.inbox)).toEqual(['group']);
  });

  it('keeps channels apart: each channel hears only its own traffic', async () => {
    medium = makeMedium().medium;
    const [a1, b1, a6, b6] = [1, 2, 3, 4].map((n) => addBoard(medium, `b${n}`, n)) as [ReturnType<typeof addBoard>, ReturnType<typeof addBoard>, ReturnType<typeof addBoard>, ReturnType<typeof addBoard>];
    a6.radio.setChannel(6);
    b6.radio.setChannel(6);
    await Promise.all([a1.radio.send({ dst: BROADCAST_MAC, payload: bytes('on 1') }), a6.radio.send({ dst: BROADCAST_MAC, payload: bytes('on 6') })]);
    expect(texts(b1.inbox)).toEqual(['on 1']);
    expect(texts(b6.inbox)).toEqual(['on 6']);
  });

  it('keeps a frame on the channel it was sent on even if the sender retunes before it goes out', async () => {
    medium = makeMedium().medium;
    const a = addBoard(medium, 'a', 1);
    const b = addBoard(medium, 'b', 2);
    const sent = a.radio.send({ dst: BROADCAST_MAC, payload: bytes('x') });
    a.radio.setChannel(9);
    await sent;
    expect(b.inbox).toHaveLength(1);
  });
});
