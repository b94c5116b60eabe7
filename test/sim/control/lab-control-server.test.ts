/**
 * The lab control server over real loopback sockets: routes, refusals with messages that name the
 * problem, the raw event stream format, and a clean close.
 */
import { get, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { LabControlServer } from '../../../sim/control/lab-control-server.ts';
import { PortFeature } from '../../../sim/usb/hub-protocol.ts';
import { enumeratedHubWithBridgeBoard } from '../usb/usb-fakes.ts';

const POWER_OFF_PORT_3 = { direction: 'out', setup: { requestType: 'class', recipient: 'other', request: 1, value: PortFeature.PORT_POWER, index: 3 } };

let server: LabControlServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serveHub(keepAliveMs?: number) {
  const { clock, hub, board, discovery } = enumeratedHubWithBridgeBoard();
  server = await LabControlServer.listen(discovery, keepAliveMs === undefined ? {} : { keepAliveMs });
  return { clock, hub, board, discovery, url: server.url };
}

async function call(url: string, method: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown>; seq: string | null }> {
  const response = await fetch(url, { method, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
  return { status: response.status, json: (await response.json()) as Record<string, unknown>, seq: response.headers.get('lab-event-seq') };
}

/** A raw event-stream reader: the text received so far, and waits for a pattern or the end. */
function readEvents(url: string): Promise<{ response: IncomingMessage; text: () => string; waitFor: (pattern: RegExp) => Promise<void>; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      let text = '';
      const waiters = new Set<() => void>();
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
        for (const wake of [...waiters]) wake();
      });
      const ended = new Promise<void>((done) => response.on('end', () => done()));
      const waitFor = (pattern: RegExp): Promise<void> => new Promise((done) => {
        const check = (): void => {
          if (!pattern.test(text)) return;
          waiters.delete(check);
          done();
        };
        waiters.add(check);
        check();
      });
      resolve({ response, text: () => text, waitFor, ended });
    }).on('error', reject);
  });
}

describe('LabControlServer', () => {
  it('listens on loopback only and serves the discovery snapshot', async () => {
    const { url, discovery } = await serveHub();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const answer = await call(`${url}/usb/devices`, 'GET');
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual(JSON.parse(JSON.stringify(await discovery.list())));
    expect((answer.json['devices'] as unknown[]).length).toBe(2);
    expect(answer.seq).toBe('0');
  });

  it('turns away unknown paths, wrong methods, missing hubs and malformed bodies with a JSON error that says why', async () => {
    const { url } = await serveHub();
    expect(await call(`${url}/usb/nothing`, 'GET')).toMatchObject({ status: 404, json: { error: 'no such resource: /usb/nothing' } });
    expect(await call(`${url}/usb/devices`, 'POST', {})).toMatchObject({ status: 405, json: { error: 'POST is not allowed here; use GET' } });
    expect(await call(`${url}/usb/hubs/1-1/control`, 'GET')).toMatchObject({ status: 405 });
    expect(await call(`${url}/usb/hubs/1-9/control`, 'POST', POWER_OFF_PORT_3))
      .toMatchObject({ status: 404, json: { error: 'no USB hub is enumerated at 1-9', name: 'NotFoundError' } });
    expect(await call(`${url}/usb/hubs/1-9`, 'GET')).toMatchObject({ status: 404 });
    expect(await call(`${url}/usb/hubs/1-1`, 'GET')).toMatchObject({ status: 200, json: { portPath: '1-1', vendorId: 0x2001, productId: 0xf103 } });

    const malformed = async (body: unknown): Promise<string> => {
      const answer = await call(`${url}/usb/hubs/1-1/control`, 'POST', body);
      expect(answer.status).toBe(400);
      return answer.json['error'] as string;
    };
    expect(await malformed('{"direction":')).toMatch(/^body is not JSON: /);
    expect(await malformed([])).toMatch(/body: .*expected object/);
    expect(await malformed({ direction: 'sideways' })).toMatch(/^malformed control transfer: direction: /);
    expect(await malformed({ direction: 'in', setup: POWER_OFF_PORT_3.setup })).toMatch(/length: .*expected number/);
    expect(await malformed({ ...POWER_OFF_PORT_3, setup: { ...POWER_OFF_PORT_3.setup, request: 300 } })).toMatch(/setup\.request: .*<=255/);
    expect(await malformed({ ...POWER_OFF_PORT_3, setup: { ...POWER_OFF_PORT_3.setup, recipient: 'hub' } })).toMatch(/setup\.recipient: /);
    expect(await malformed({ ...POWER_OFF_PORT_3, data: 'not base64!' })).toMatch(/data: .*base64/);
    const huge = await call(`${url}/usb/hubs/1-1/control`, 'POST', { ...POWER_OFF_PORT_3, data: 'A'.repeat(200_000) });
    expect(huge).toMatchObject({ status: 413, json: { error: expect.stringContaining('larger than') } });
  });

  it('carries out a transfer on the hub, answering with the number of events sent so far', async () => {
    const { url, board } = await serveHub();
    const answer = await call(`${url}/usb/hubs/1-1/control`, 'POST', POWER_OFF_PORT_3);
    expect(answer).toMatchObject({ status: 200, json: { status: 'ok', bytesWritten: 0 }, seq: '1' }); // the detach
    expect(board.state).toBe('off');
    const status = await call(`${url}/usb/hubs/1-1/control`, 'POST', { direction: 'in', setup: { ...POWER_OFF_PORT_3.setup, request: 0, value: 0 }, length: 4 });
    expect(status.json).toEqual({ status: 'ok', data: Buffer.from([0, 0, 1, 0]).toString('base64') }); // unpowered, C_PORT_CONNECTION
  });

  it('streams numbered hot-plug events, one JSON per data line, with keep-alive comments while idle', async () => {
    const { url, clock } = await serveHub(5);
    const events = await readEvents(`${url}/usb/events`);
    expect(events.response.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(events.response.headers['lab-event-seq']).toBe('0');
    await call(`${url}/usb/hubs/1-1/control`, 'POST', POWER_OFF_PORT_3);
    await call(`${url}/usb/hubs/1-1/control`, 'POST', { ...POWER_OFF_PORT_3, setup: { ...POWER_OFF_PORT_3.setup, request: 3 } });
    clock.advance(220);
    await events.waitFor(/id: 2\n/);
    const records = events.text().split('\n\n').filter((record) => record.startsWith('id:'));
    expect(records.map((record) => record.split('\n')[0])).toEqual(['id: 1', 'id: 2']);
    const payloads = records.map((record) => JSON.parse(record.split('\n')[1]!.replace(/^data: /, '')) as { type: string; portPath?: string; device?: { portPath: string } });
    expect(payloads.map((event) => [event.type, event.portPath ?? event.device?.portPath])).toEqual([['detach', '1-1.3'], ['attach', '1-1.3']]);
    await events.waitFor(/: keep-alive\n\n/);
    expect(events.text().startsWith(': usb hot-plug events\n\n')).toBe(true);
  });

  it('ends open event streams when it closes, and refuses new ones afterwards', async () => {
    const { url } = await serveHub();
    const events = await readEvents(`${url}/usb/events`);
    await server!.close();
    await events.ended;
    await expect(fetch(`${url}/usb/devices`)).rejects.toThrow();
    await server!.close(); // idempotent
  });
});
