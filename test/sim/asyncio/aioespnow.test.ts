/**
 * `aioespnow.AIOESPNow` between simulated boards over a fake medium (micropython-host-protocols.md
 * §7.9): asend/arecv, airecv, `async for`, tasks sending while others receive, writability while a
 * sent packet awaits its answer, irq callbacks setting a ThreadSafeFlag, and irq callbacks running
 * while the board idles at the REPL.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeRadioMedium } from '../espnow/fake-radio-medium.ts';
import { MAC_A, MAC_B, RESET, SETUP } from '../espnow/espnow-fixture.ts';
import { RadioBoard } from '../espnow/radio-board-harness.ts';

const medium = new FakeRadioMedium();
let a: RadioBoard;
let b: RadioBoard;

beforeAll(async () => {
  [a, b] = await RadioBoard.bootAll(medium, [MAC_A, MAC_B], `${SETUP}\nimport asyncio, aioespnow\nae = aioespnow.AIOESPNow()`) as [RadioBoard, RadioBoard];
});
afterAll(async () => {
  await Promise.all([a, b].map((board) => board.stop()));
});
beforeEach(async () => {
  medium.silent = false;
  await Promise.all([a.run(`${RESET}\ne.add_peer(B)\nasyncio.new_event_loop()`), b.run(`${RESET}\ne.add_peer(A)\nasyncio.new_event_loop()`)]);
});

/** B's echo server: answers every message with "echo:" + message until it receives b"halt". */
const ECHO_SERVER = [
  'async def echo():',
  '    print("serving")',
  '    async for mac, msg in ae:',
  '        if msg == b"halt":',
  '            return "halted"',
  '        await ae.asend(mac, b"echo:" + msg)',
  'print(asyncio.run(echo()))',
].join('\n');

describe('AIOESPNow', () => {
  it('is an espnow.ESPNow sharing the singleton\'s state', async () => {
    expect(await a.run('print(isinstance(ae, espnow.ESPNow), ae.active(), ae.get_peers() == e.get_peers())')).toBe('True True True\r\n');
  });

  it('echoes: asend() then arecv() against an async-for server on the other board', async () => {
    await b.begin(ECHO_SERVER);
    await b.readUntil('serving\r\n');
    const out = await a.run(
      [
        'async def client():',
        '    replies = []',
        '    for word in (b"one", b"two", b"three"):',
        '        ok = await ae.asend(B, word)',
        '        mac, msg = await ae.arecv()',
        '        replies.append((ok, mac == B, msg))',
        '    await ae.asend(B, b"halt")',
        '    return replies',
        'print(asyncio.run(client()))',
      ].join('\n'),
    );
    expect(out).toBe("[(True, True, b'echo:one'), (True, True, b'echo:two'), (True, True, b'echo:three')]\r\n");
    expect(await b.finish()).toEqual({ stdout: 'halted\r\n', stderr: '' });
  });

  it('runs a sending task and a receiving task side by side on each board', async () => {
    await b.begin(ECHO_SERVER);
    await b.readUntil('serving\r\n');
    const out = await a.run(
      [
        'received = []',
        'async def sender():',
        '    for i in range(5):',
        '        await ae.asend(B, b"m%d" % i)',
        '        await asyncio.sleep_ms(2)',
        'async def receiver():',
        '    while len(received) < 5:',
        '        mac, msg = await ae.arecv()',
        '        received.append(msg)',
        'async def main():',
        '    await asyncio.gather(receiver(), sender())',
        '    await ae.asend(B, b"halt")',
        'asyncio.run(main())',
        'print(received)',
      ].join('\n'),
    );
    expect(out).toBe("[b'echo:m0', b'echo:m1', b'echo:m2', b'echo:m3', b'echo:m4']\r\n");
    expect(await b.finish()).toEqual({ stdout: 'halted\r\n', stderr: '' });
  });

  it('airecv() returns the reused irecv() list; asend(msg) goes to every peer; an unanswered asend() is False', async () => {
    const out = await a.run(
      [
        'e.add_peer(b"\\x24\\x0a\\xc4\\x00\\x00\\x09")',
        'async def main():',
        '    to_all = await ae.asend(b"to-all")',
        '    lost = await ae.asend(b"\\x24\\x0a\\xc4\\x00\\x00\\x09", b"nobody")',
        '    direct = await ae.asend(B, b"direct", None)',
        '    return to_all, lost, direct',
        'print(asyncio.run(main()))',
      ].join('\n'),
    );
    expect(out).toBe('(False, False, True)\r\n'); // asend(msg) reached B, but the unknown peer never answers
    const received = await b.run(
      [
        'async def main():',
        '    first = await ae.airecv()',
        '    print(first[0] == A, first[1])',
        '    second = await ae.airecv()',
        '    return first is second, bytes(second[1])',
        'print(asyncio.run(main()))',
      ].join('\n'),
    );
    expect(received).toBe("True bytearray(b'to-all')\r\n(True, b'direct')\r\n");
  });

  it('asend() waits while a packet sent earlier still awaits its answer (not writable)', async () => {
    medium.silent = true;
    const out = await a.run(
      [
        'e.send(B, b"unanswered", False)',
        'async def main():',
        '    try:',
        '        await asyncio.wait_for_ms(ae.asend(B, b"next"), 100)',
        '    except asyncio.TimeoutError:',
        '        return "still waiting"',
        'print(asyncio.run(main()), ae.ioctl(3, 1 | 4))',
      ].join('\n'),
    );
    expect(out).toBe('still waiting 0\r\n');
  });

  it('arecv() waits without CPU and ends on Ctrl-C with KeyboardInterrupt', async () => {
    await b.begin('async def wait():\n    print("waiting")\n    return await ae.arecv()\nasyncio.run(wait())');
    await b.readUntil('waiting\r\n');
    const before = process.cpuUsage();
    const startedAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const used = process.cpuUsage(before);
    expect((used.user + used.system) / 1000 / (performance.now() - startedAt)).toBeLessThan(0.5);
    b.send('\x03');
    expect((await b.finish()).stderr).toMatch(/KeyboardInterrupt: \r\n$/);
  });

  it('an irq callback that sets a ThreadSafeFlag wakes the task waiting for it', async () => {
    await b.begin(
      [
        'flag = asyncio.ThreadSafeFlag()',
        'ae.irq(lambda obj: flag.set())',
        'async def main():',
        '    print("armed")',
        '    await flag.wait()',
        '    return ae.recv(0)[1]',
        'print(asyncio.run(main()))',
        'ae.irq(None)',
      ].join('\n'),
    );
    await b.readUntil('armed\r\n');
    await a.run('e.send(B, b"flagged")');
    expect(await b.finish()).toEqual({ stdout: "b'flagged'\r\n", stderr: '' });
  });
});

describe('irq callbacks while the board idles at the REPL', () => {
  it('run for packets received between commands', async () => {
    await b.run('got = []\ndef cb(obj):\n    got.append(bytes(obj.irecv(0)[1]))\n    print("cb", got[-1])\ne.irq(cb)');
    await a.run('e.send(B, b"idle-1")\ne.send(B, b"idle-2")');
    // Nothing runs on B meanwhile: the callbacks run (and print) while its raw REPL waits for input.
    expect(await b.readUntil("cb b'idle-2'\r\n")).toBe("cb b'idle-1'\r\ncb b'idle-2'\r\n");
    expect(await b.run('e.irq(None)\nprint(got, e.any())')).toBe("[b'idle-1', b'idle-2'] False\r\n");
  });
});
