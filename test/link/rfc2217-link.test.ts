import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isHilError, type ErrorCode } from '../../runner/errors.ts';
import { Rfc2217Link, openRfc2217Link } from '../../runner/link/rfc2217-link.ts';
import { Telnet, TelnetDecoder, TelnetOption, encodeComPortCommand, encodeNegotiation } from '../../runner/link/telnet-codec.ts';
import { Rfc2217Server } from '../../sim/rfc2217/rfc2217-server.ts';
import { FakeSimSerialPort } from '../sim/rfc2217/fake-sim-serial-port.ts';
import { waitFor } from '../sim/rfc2217/raw-telnet-client.ts';

const { IAC, WILL, DO, DONT } = Telnet;
const COM_PORT = TelnetOption.COM_PORT;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error('expected a rejection'),
    (err: unknown) => err,
  );
}

function expectHilError(err: unknown, code: ErrorCode): void {
  expect(isHilError(err) ? err.code : err).toBe(code);
}

/** A bare TCP server whose behaviour per connection is the test's; records what each client sent. */
class ScriptedServer {
  readonly received: number[] = [];
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  port = 0;

  constructor(onConnection: (socket: net.Socket, received: number[]) => void) {
    this.#server = net.createServer((socket) => {
      this.#sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => this.received.push(...chunk));
      onConnection(socket, this.received);
    });
  }

  get url(): string {
    return `rfc2217://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', () => resolve()));
    const address = this.#server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
    return this;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * A minimal but sloppy RFC 2217 responder for client tests: agrees to COM-PORT, echoes every
 * SET_* as its acknowledgement, and sprinkles protocol garbage between its answers.
 */
function sloppyResponder(socket: net.Socket): void {
  const decoder = new TelnetDecoder();
  socket.write(Uint8Array.of(IAC, 0x41, IAC, Telnet.NOP)); // IAC + non-command, then a NOP
  socket.write(encodeNegotiation(WILL, COM_PORT));
  socket.on('data', (chunk: Buffer) => {
    for (const event of decoder.push(chunk)) {
      if (event.type === 'negotiation' && event.verb === WILL && event.option === COM_PORT) {
        socket.write(Uint8Array.of(IAC, Telnet.SB, 99, 1, 2, 3, IAC, Telnet.SE)); // unknown option SB
        socket.write(encodeNegotiation(DO, COM_PORT));
      }
      if (event.type === 'subnegotiation' && event.option === COM_PORT) {
        const [command, ...value] = event.payload;
        if (command === undefined) continue;
        socket.write(encodeComPortCommand(107, [0x30])); // unsolicited NOTIFY_MODEMSTATE
        socket.write(encodeComPortCommand(command + 100, command === 5 && value[0] === 7 ? [9] : command === 5 && value[0] === 10 ? [12] : value));
      }
    }
  });
}

describe('Rfc2217Link against a scripted peer', () => {
  let peer: ScriptedServer | undefined;
  afterEach(async () => {
    await peer?.close();
    peer = undefined;
  });

  it('opens with WILL/DO COM-PORT, WILL/DO BINARY, WILL/DO SGA and fails when DO COM-PORT never comes', async () => {
    peer = await new ScriptedServer(() => undefined).listen();
    const err = await rejection(openRfc2217Link(peer.url, { timeoutMs: 300 }));
    expectHilError(err, 'RFC2217_NEGOTIATION');
    expect((err as Error).message).toContain('does not speak RFC 2217');
    expect((err as Error).message).toContain(peer.url);
    expect(peer.received).toEqual([
      IAC, WILL, COM_PORT, IAC, DO, COM_PORT,
      IAC, WILL, TelnetOption.BINARY, IAC, DO, TelnetOption.BINARY,
      IAC, WILL, TelnetOption.SGA, IAC, DO, TelnetOption.SGA,
    ]);
  });

  it('fails at once when the peer refuses COM-PORT', async () => {
    peer = await new ScriptedServer((socket) => socket.write(Uint8Array.of(IAC, DONT, COM_PORT))).listen();
    expectHilError(await rejection(openRfc2217Link(peer.url, { timeoutMs: 20_000 })), 'RFC2217_NEGOTIATION');
  });

  it('fails with RFC2217_NEGOTIATION when a non-Telnet server talks and hangs up', async () => {
    peer = await new ScriptedServer((socket) => socket.end('SSH-2.0-OpenSSH_9.6\r\n')).listen();
    expectHilError(await rejection(openRfc2217Link(peer.url, { timeoutMs: 3000 })), 'RFC2217_NEGOTIATION');
  });

  it('survives a peer that sends random garbage and fails the open cleanly', async () => {
    peer = await new ScriptedServer((socket) => {
      const garbage = new Uint8Array(32 * 1024);
      let x = 99;
      for (let i = 0; i < garbage.length; i++) {
        x = (x * 1103515245 + 12345) >>> 0;
        const r = (x >>> 16) & 0xff;
        // Plenty of IAC, SB and option 44, but never "DO 44" on purpose (0xFD is remapped).
        garbage[i] = r === 0xfd ? 0x00 : r < 40 ? 0xff : r < 60 ? 0xfa : r;
      }
      socket.end(garbage);
    }).listen();
    const err = await rejection(openRfc2217Link(peer.url, { timeoutMs: 2000 }));
    expect(isHilError(err, 'RFC2217_NEGOTIATION')).toBe(true);
  });

  it('skips protocol garbage and unsolicited notifications from a sloppy but working server', async () => {
    const sockets: net.Socket[] = [];
    peer = await new ScriptedServer((socket) => {
      sockets.push(socket);
      sloppyResponder(socket);
    }).listen();
    const link = await openRfc2217Link(peer.url, { baudRate: 921600, timeoutMs: 3000 });
    try {
      expect(link.isOpen).toBe(true);
      expect(link.baudRate).toBe(921600);
      expect(link.signals).toEqual({ dtr: false, rts: false });
      await link.setSignals({ dtr: true });
      expect(link.signals).toEqual({ dtr: true, rts: false });
      const got: number[] = [];
      link.onData((chunk) => got.push(...chunk));
      sockets[0]?.write(Uint8Array.of(0x68, IAC, 0x42, 0x69, IAC, IAC, IAC, Telnet.GA));
      await waitFor(() => got.length >= 3, 'the data bytes');
      expect(got).toEqual([0x68, 0x69, 0xff]);
    } finally {
      await link.close();
    }
  });

  it('fails with RFC2217_NEGOTIATION when the server applies another baud rate', async () => {
    peer = await new ScriptedServer((socket) => {
      const decoder = new TelnetDecoder();
      socket.write(encodeNegotiation(DO, COM_PORT));
      socket.on('data', (chunk: Buffer) => {
        for (const event of decoder.push(chunk)) {
          if (event.type === 'subnegotiation') {
            const [command, ...value] = event.payload;
            if (command === 1) socket.write(encodeComPortCommand(101, [0, 1, 0xc2, 0]));
            else if (command !== undefined) socket.write(encodeComPortCommand(command + 100, value));
          }
        }
      });
    }).listen();
    const err = await rejection(openRfc2217Link(peer.url, { baudRate: 3_000_000, timeoutMs: 3000 }));
    expectHilError(err, 'RFC2217_NEGOTIATION');
    expect((err as Error).message).toContain('115200');
  });
});

describe('Rfc2217Link with the virtual lab server', () => {
  let port: FakeSimSerialPort;
  let server: Rfc2217Server;
  const links: Rfc2217Link[] = [];

  async function open(baudRate = 115200): Promise<Rfc2217Link> {
    const link = await openRfc2217Link(server.url, { baudRate, timeoutMs: 3000 });
    links.push(link);
    return link;
  }

  beforeEach(async () => {
    port = new FakeSimSerialPort();
    server = await Rfc2217Server.listen(port);
  });

  afterEach(async () => {
    await Promise.all(links.splice(0).map((l) => l.close()));
    await server.close();
  });

  it('opens at the requested rate without touching the modem lines', async () => {
    const link = await open(460800);
    expect(link.url).toBe(server.url);
    expect(link.isOpen).toBe(true);
    expect(link.baudRate).toBe(460800);
    expect(port.calls).toEqual([{ op: 'setHostAttached', attached: true }, { op: 'setBaudRate', baudRate: 460800 }]);
  });

  it('maps DTR/RTS to the board in order, always as the merged pair', async () => {
    const link = await open();
    // esptool-js Classic reset (§8.2) then a plain EN pulse.
    await link.setSignals({ dtr: false, rts: true });
    await link.setSignals({ dtr: true, rts: false });
    await link.setSignals({ dtr: false });
    expect(link.signals).toEqual({ dtr: false, rts: false });
    await link.setSignals({ rts: true });
    await link.setSignals({ rts: false });
    expect(port.lineHistory).toEqual([
      [false, false], [false, true], // DTR off (redundant), RTS on: EN low
      [true, true], [true, false], // DTR on first: EN rises with GPIO0 still high, then GPIO0 low
      [false, false], [false, false],
      [false, false], [false, true],
      [false, true], [false, false], // redundant DTR write first: the board ignores it (§8.2)
    ]);
  });

  it('sends RTS first when DTR first would pass through a reset', async () => {
    const link = await open();
    await link.setSignals({ dtr: true, rts: true });
    const before = port.lineHistory.length;
    await link.setSignals({ dtr: false, rts: false });
    expect(port.lineHistory.slice(before)).toEqual([[true, false], [false, false]]);
  });

  it('learns the current line state when it opens', async () => {
    const first = await open();
    await first.setSignals({ dtr: false, rts: true });
    await first.close();
    const second = await open();
    expect(second.signals).toEqual({ dtr: false, rts: true });
  });

  it('changes the baud rate in place', async () => {
    const link = await open();
    await link.setBaudRate(921600);
    expect(link.baudRate).toBe(921600);
    expect(port.calls.at(-1)).toEqual({ op: 'setBaudRate', baudRate: 921600 });
    expectHilError(await rejection(link.setBaudRate(0)), 'USAGE');
  });

  it('carries 0xFF-heavy data both ways unchanged', async () => {
    const link = await open();
    const toBoard = new Uint8Array(3000);
    for (let i = 0; i < toBoard.length; i++) toBoard[i] = i % 3 === 0 ? i & 0xff : 0xff;
    await link.write(toBoard);
    await waitFor(() => port.received.length >= toBoard.length, 'all bytes at the board');
    expect(Uint8Array.from(port.received)).toEqual(toBoard);

    const got: number[] = [];
    link.onData((chunk) => got.push(...chunk));
    const fromBoard = Uint8Array.from({ length: 2048 }, (_, i) => (i % 2 === 0 ? 0xff : (i * 7) & 0xff));
    port.transmit(fromBoard.subarray(0, 1000));
    port.transmit(fromBoard.subarray(1000));
    await waitFor(() => got.length >= fromBoard.length, 'all bytes at the host');
    expect(Uint8Array.from(got)).toEqual(fromBoard);
  });

  it('keeps bytes that arrive before the first listener, and purgeInput drops them and purges the board side', async () => {
    const link = await open();
    port.transmit(new TextEncoder().encode('early'));
    const first: number[] = [];
    // A round trip as a barrier: the server wrote the bytes before it answers, so they are here now.
    await link.setBaudRate(link.baudRate);
    const unsubscribe = link.onData((chunk) => first.push(...chunk));
    await waitFor(() => first.length >= 5, 'the early bytes');
    expect(Buffer.from(first).toString()).toBe('early');
    unsubscribe();

    port.transmit(new TextEncoder().encode('stale'));
    await link.setBaudRate(link.baudRate);
    await link.purgeInput();
    expect(port.calls.at(-1)).toEqual({ op: 'purgeTransmit' });
    const later: number[] = [];
    link.onData((chunk) => later.push(...chunk));
    port.transmit(new TextEncoder().encode('fresh'));
    await waitFor(() => later.length >= 5, 'the fresh bytes');
    expect(Buffer.from(later).toString()).toBe('fresh');
  });

  it('reports PORT_IN_USE to a second client and serves the next one after close', async () => {
    const first = await open();
    const err = await rejection(openRfc2217Link(server.url, { timeoutMs: 3000 }));
    expectHilError(err, 'PORT_IN_USE');
    expect((err as Error).message).toContain(server.url);
    await first.close();
    const next = await open();
    expect(next.isOpen).toBe(true);
  });

  it('loses its connection when the device leaves the bus; opens fail with PORT_UNREACHABLE until it is back', async () => {
    const link = await open();
    const gone: Error[] = [];
    link.onGone((err) => gone.push(err));
    server.setDevicePresent(false);
    await waitFor(() => gone.length === 1, 'onGone');
    expectHilError(gone[0], 'LINK_GONE');
    expect(port.calls).toContainEqual({ op: 'setHostAttached', attached: false });
    const refused = await rejection(openRfc2217Link(server.url, { timeoutMs: 3000 }));
    expectHilError(refused, 'PORT_UNREACHABLE');
    expect((refused as Error).message).toContain('off the bus');
    server.setDevicePresent(true);
    const again = await open();
    expect(again.isOpen).toBe(true);
    await link.close();
  });

  it('notices the server going away: onGone fires, writes reject with LINK_GONE', async () => {
    const link = await open();
    const gone: Error[] = [];
    link.onGone((err) => gone.push(err));
    await server.close();
    await waitFor(() => gone.length === 1, 'onGone');
    expectHilError(gone[0], 'LINK_GONE');
    expect(link.isOpen).toBe(false);
    expectHilError(await rejection(link.write(Uint8Array.of(1))), 'LINK_GONE');
    expectHilError(await rejection(link.setSignals({ dtr: true })), 'LINK_GONE');
    await link.close();
    expect(gone).toHaveLength(1);
  });

  it('rejects use after close() and does not report close() as gone', async () => {
    const link = await open();
    const gone: Error[] = [];
    link.onGone((err) => gone.push(err));
    await link.close();
    await link.close();
    expect(link.isOpen).toBe(false);
    expectHilError(await rejection(link.write(Uint8Array.of(1))), 'LINK_GONE');
    expectHilError(await rejection(link.purgeInput()), 'LINK_GONE');
    await waitFor(() => !server.hasClient, 'the server to free the port');
    expect(gone).toEqual([]);
  });
});

describe('openRfc2217Link errors', () => {
  it('names the URL in PORT_UNREACHABLE when nothing listens', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const address = probe.address();
    const freePort = typeof address === 'object' && address !== null ? address.port : 0;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const url = `rfc2217://127.0.0.1:${freePort}`;
    const err = await rejection(openRfc2217Link(url, { timeoutMs: 3000 }));
    expectHilError(err, 'PORT_UNREACHABLE');
    expect((err as Error).message).toContain(url);
  });

  it.each(['rfc2217://', 'rfc2217://host', 'rfc2217://host:0', 'rfc2217://host:70000', 'rfc2217://host:1/path', 'rfc2217://host:1?timeout=3', 'tcp://host:1'])(
    'rejects %s with USAGE naming it',
    async (url) => {
      const err = await rejection(openRfc2217Link(url));
      expectHilError(err, 'USAGE');
      expect((err as Error).message).toContain(url);
    },
  );

  it('honours an AbortSignal that already fired', async () => {
    const err = await rejection(openRfc2217Link('rfc2217://127.0.0.1:9', { signal: AbortSignal.abort() }));
    expectHilError(err, 'ABORTED');
  });
});
