/**
 * The event stream client against hand-written servers: it parses what SSE allows (CRLF, split
 * chunks, comments), skips what is not an event, and reports — never throws — every way a stream can
 * end: closed by the lab, refused, unreachable, silent past the idle limit.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { UsbHotplugEvent } from '../../../runner/bench/usb-discovery.ts';
import { LabEventStream } from '../../../sim/control/lab-event-stream.ts';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A server whose every request is answered by `respond`; resolves with its URL. */
async function serve(respond: (response: ServerResponse) => void): Promise<string> {
  const server = createServer((_request, response) => respond(response));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/usb/events`;
}

function open(url: string, idleTimeoutMs = 30_000) {
  const events: UsbHotplugEvent[] = [];
  const malformed: string[] = [];
  let endReason: ((reason: string) => void) | undefined;
  const ended = new Promise<string>((resolve) => { endReason = resolve; });
  const stream = new LabEventStream({ url, idleTimeoutMs, onEvent: (event) => events.push(event), onMalformed: (line) => malformed.push(line), onEnd: (reason) => endReason!(reason) });
  return { stream, events, malformed, ended };
}

const DETACH = { type: 'detach', atMs: 5, portPath: '1-1.2' };
const ATTACH = { type: 'attach', atMs: 9, device: { portPath: '1-1.2', address: 7 } };

describe('LabEventStream', () => {
  it('parses CRLF and split chunks, ignores comments, skips malformed data, and tracks event numbers', async () => {
    let write: ((text: string) => void) | undefined;
    const url = await serve((response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'lab-event-seq': '3' });
      write = (text) => response.write(text);
      response.write(': hello\r\n\r\n');
    });
    const { stream, events, malformed } = open(url);
    await stream.ready;
    expect(stream.live).toBe(true);
    await stream.whenSeen(3); // already there when the stream opened
    const seen4 = stream.whenSeen(4);
    const seen5 = stream.whenSeen(5);
    write!(`id: 4\r\ndata: ${JSON.stringify(DETACH)}\r\n\r\n`);
    await seen4;
    expect(events).toEqual([DETACH]);
    const record = `: keep-alive\n\ndata: not json\n\ndata: {"type":"detach"}\n\nid: 5\ndata: ${JSON.stringify(ATTACH)}\n\n`;
    write!(record.slice(0, 20));
    write!(record.slice(20, 41));
    write!(record.slice(41));
    await seen5;
    expect(events).toEqual([DETACH, ATTACH]);
    expect(malformed).toEqual(['not json', '{"type":"detach"}']);
    stream.close();
    expect(stream.live).toBe(false);
  });

  it('releases a wait made while opening once the stream starts past it', async () => {
    let arrived: ((response: ServerResponse) => void) | undefined;
    const request = new Promise<ServerResponse>((resolve) => { arrived = resolve; });
    const url = await serve((response) => arrived!(response));
    const { stream } = open(url);
    const waiting = stream.whenSeen(6);
    (await request).writeHead(200, { 'content-type': 'text/event-stream', 'lab-event-seq': '7' }).flushHeaders(); // headers only
    await waiting; // no event will come: the stream starts after event 6
    stream.close();
  });

  it('reports the lab closing the stream, and stops anyone waiting for events', async () => {
    let end: (() => void) | undefined;
    const url = await serve((response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'lab-event-seq': '0' });
      response.write(': hi\n\n');
      end = () => response.end();
    });
    const { stream, ended } = open(url);
    await stream.ready;
    const waiting = stream.whenSeen(99);
    end!();
    expect(await ended).toBe('the virtual lab closed the event stream');
    await waiting;
    expect(stream.live).toBe(false);
  });

  it('reports a refused stream, an unreachable lab and a silent connection', async () => {
    const refused = open(await serve((response) => response.writeHead(503).end('{"error":"closing"}')));
    expect(await refused.ended).toBe('the event stream was refused with HTTP 503');

    const gone = await serve(() => {});
    await new Promise((resolve) => { const server = servers.pop()!; server.close(resolve); });
    const unreachable = open(gone);
    expect(await unreachable.ended).toMatch(/ECONNREFUSED/);
    await unreachable.stream.ready; // resolves (never rejects) when the stream cannot open

    const silent = open(await serve((response) => response.writeHead(200, { 'content-type': 'text/event-stream' }).flushHeaders()), 50);
    expect(await silent.ended).toBe('no data for 50 ms');
  });

  it('does not report a stream it closed itself', async () => {
    const url = await serve((response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(': hi\n\n');
    });
    const { stream, ended } = open(url);
    await stream.ready;
    stream.close();
    stream.close();
    const outcome = await Promise.race([ended, new Promise((resolve) => setTimeout(() => resolve('no end reported'), 50))]);
    expect(outcome).toBe('no end reported');
  });
});
