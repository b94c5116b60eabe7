/**
 * The irq callback of a received packet runs at the next VM check point even in a busy loop that only
 * polls the clock (upstream tests/multi_espnow/60_irq_test.py waits like this): on hardware the Wi-Fi
 * task schedules it with mp_sched_schedule(); here every clock read is a safe point that schedules it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeRadioMedium } from './fake-radio-medium.ts';
import { MAC_A, MAC_B, SETUP } from './espnow-fixture.ts';
import { RadioBoard } from './radio-board-harness.ts';

const medium = new FakeRadioMedium();
let a: RadioBoard;
let b: RadioBoard;

beforeAll(async () => {
  [a, b] = await Promise.all([RadioBoard.boot({ mac: MAC_A, radio: medium.createPort() }), RadioBoard.boot({ mac: MAC_B, radio: medium.createPort() })]);
  await Promise.all([a, b].map((board) => board.run(SETUP)));
});
afterAll(async () => {
  await Promise.all([a, b].map((board) => board.stop()));
});

describe('irq during a busy loop', () => {
  it('runs the callback while the loop only reads ticks_ms()', async () => {
    await a.begin(
      [
        'got = []',
        'e.irq(lambda e: got.append(e.irecv(0)[1]))',
        'print("ready")',
        'start = time.ticks_ms()',
        'while not got and time.ticks_diff(time.ticks_ms(), start) < 5000:',
        '    pass',
        'print(got)',
      ].join('\n'),
    );
    await a.readUntil('ready\r\n');
    await b.run('e.add_peer(A)\ne.send(A, b"wake")');
    const { stdout, stderr } = await a.finish();
    expect(stderr).toBe('');
    expect(stdout).toBe("[bytearray(b'wake')]\r\n");
  });
});
