/**
 * Shared Python snippets and addresses for the ESP-NOW tests.
 */

/** Python `bytes` literal of a MAC. */
export function pyBytes(mac: Uint8Array): string {
  return `b'${[...mac].map((byte) => `\\x${byte.toString(16).padStart(2, '0')}`).join('')}'`;
}

export const MAC_A = Uint8Array.of(0x24, 0x0a, 0xc4, 0x00, 0x00, 0x01);
export const MAC_B = Uint8Array.of(0x24, 0x0a, 0xc4, 0x00, 0x00, 0x02);
export const MAC_C = Uint8Array.of(0x24, 0x0a, 0xc4, 0x00, 0x00, 0x03);
export const BROADCAST = new Uint8Array(6).fill(0xff);

/** The usual start of an ESP-NOW program (micropython-host-protocols.md §7.3), plus a helper that prints what a call raises. */
export const SETUP = [
  'import network, espnow, time',
  'sta = network.WLAN(network.STA_IF)',
  'sta.active(True)',
  'e = espnow.ESPNow()',
  'e.active(True)',
  'A, B, C = ' + [MAC_A, MAC_B, MAC_C].map(pyBytes).join(', '),
  'BCAST = b"\\xff" * 6',
  'def err(f, *args, **kwargs):',
  '    try:',
  '        f(*args, **kwargs)',
  '    except Exception as x:',
  '        print(type(x).__name__, x.args)',
  '    else:',
  '        print("no error")',
  'stats0 = e.stats()',
  'def mark():',
  '    global stats0',
  '    stats0 = e.stats()',
  'def delta():',
  '    now = e.stats()',
  '    return tuple(now[i] - stats0[i] for i in range(5))',
].join('\n');

/**
 * Back to a clean ESP-NOW state: fresh receive buffer of the default size, default timeout, no
 * peers, no irq, channel 1; `delta()` then gives the stats counted since.
 */
export const RESET = 'e.active(False)\ne.config(rxbuf=528, timeout_ms=300000)\ne.active(True)\nsta.active(True)\nsta.config(channel=1)\nmark()';
