/**
 * Controller events become Python callbacks (micropython-host-protocols.md §8.2, mp_usbd_runtime.c):
 * open_itf_cb per interface on Set Configuration, control transfers stage by stage with their
 * replies, transfers submitted and completed, bus resets that forget pending transfers. The events
 * come through shared memory and run as scheduled callbacks at sleeps (`until` sleeps) and at the
 * idle REPL.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UNTIL_PY, UsbdTestBoard } from './usbd-test-board.ts';

// Device descriptor, then a configuration: header (9), IAD (8) + interface 2 (9) + endpoint 0x83 (7),
// interface 3 (9) + endpoints 0x04 and 0x84 (7 + 7). Interfaces start at BUILTIN_CDC.itf_max.
const DEV = '12011001000000401a2b3c4d000101020301';
const CFG =
  '09023800020100803208' + // header; the IAD follows at offset 9
  '0b0202020202000009' + // (deliberately odd filler so offsets are not round numbers)
  '04020001020200000705830308001009040300020a0000000705040240000007058402400000';
const OPEN_ITF = { offset: 9, length: 24 };
const SECOND_ITF = { offset: 33, length: 23 };

const SETUP = `${UNTIL_PY}
import machine
u = machine.USBDevice()
log = []
ctl_answers = {}
def itf(desc):
    log.append(("itf", bytes(desc)))
def reset():
    log.append(("reset",))
def ctl(stage, req):
    log.append(("ctl", stage, bytes(req)))
    answer = ctl_answers.get((req[1], stage), False)
    if isinstance(answer, Exception):
        raise answer
    return answer
def xfer(ep, result, n):
    log.append(("xfer", ep, result, n))
u.config(bytes.fromhex("${DEV}"), bytes.fromhex("${CFG}"), None, itf, reset, ctl, xfer)
u.builtin_driver = u.BUILTIN_CDC
u.active(True)
`;

let board: UsbdTestBoard;
let controlId = 0;

beforeAll(async () => {
  board = await UsbdTestBoard.boot();
});
afterAll(async () => {
  await board.stop();
});
beforeEach(async () => {
  await board.softReset();
  await board.run(SETUP);
});

/** The printed `repr` of the board's `log` (which is then cleared). */
async function takeLog(): Promise<string> {
  return (await board.run('print(log)\nlog.clear()')).trim();
}

/** Puts the device in the configured state and waits for the callbacks. */
async function configure(): Promise<void> {
  board.usb.inject({ kind: 'configured', configured: true, openInterfaces: [OPEN_ITF, SECOND_ITF] });
  await board.run('until(lambda: len(log) >= 2)');
}

describe('Set Configuration', () => {
  it('calls open_itf_cb with a memoryview of each interface in desc_cfg', async () => {
    expect(await board.run('print(u.submit_xfer(0x84, b"early"))')).toBe('False\r\n');
    await configure();
    const cfg = Buffer.from(CFG, 'hex');
    const hexLog = (await board.run('print([(e[0], e[1].hex()) for e in log])')).trim();
    expect(hexLog).toBe(`[('itf', '${cfg.subarray(9, 33).toString('hex')}'), ('itf', '${cfg.subarray(33, 56).toString('hex')}')]`);
  });

  it('a deconfiguration makes transfers fail again', async () => {
    await configure();
    expect(await board.run('print(u.submit_xfer(0x84, b"x"))')).toBe('True\r\n');
    board.usb.inject({ kind: 'configured', configured: false, openInterfaces: [] });
    // No callback for this one: a control transfer after it shows when it has been taken.
    board.usb.inject({ kind: 'control', id: 900, stage: 1, setup: Uint8Array.of(0xc0, 1, 0, 0, 0, 0, 0, 0) });
    await board.usb.controlReply(900, 1);
    expect(await board.run('print(u.submit_xfer(0x83, b"x"))')).toBe('False\r\n');
  });
});

