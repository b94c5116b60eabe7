import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isHilError } from '../../../runner/errors.ts';
import { openRfc2217Link } from '../../../runner/link/rfc2217-link.ts';
import { Telnet, TelnetOption, encodeComPortCommand, escapeTelnetData, u32BigEndian } from '../../../runner/link/telnet-codec.ts';
import { PORT_IN_USE_LINE, Rfc2217Server } from '../../../sim/rfc2217/rfc2217-server.ts';
import { FakeSimSerialPort } from './fake-sim-serial-port.ts';
import { RawTelnetClient, waitFor } from './raw-telnet-client.ts';

const { IAC, SB, SE, WILL, WONT, DO, DONT } = Telnet;
const COM_PORT = TelnetOption.COM_PORT;

let port: FakeSimSerialPort;
let server: Rfc2217Server;
const clients: RawTelnetClient[] = [];

async function connect(): Promise<RawTelnetClient> {
  const client = await RawTelnetClient.connect(server.port);
  clients.push(client);
  return client;
}

beforeEach(async () => {
  port = new FakeSimSerialPort();
  server = await Rfc2217Server.listen(port, { port: 0 });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await server.close();
});

describe('Rfc2217Server', () => {
  it('listens on an ephemeral loopback port and names itself by URL', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`rfc2217://127.0.0.1:${server.port}`);
  });

  it('opens with WILL COM-PORT, DO BINARY, WILL SGA and attaches the host', async () => {
    const client = await connect();
    await waitFor(() => client.raw.length >= 9, 'the opening negotiation');
    expect(client.raw.slice(0, 9)).toEqual([IAC, WILL, COM_PORT, IAC, DO, TelnetOption.BINARY, IAC, WILL, TelnetOption.SGA]);
    await waitFor(() => server.hasClient, 'the session');
    expect(port.calls).toContainEqual({ op: 'setHostAttached', attached: true });
  });

  it("acknowledges pyserial's open sequence (§12.4) with the values it sent", async () => {
    const client = await connect();
    // pyserial's negotiation: WILL COM-PORT, DO COM-PORT, DO ECHO, WILL SGA, DO SGA; then it answers
    // the server's DO BINARY with WILL BINARY.
    client.write([IAC, WILL, COM_PORT, IAC, DO, COM_PORT, IAC, DO, TelnetOption.ECHO, IAC, WILL, TelnetOption.SGA, IAC, DO, TelnetOption.SGA]);
    client.write([IAC, WILL, TelnetOption.BINARY]);
    await waitFor(() => client.negotiations.some(([v, o]) => v === DO && o === COM_PORT), 'DO COM-PORT');
    const settings: Array<[number, number[]]> = [
      [1, [...u32BigEndian(115200)]],
      [2, [8]],
      [3, [1]],
      [4, [1]],
      [5, [1]], // no flow control
      [5, [8]], // DTR on (pyserial's default)
      [5, [11]], // RTS on
      [12, [1]], // purge receive buffer
      [12, [2]], // purge transmit buffer
    ];
    for (const [command, value] of settings) client.write(encodeComPortCommand(command, value));
    const acks = await waitFor(() => (client.comPortReplies.length >= settings.length ? client.comPortReplies : undefined), 'every acknowledgement');
    expect(acks).toEqual(settings.map(([command, value]) => [command + 100, ...value]));
    // Every option pyserial asked for was accepted: nothing refused.
    expect(client.negotiations.filter(([v]) => v === WONT || v === DONT)).toEqual([]);
    expect(client.negotiations).toContainEqual([WILL, TelnetOption.ECHO]);
    expect(client.negotiations).toContainEqual([DO, TelnetOption.SGA]);
    expect(port.calls.filter((c) => c.op !== 'setHostAttached')).toEqual([
      { op: 'setBaudRate', baudRate: 115200 },
      { op: 'setModemLines', dtr: true, rts: false },
      { op: 'setModemLines', dtr: true, rts: true },
      { op: 'purgeTransmit' },
    ]);
  });

  it('answers queries: SET_BAUDRATE 0, SET_CONTROL 7 and 10, and a signature request', async () => {
    port.baudRate = 74880;
    const client = await connect();
    client.write(encodeComPortCommand(1, u32BigEndian(0)));
    client.write(encodeComPortCommand(5, [7]));
    client.write(encodeComPortCommand(5, [10]));
    client.write(encodeComPortCommand(5, [9])); // DTR off
    client.write(encodeComPortCommand(5, [11])); // RTS on
    client.write(encodeComPortCommand(5, [7]));
    client.write(encodeComPortCommand(5, [10]));
    client.write(encodeComPortCommand(0, []));
    const replies = await waitFor(() => (client.comPortReplies.length >= 8 ? client.comPortReplies : undefined), 'the answers');
    expect(replies.slice(0, 7)).toEqual([[101, ...u32BigEndian(74880)], [105, 9], [105, 12], [105, 9], [105, 11], [105, 9], [105, 11]]);
    expect(replies[7]?.[0]).toBe(100);
    expect(Buffer.from(replies[7]?.slice(1) ?? []).toString()).toContain(port.boardId);
    expect(port.calls.filter((c) => c.op === 'setBaudRate')).toEqual([]);
  });

  it('refuses options it does not know', async () => {
    const client = await connect();
    client.write([IAC, DO, 24, IAC, WILL, 31]);
    await waitFor(() => client.negotiations.length >= 5, 'the refusals');
    expect(client.negotiations).toContainEqual([WONT, 24]);
    expect(client.negotiations).toContainEqual([DONT, 31]);
  });

  it('collapses FF FF from the client and doubles 0xFF to it, in data and in sub-negotiation values', async () => {
    const client = await connect();
    const payload = Uint8Array.from([0xff, 0x00, 0xff, 0xff, 0x41, 0xf0, 0xfa, 0xff]);
    client.write(escapeTelnetData(payload));
    await waitFor(() => port.received.length >= payload.length, 'the payload at the board');
    expect(port.received).toEqual([...payload]);

    const start = client.raw.length;
    port.transmit(Uint8Array.of(0x01, 0xff, 0x02));
    await waitFor(() => client.raw.length >= start + 4, 'the board output');
    expect(client.raw.slice(start)).toEqual([0x01, 0xff, 0xff, 0x02]);

    // 130815 = 0x0001FEFF and 0x0001FF00 carry 0xFF bytes inside SET_BAUDRATE's value.
    const rawBefore = client.raw.length;
    client.write(encodeComPortCommand(1, u32BigEndian(0x0001ff00)));
    await waitFor(() => client.comPortReplies.length >= 1, 'the baud-rate ack');
    expect(client.raw.slice(rawBefore)).toEqual([IAC, SB, COM_PORT, 101, 0x00, 0x01, 0xff, 0xff, 0x00, IAC, SE]);
    expect(port.baudRate).toBe(0x0001ff00);
  });

  it('gives a second client the in-use line and closes it; the next client after a disconnect is served', async () => {
    const first = await connect();
    await waitFor(() => server.hasClient, 'the first session');
    const second = await connect();
    await second.waitForClose();
    expect(Buffer.from(second.raw).toString('latin1')).toBe(PORT_IN_USE_LINE);
    // The first client was not disturbed.
    first.write([0x61]);
    await waitFor(() => port.received.length === 1, 'the first client still served');

    // Disconnecting mid-stream (inside a sub-negotiation) frees the port.
    first.write([IAC, SB, COM_PORT, 1, 0]);
    first.socket.destroy();
    await waitFor(() => !server.hasClient, 'the port to be released');
    expect(port.calls.at(-1)).toEqual({ op: 'setHostAttached', attached: false });
    expect(port.listenerCount).toBe(0);

    const third = await connect();
    await waitFor(() => third.raw.length >= 3, 'the third client to be served');
    expect(third.raw.slice(0, 3)).toEqual([IAC, WILL, COM_PORT]);
  });

  it('survives a client sending garbage and resetting the connection, and serves the next one', async () => {
    const vandal = await connect();
    let x = 12345;
    const garbage = new Uint8Array(64 * 1024);
    for (let i = 0; i < garbage.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      const r = (x >>> 16) & 0xff;
      garbage[i] = r < 48 ? 0xff : r < 64 ? 0xfa : r < 80 ? 44 : r;
    }
    vandal.write([IAC, SB, COM_PORT, 1]); // an unterminated SET_BAUDRATE first
    vandal.write(garbage);
    await waitFor(() => port.received.length > 0, 'garbage to reach the board');
    vandal.socket.resetAndDestroy();
    await waitFor(() => !server.hasClient, 'the vandal to be dropped');

    const link = await openRfc2217Link(server.url, { baudRate: 115200, timeoutMs: 3000 });
    try {
      port.received = [];
      await link.write(Uint8Array.of(1, 2, 0xff));
      await waitFor(() => port.received.length === 3, 'bytes from the next client');
      expect(port.received).toEqual([1, 2, 0xff]);
    } finally {
      await link.close();
    }
  });

  it('close() disconnects the client and stops listening', async () => {
    const client = await connect();
    await waitFor(() => server.hasClient, 'the session');
    await server.close();
    await client.waitForClose();
    await expect(RawTelnetClient.connect(server.port)).rejects.toThrow();
  });

  it('fails with SIM_START when the TCP port is taken', async () => {
    const err = await Rfc2217Server.listen(new FakeSimSerialPort('other'), { port: server.port }).catch((e: unknown) => e);
    expect(isHilError(err, 'SIM_START')).toBe(true);
  });

  it('drops board output beyond its queue instead of buffering without bound for a client that does not read', async () => {
    // A plain socket that only counts: the test offers far more than fits in any socket buffers.
    const socket = net.connect({ host: '127.0.0.1', port: server.port });
    let received = 0;
    try {
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.pause();
      await waitFor(() => server.hasClient, 'the session');
      const chunk = new Uint8Array(64 * 1024).fill(0x55);
      const offered = 400 * chunk.length; // 25 MiB
      for (let i = 0; i < 400; i++) port.transmit(chunk);
      socket.on('data', (data: Buffer) => {
        received += data.length;
      });
      socket.resume();
      // Read until the stream goes quiet. What arrived is the server's 1 MiB queue plus whatever the
      // kernel's socket buffers held (a few MiB on Linux), far below what was offered.
      let seen = -1;
      while (seen !== received) {
        seen = received;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(received).toBeGreaterThan(0);
      expect(received).toBeLessThan(offered * 0.6);
    } finally {
      socket.destroy();
    }
  });
});
