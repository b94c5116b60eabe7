/**
 * The MicroPython programs of the ESP-NOW benchmark (espnow.bench.ts). Every figure is taken on the
 * board with `time.ticks_us()`, so it is what board code sees. Programs report by printing lines
 * `name value…` (integers), read back with {@link parseFigures}. They run in the REPL globals that
 * {@link setupProgram} and {@link pairProgram} leave: `e` (ESPNow), `P` (the peer's MAC), `time`.
 */

/** ESP-NOW's largest payload (v1), the message size of the benchmark. */
export const PAYLOAD_BYTES = 250;

/** Wi-Fi station on, ESP-NOW active with a receive buffer of `rxbufBytes`; prints the board's MAC in hex. */
export function setupProgram(rxbufBytes: number): string {
  return lines(
    'import network, espnow, time',
    'from array import array',
    'sta = network.WLAN(network.STA_IF)',
    'sta.active(True)',
    'e = espnow.ESPNow()',
    `e.config(rxbuf=${rxbufBytes})`,
    'e.active(True)',
    'print(sta.config("mac").hex())',
  );
}

/** Registers the other board (`macHex`) as peer `P`. */
export function pairProgram(macHex: string): string {
  return lines(`P = bytes.fromhex("${macHex}")`, 'e.add_peer(P)');
}

/** Reads and discards whatever waits in the receive buffer. */
export function drainProgram(): string {
  return lines('_b = [None, bytearray(250)]', 'while e.recvinto(_b, 0):', '    pass');
}

/**
 * Throughput, sending side: waits for the receiver's "ready", then sends `count` messages of
 * {@link PAYLOAD_BYTES} with `send(P, msg, sync)`. Prints `true_returns` (sends that returned True),
 * `span_us` (first send called → last send returned) and `tx_failures` (from `stats()`).
 */
export function throughputSenderProgram(count: number, sync: boolean): string {
  return lines(
    '_b = [None, bytearray(250)]',
    'if not e.recvinto(_b, 10000):',
    '    raise OSError("the receiver never said ready")',
    `msg = bytes(${PAYLOAD_BYTES})`,
    'ok = 0',
    's0 = e.stats()',
    't0 = time.ticks_us()',
    `for _ in range(${count}):`,
    `    if e.send(P, msg, ${sync ? 'True' : 'False'}):`,
    '        ok += 1',
    't1 = time.ticks_us()',
    's1 = e.stats()',
    'print("true_returns", ok)',
    'print("span_us", time.ticks_diff(t1, t0))',
    'print("tx_failures", s1[2] - s0[2])',
  );
}

/**
 * Throughput, receiving side: says "ready" to the sender, then receives until `count` messages or
 * `silenceMs` without one. Prints `received`, `span_us` (first message returned by recvinto → last)
 * and `dropped` (receive-buffer overflows, from `stats()`).
 */
export function throughputReceiverProgram(count: number, silenceMs: number): string {
  return lines(
    '_b = [None, bytearray(250)]',
    's0 = e.stats()',
    'e.send(P, b"ready")',
    'n = 0',
    't0 = t1 = 0',
    `while n < ${count}:`,
    `    if not e.recvinto(_b, ${silenceMs}):`,
    '        break',
    '    t1 = time.ticks_us()',
    '    if n == 0:',
    '        t0 = t1',
    '    n += 1',
    's1 = e.stats()',
    'print("received", n)',
    'print("span_us", time.ticks_diff(t1, t0))',
    'print("dropped", s1[4] - s0[4])',
  );
}

/**
 * Where the sender's time goes: `count` × `send(P, msg, False)` (the Python send path and the hand-over
 * to the host thread, no wait for the answer), then one sync send that waits for all the answers; and
 * the cost of the `ticks_us()` call the timing loops make. Prints `async_span_us`, `flush_us`, `ticks_us_cost`.
 */
