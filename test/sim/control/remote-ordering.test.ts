/**
 * RemoteLabDiscovery keeps the order a process that owns the lab sees: a request made after
 * `onHotplug` reaches the lab only once the event stream is subscribed, and a transfer resolves only
 * after the events the lab had sent by its answer reached the listeners. A hand-written server delays
 * the stream on purpose, so without those guarantees these tests fail.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteLabDiscovery } from '../../../sim/control/remote-lab-discovery.ts';

const DETACH = { type: 'detach', atMs: 1, portPath: '1-1.2' };
const SETUP = { requestType: 'class', recipient: 'other', request: 1, value: 8, index: 2 } as const;

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/**
 * A lab whose event stream opens `streamDelayMs` late and delivers each event `eventDelayMs` after the
 * answer that reported it (null: never, as if the stream had silently stalled).
 */
async function slowStreamLab(options: { streamDelayMs: number; eventDelayMs: number | null }) {
  const log: string[] = [];
  let stream: ServerResponse | undefined;
  let sent = 0;
  server = createServer((request, response) => {
    const json = (body: unknown): void => {
      response.writeHead(200, { 'content-type': 'application/json', 'lab-event-seq': String(sent) }).end(JSON.stringify(body));
    };
    if (request.url === '/usb/events') {
      setTimeout(() => {
        log.push('stream subscribed');
        stream = response;
        response.writeHead(200, { 'content-type': 'text/event-stream', 'lab-event-seq': String(sent) });
        response.write(': events\n\n');
      }, options.streamDelayMs);
    } else if (request.url === '/usb/hubs/1-1') {
      json({ portPath: '1-1', vendorId: 0x2001, productId: 0xf103 });
    } else if (request.url === '/usb/hubs/1-1/control') {
      log.push('transfer');
      const id = ++sent;
      json({ status: 'ok', bytesWritten: 0 });
      if (options.eventDelayMs !== null) setTimeout(() => stream?.write(`id: ${id}\ndata: ${JSON.stringify(DETACH)}\n\n`), options.eventDelayMs);
    } else {
      json({ devices: [] });
    }
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, log };
}

describe('RemoteLabDiscovery ordering', () => {
  it('sends requests made after onHotplug only once the event stream is subscribed', async () => {
    const { url, log } = await slowStreamLab({ streamDelayMs: 50, eventDelayMs: 0 });
    const remote = new RemoteLabDiscovery(url);
    try {
      remote.onHotplug(() => {});
      const hub = (await remote.openHub('1-1'))!;
      await hub.open();
      await hub.controlTransferOut(SETUP, new Uint8Array(0));
      expect(log).toEqual(['stream subscribed', 'transfer']);
    } finally {
      await remote.close();
    }
  });

  it('resolves a transfer only after the events it caused have reached the listeners', async () => {
    const { url } = await slowStreamLab({ streamDelayMs: 0, eventDelayMs: 50 });
    const remote = new RemoteLabDiscovery(url);
    const order: string[] = [];
    try {
      remote.onHotplug((event) => order.push(`event ${event.type}`));
      const hub = (await remote.openHub('1-1'))!;
      await hub.open();
      await hub.controlTransferOut(SETUP, new Uint8Array(0));
      order.push('transfer resolved');
      expect(order).toEqual(['event detach', 'transfer resolved']);
    } finally {
      await remote.close();
    }
  });

  it('does not wait for events when nobody listens', async () => {
    const { url, log } = await slowStreamLab({ streamDelayMs: 0, eventDelayMs: null });
    const remote = new RemoteLabDiscovery(url);
    try {
      const hub = (await remote.openHub('1-1'))!;
      await hub.open();
      expect(await hub.controlTransferOut(SETUP)).toEqual({ status: 'ok', bytesWritten: 0 });
      expect(log).toEqual(['transfer']);
    } finally {
      await remote.close();
    }
  });
});
