/**
 * The errors of `espnow` (micropython-host-protocols.md §7.4, §7.6, §7.7): ESP-IDF codes as
 * OSError(-code, name) for every path the API can reach, ValueError for bad buffers and arguments,
 * message-size and peer limits. Not reachable in the simulation: ESP_ERR_ESPNOW_NO_MEM (the medium
 * never runs out of transmit buffers) and ESP_ERR_ESPNOW_INTERNAL.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeRadioMedium } from './fake-radio-medium.ts';
import { MAC_A, MAC_B, RESET, SETUP } from './espnow-fixture.ts';
import { RadioBoard } from './radio-board-harness.ts';

const medium = new FakeRadioMedium();
let a: RadioBoard;
let b: RadioBoard;

beforeAll(async () => {
  [a, b] = await RadioBoard.bootAll(medium, [MAC_A, MAC_B], SETUP) as [RadioBoard, RadioBoard];
});
afterAll(async () => {
  await Promise.all([a, b].map((board) => board.stop()));
});
beforeEach(async () => {
  medium.silent = false;
  await Promise.all([a, b].map((board) => board.run(`${RESET}\nap = network.WLAN(network.AP_IF)\nap.active(False)`)));
});

const lines = (...items: string[]): string => items.map((line) => `${line}\r\n`).join('');
const NOT_INIT = "OSError (-12389, 'ESP_ERR_ESPNOW_NOT_INIT')";
const ARG = "OSError (-12390, 'ESP_ERR_ESPNOW_ARG')";
const FULL = "OSError (-12392, 'ESP_ERR_ESPNOW_FULL')";
const NOT_FOUND = "OSError (-12393, 'ESP_ERR_ESPNOW_NOT_FOUND')";
const EXIST = "OSError (-12395, 'ESP_ERR_ESPNOW_EXIST')";
const IF = "OSError (-12396, 'ESP_ERR_ESPNOW_IF')";
const CHAN = "OSError (-12397, 'ESP_ERR_ESPNOW_CHAN')";
const BAD_LENGTH = "ValueError ('invalid buffer length',)";

describe('ESP_ERR_ESPNOW_NOT_INIT', () => {
  it('is raised by every method that needs an active instance', async () => {
    const calls = [
      'e.send, B, b"x"',
      'e.send, b"x"',
      'e.recv, 0',
      'e.irecv, 0',
      'e.recvinto, [None, bytearray(250)], 0',
      'e.any',
      'e.get_peers',
      'e.peer_count',
      'e.add_peer, B',
      'e.get_peer, B',
      'e.mod_peer, B',
      'e.del_peer, B',
      'e.set_pmk, b"0123456789abcdef"',
    ];
    const out = await a.run(`e.active(False)\nprint(e.active())\n${calls.map((call) => `err(${call})`).join('\n')}`);
    expect(out).toBe(lines('False', ...calls.map(() => NOT_INIT)));
  });

  it('leaves config, irq and stats usable while inactive', async () => {
    expect(await a.run('e.active(False)\ne.config(timeout_ms=10)\ne.irq(None)\nprint(e.config("timeout_ms"), len(e.stats()))')).toBe('10 5\r\n');
  });
});

describe('message size', () => {
  it('rejects 0 and 251 bytes with ESP_ERR_ESPNOW_ARG and delivers 250 bytes intact', async () => {
    const out = await a.run('e.add_peer(B)\nerr(e.send, B, b"")\nerr(e.send, B, bytes(251))\nprint(e.send(B, bytes(range(250))))');
    expect(out).toBe(lines(ARG, ARG, 'True'));
    expect(await b.run('mac, msg = e.recv(1000)\nprint(len(msg), msg == bytes(range(250)), espnow.MAX_DATA_LEN)')).toBe('250 True 250\r\n');
  });
});

describe('peers', () => {
  it('allows 20 peers in total and 6 encrypted ones (ESP_ERR_ESPNOW_FULL beyond)', async () => {
    const out = await a.run(
      [
        'print(espnow.MAX_TOTAL_PEER_NUM, espnow.MAX_ENCRYPT_PEER_NUM, espnow.KEY_LEN, espnow.ADDR_LEN)',
        'peers = [bytes([0x24, 0, 0, 0, 1, i]) for i in range(21)]',
        'for p in peers[:6]:',
        '    e.add_peer(p, b"0123456789abcdef")',
        'err(e.add_peer, peers[6], b"0123456789abcdef")',
        'for p in peers[6:19]:',
        '    e.add_peer(p)',
        'err(e.mod_peer, peers[10], encrypt=True)',
        'e.add_peer(BCAST)',
        'print(e.peer_count(), len(e.get_peers()))',
        'err(e.add_peer, peers[20])',
        'e.del_peer(peers[0])',
        'e.mod_peer(peers[10], lmk=b"fedcba9876543210")',
        'print(e.peer_count(), e.get_peer(peers[10])[1:])',
      ].join('\n'),
    );
    expect(out).toBe(lines('20 6 16 6', FULL, FULL, '(20, 6) 19', FULL, "(19, 6) (b'fedcba9876543210', 0, 0, True)"));
  });

  it('reports peers as (mac, lmk, channel, ifidx, encrypt) and rejects duplicates and unknown peers', async () => {
    const out = await a.run(
      [
        'e.add_peer(B, channel=1)',
        'print(e.get_peer(B))',
        'err(e.add_peer, B)',
        'e.mod_peer(B, channel=0, encrypt=False)',
        'print(e.get_peers())',
        'err(e.get_peer, C)',
        'err(e.mod_peer, C)',
        'err(e.del_peer, C)',
        'e.del_peer(B)',
        'err(e.del_peer, B)',
      ].join('\n'),
    );
    const zeros = "b'\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00'";
    expect(out).toBe(
      lines(`(b'$\\n\\xc4\\x00\\x00\\x02', ${zeros}, 1, 0, False)`, EXIST, `((b'$\\n\\xc4\\x00\\x00\\x02', ${zeros}, 0, 0, False),)`, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    );
  });

  it('rejects invalid peer arguments with ESP_ERR_ESPNOW_ARG and bad lengths with ValueError', async () => {
    const out = await a.run(
      [
        'err(e.add_peer, B, channel=15)',
        'err(e.add_peer, B, ifidx=2)',
        'err(e.add_peer, BCAST, b"0123456789abcdef")',
        'err(e.add_peer, b"\\x24\\x0a\\xc4")',
        'err(e.add_peer, B, b"short")',
        'err(e.get_peer, b"\\x24\\x0a\\xc4")',
        'err(e.set_pmk, b"0123456789abcde")',
        'e.add_peer(B, b"")',
        'e.add_peer(C, lmk=None, encrypt=True)',
        'print(e.get_peer(B)[4], e.get_peer(C)[4], e.peer_count())',
      ].join('\n'),
    );
    expect(out).toBe(lines(ARG, ARG, ARG, BAD_LENGTH, BAD_LENGTH, BAD_LENGTH, BAD_LENGTH, 'False True (2, 1)'));
  });
});

describe('sending', () => {
  it('raises NOT_FOUND for unregistered destinations, ValueError for a 3-byte MAC', async () => {
    const out = await a.run('err(e.send, B, b"x")\nerr(e.send, None, b"x")\ne.add_peer(BCAST)\nerr(e.send, b"x")\nerr(e.send, b"\\x24\\x0a\\xc4", b"x")');
    expect(out).toBe(lines(NOT_FOUND, NOT_FOUND, NOT_FOUND, BAD_LENGTH));
  });

  it('raises ESP_ERR_ESPNOW_IF when the peer\'s interface is inactive', async () => {
    const out = await a.run(
      'e.add_peer(B)\ne.add_peer(C, ifidx=1)\nerr(e.send, C, b"x")\nsta.active(False)\nerr(e.send, B, b"x")\nap.active(True)\nprint(e.send(C, b"x"))',
    );
    expect(out).toBe(lines(IF, IF, 'False'));
  });

  it('raises ESP_ERR_ESPNOW_CHAN when the peer\'s channel is not the radio\'s', async () => {
    const out = await a.run('e.add_peer(B, channel=6)\nerr(e.send, B, b"x")\nsta.config(channel=6)\nprint(e.send(B, b"x"))');
    expect(out).toBe(lines(CHAN, 'False'));
  });

  it('raises OSError(ETIMEDOUT) when the send callbacks never come; active(False) forgets them', async () => {
    medium.silent = true;
    const out = await a.run('e.add_peer(B)\nprint(e.send(B, b"x", False))\nerr(e.send, B, b"y")');
    expect(out).toBe(lines('True', 'OSError (110,)'));
    medium.silent = false;
    expect(await a.run('e.active(False)\ne.active(True)\ne.add_peer(B)\nprint(e.send(B, b"z"))')).toBe(lines('True'));
  });

  it('rejects keyword arguments and wrong argument counts with TypeError', async () => {
    const out = await a.run('e.add_peer(B)\nerr(e.send, B, b"x", sync=False)\nerr(e.send)\nerr(e.send, B, b"x", True, 4)\nerr(e.send, B, 5)');
    expect(out).toMatch(/^TypeError .*\r\nTypeError .*\r\nTypeError .*\r\nTypeError \('object with buffer protocol required',\)\r\n$/);
  });
});

describe('config and irq', () => {
  it('reads rxbuf and timeout_ms, rejects unknown names, needs an active interface for rate', async () => {
    const out = await a.run(
      [
        'print(e.config("rxbuf"), e.config("timeout_ms"))',
        'err(e.config, "bogus")',
        'err(e.config, bogus=1)',
        'e.config(rate=0)',
        'sta.active(False)',
        'err(e.config, rate=0x0C)',
        'print(hasattr(espnow, "RATE_1M"))',
      ].join('\n'),
    );
    // v1.24 takes wifi_phy_rate_t numbers; the RATE_* names came with v1.27 (espnow-rate.test.ts).
    expect(out).toBe(lines('528 300000', "ValueError ('unknown config param',)", "TypeError (\"unexpected keyword argument 'bogus'\",)", 'OSError (2,)', 'False'));
  });

  it('rejects a handler that is not callable', async () => {
    expect(await a.run('err(e.irq, 5)')).toBe(lines("ValueError ('invalid handler',)"));
  });

  it('shows ESP-IDF errors in tracebacks as the firmware does, without simulator frames', async () => {
    const { stderr } = await a.exec('e.send(B, b"")');
    expect(stderr).toBe("Traceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\nOSError: (-12390, 'ESP_ERR_ESPNOW_ARG')\r\n");
  });
});