describe('control transfers', () => {
  const send = (stage: 1 | 2 | 3, setup: number[], data?: number[]): number => {
    if (stage === 1) controlId++;
    board.usb.inject({ kind: 'control', id: controlId, stage, setup: Uint8Array.from(setup), ...(data === undefined ? {} : { data: Uint8Array.from(data) }) });
    return controlId;
  };

  it('IN: a buffer at SETUP is sent (cut to wLength), then DATA and ACK continue', async () => {
    await board.run('ctl_answers[(0x06, 1)] = b"hello world"\nctl_answers[(0x06, 2)] = True\nctl_answers[(0x06, 3)] = True');
    const setup = [0x80, 0x06, 0x00, 0x22, 0x02, 0x00, 0x05, 0x00];
    const id = send(1, setup);
    expect(await board.usb.controlReply(id, 1)).toEqual({ kind: 'control-reply', id, stage: 1, action: 'data', data: new TextEncoder().encode('hello') });
    send(2, setup);
    expect(await board.usb.controlReply(id, 2)).toEqual({ kind: 'control-reply', id, stage: 2, action: 'continue' });
    send(3, setup);
    expect(await board.usb.controlReply(id, 3)).toEqual({ kind: 'control-reply', id, stage: 3, action: 'continue' });
    expect(await board.run('print([(e[1], e[2].hex()) for e in log])')).toBe(
      "[(1, '8006002202000500'), (2, '8006002202000500'), (3, '8006002202000500')]\r\n",
    );
  });

  it('OUT: a writable buffer at SETUP takes the DATA stage bytes before the DATA callback', async () => {
    await board.run(
      [
        'out_buf = bytearray(8)',
        'seen = []',
        'def out_ctl(stage, req):',
        '    seen.append((stage, bytes(out_buf)))',
        '    return out_buf if stage == 1 else True',
        'ctl_answers.clear()',
        'u.active(False)',
        `u.config(bytes.fromhex("${DEV}"), bytes.fromhex("${CFG}"), None, itf, reset, out_ctl, xfer)`,
        'u.active(True)',
      ].join('\n'),
    );
    const setup = [0x21, 0x20, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00];
    const id = send(1, setup);
    expect(await board.usb.controlReply(id, 1)).toEqual({ kind: 'control-reply', id, stage: 1, action: 'data', length: 4 });
    send(2, setup, [1, 2, 3, 4]);
    expect(await board.usb.controlReply(id, 2)).toMatchObject({ action: 'continue' });
    send(3, setup);
    expect(await board.usb.controlReply(id, 3)).toMatchObject({ action: 'continue' });
    expect(await board.run('print([(s, b.hex()) for s, b in seen])')).toBe("[(1, '0000000000000000'), (2, '0102030400000000'), (3, '0102030400000000')]\r\n");
  });

  it('stalls when the callback returns False', async () => {
    const id = send(1, [0xa1, 0x01, 0, 0, 2, 0, 8, 0]);
    expect(await board.usb.controlReply(id, 1)).toEqual({ kind: 'control-reply', id, stage: 1, action: 'stall' });
  });

  it('stalls when the callback raises, printing the exception at the idle REPL', async () => {
    await board.run('ctl_answers[(0x0a, 1)] = ValueError("boom")');
    const id = send(1, [0xa1, 0x0a, 0, 0, 2, 0, 1, 0]);
    expect(await board.usb.controlReply(id, 1)).toMatchObject({ action: 'stall' });
    expect(await board.readUntil('ValueError: boom\r\n')).toContain('Traceback (most recent call last):');
    // The VM carries on.
    expect(await board.run('print(len(log))')).toBe('1\r\n');
  });

  it('stalls every request when no control_xfer_cb was given', async () => {
    await board.run(`u.active(False)\nu.config(bytes.fromhex("${DEV}"), bytes.fromhex("${CFG}"))\nu.active(True)`);
    const id = send(1, [0xc0, 0x01, 0, 0, 0, 0, 4, 0]);
    expect(await board.usb.controlReply(id, 1)).toMatchObject({ action: 'stall' });
  });
});

describe('transfers', () => {
  it('submits IN bytes and OUT buffer sizes; completion copies OUT data and calls xfer_cb', async () => {
    await configure();
    const mark = board.usb.mark();
    await board.run('log.clear()\nbuf = bytearray(8)\nprint(u.submit_xfer(0x84, b"abc"), u.submit_xfer(0x84, b"again"), u.submit_xfer(0x04, buf))');
    const submits = board.usb.messages(mark);
    expect(submits).toEqual([
      { kind: 'submit', endpoint: 0x84, data: new TextEncoder().encode('abc') },
      { kind: 'submit', endpoint: 0x04, length: 8 },
    ]);
    board.usb.inject({ kind: 'xfer-complete', endpoint: 0x84, length: 3 });
    board.usb.inject({ kind: 'xfer-complete', endpoint: 0x04, length: 4, data: Uint8Array.of(9, 8, 7, 6) });
    await board.run('until(lambda: len(log) >= 2)');
    expect(await board.run('print(log, buf.hex())')).toBe("[('xfer', 132, 0, 3), ('xfer', 4, 0, 4)] 0908070600000000\r\n");
    expect(await board.run('print(u.submit_xfer(0x84, b"next"))')).toBe('True\r\n');
  });

  it('a bus reset calls reset_cb and forgets pending transfers, which never complete', async () => {
    await configure();
    await board.run('log.clear()\nprint(u.submit_xfer(0x84, b"lost"))');
    board.usb.inject({ kind: 'bus-reset' });
    board.usb.inject({ kind: 'xfer-complete', endpoint: 0x84, length: 4 });
    await board.run('until(lambda: log)');
    // Both events were taken before the VM went idle again; only the reset called back.
    await board.run('time.sleep_ms(20)');
    expect(await takeLog()).toBe("[('reset',)]");
    expect(await board.run('print(u.submit_xfer(0x84, b"x"))')).toBe('False\r\n');
    await configure();
    expect(await board.run('print(u.submit_xfer(0x84, b"x"))')).toBe('True\r\n');
  });

  it('runs callbacks in a busy loop that only reads the clock', async () => {
    await configure();
    await board.run('log.clear()\nu.submit_xfer(0x84, b"x")');
    await board.begin(
      ['print("ready")', 'start = time.ticks_ms()', 'while not log and time.ticks_diff(time.ticks_ms(), start) < 5000:', '    pass', 'print(log)'].join('\n'),
    );
    await board.readUntil('ready\r\n');
    board.usb.inject({ kind: 'xfer-complete', endpoint: 0x84, length: 1 });
    expect(await board.finish()).toEqual({ stdout: "[('xfer', 132, 0, 1)]\r\n", stderr: '' });
  });

  it('runs callbacks while the board idles at the REPL', async () => {
    await board.run(
      `def loud(ep, result, n):\n    print("XFER", ep, n)\nu.active(False)\nu.config(bytes.fromhex("${DEV}"), bytes.fromhex("${CFG}"), None, itf, reset, ctl, loud)\nu.active(True)`,
    );
    await configure();
    await board.run('u.submit_xfer(0x04, bytearray(64))');
    board.usb.inject({ kind: 'xfer-complete', endpoint: 0x04, length: 64, data: new Uint8Array(64) });
    expect(await board.readUntil('XFER 4 64\r\n')).toBe('XFER 4 64\r\n');
  });
});