export function senderPathProgram(count: number): string {
  return lines(
    `msg = bytes(${PAYLOAD_BYTES})`,
    't0 = time.ticks_us()',
    `for _ in range(${count}):`,
    '    e.send(P, msg, False)',
    't1 = time.ticks_us()',
    'e.send(P, msg)',
    't2 = time.ticks_us()',
    `for _ in range(${count}):`,
    '    time.ticks_us()',
    't3 = time.ticks_us()',
    'print("async_span_us", time.ticks_diff(t1, t0))',
    'print("flush_us", time.ticks_diff(t2, t1))',
    `print("ticks_us_cost", time.ticks_diff(t3, t2) // ${count})`,
  );
}

/** Sends `count` messages (sync) to a receiver that is not reading, so they wait in its buffer. */
export function fillPeerProgram(count: number): string {
  return lines(`msg = bytes(${PAYLOAD_BYTES})`, `for _ in range(${count}):`, '    e.send(P, msg)');
}

/**
 * Where the receiver's time goes: reads `count` messages that are already waiting with
 * `recvinto(_b, 0)` (the Python receive path alone, no waiting). Prints `waiting_span_us` and `read`.
 */
export function receivePathProgram(count: number): string {
  return lines(
    '_b = [None, bytearray(250)]',
    'n = 0',
    't0 = time.ticks_us()',
    `for _ in range(${count}):`,
    '    if e.recvinto(_b, 0):',
    '        n += 1',
    't1 = time.ticks_us()',
    'print("waiting_span_us", time.ticks_diff(t1, t0))',
    'print("read", n)',
  );
}

/**
 * Round trip, answering side: echoes `count` messages back to `P` (sync send, as board code does by
 * default). Prints `echoed`.
 */
export function pongProgram(count: number): string {
  return lines(
    '_b = [None, bytearray(250)]',
    'n = 0',
    `for _ in range(${count}):`,
    '    if not e.recvinto(_b, 5000):',
    '        break',
    '    e.send(P, _b[1])',
    '    n += 1',
    'print("echoed", n)',
  );
}

/**
 * Round trip, asking side: `warmup + count` pings of {@link PAYLOAD_BYTES} (sync send), each waiting
 * for its echo. For the last `count`, prints `rtt_us` (send called → echo returned by recvinto) and
 * `send_us` (send called → send returned, i.e. until the MAC-layer ACK was reported).
 */
export function pingProgram(warmup: number, count: number): string {
  return lines(
    '_b = [None, bytearray(250)]',
    `msg = bytes(${PAYLOAD_BYTES})`,
    `rtt = array("i", [0] * ${count})`,
    `snd = array("i", [0] * ${count})`,
    `for i in range(${warmup + count}):`,
    '    t0 = time.ticks_us()',
    '    e.send(P, msg)',
    '    t1 = time.ticks_us()',
    '    if not e.recvinto(_b, 5000):',
    '        raise OSError("echo %d lost" % i)',
    '    t2 = time.ticks_us()',
    `    if i >= ${warmup}:`,
    `        rtt[i - ${warmup}] = time.ticks_diff(t2, t0)`,
    `        snd[i - ${warmup}] = time.ticks_diff(t1, t0)`,
    'print("rtt_us", " ".join(str(x) for x in rtt))',
    'print("send_us", " ".join(str(x) for x in snd))',
  );
}

/**
 * Reads the `name value…` lines a program printed.
 * @throws Error when a line is not of that form (the board printed something unexpected).
 */
export function parseFigures(stdout: string): Map<string, number[]> {
  const figures = new Map<string, number[]>();
  for (const line of stdout.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const [name, ...values] = line.trim().split(/\s+/);
    const numbers = values.map(Number);
    if (name === undefined || numbers.length === 0 || numbers.some((n) => !Number.isFinite(n))) throw new Error(`unexpected board output: ${line}`);
    figures.set(name, numbers);
  }
  return figures;
}

/** The single value of figure `name`. @throws Error when missing. */
export function figure(figures: Map<string, number[]>, name: string): number {
  const value = figures.get(name)?.[0];
  if (value === undefined) throw new Error(`the board did not report ${name}`);
  return value;
}

function lines(...source: string[]): string {
  return source.join('\n');
}
