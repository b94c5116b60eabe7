/**
 * The control server's device routes over real loopback sockets, against a fake discovery: identity,
 * refusals that say why, control transfers and claims, and transfers as long polls — answered when the
 * device sends, ended when the device goes or the lab closes, and kept for the next reader when the
 * client stops waiting.
 */
import { request as httpRequest } from 'node:http';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { LabControlServer } from '../../../sim/control/lab-control-server.ts';
import { BOARD_BULK_IN, BOARD_VENDOR_INTERFACE, boardGadgetSpec } from '../../bench/fake-board-gadget.ts';
import { FakeUsbGadget } from '../../bench/fake-usb-gadget.ts';
import { FakeDeviceDiscovery } from './fake-device-discovery.ts';

let server: LabControlServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const GET_DEVICE_DESCRIPTOR = { direction: 'in', setup: { requestType: 'standard', recipient: 'device', request: 6, value: 0x0100, index: 0 }, length: 18 };
const READ_BULK_IN = { direction: 'in', endpointNumber: BOARD_BULK_IN & 0x0f, length: 64 };

/** A lab with one board at 1-1.4; `logLines` collects the server's debug log. */
async function serveBoard() {
  const gadget = new FakeUsbGadget(boardGadgetSpec());
  const discovery = new FakeDeviceDiscovery({ '1-1.4': gadget });
  const logLines: string[] = [];
  const waiters = new Set<() => void>();
  const logger = pino({ level: 'debug' }, { write: (line: string) => { logLines.push(line); for (const wake of [...waiters]) wake(); } });
  server = await LabControlServer.listen(discovery, { logger });
  const logged = (text: string): Promise<void> => new Promise((resolve) => {
    const check = (): void => {
      if (!logLines.some((line) => line.includes(text))) return;
      waiters.delete(check);
      resolve();
    };
    waiters.add(check);
    check();
  });
  return { gadget, discovery, url: server.url, logged };
}

async function call(url: string, method: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, { method, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** A POST over its own connection that can be dropped, as LabControlHttp drops a long poll its caller gave up. */
function droppablePost(url: string, body: unknown): { dropped: Promise<void>; drop: () => void } {
  const request = httpRequest(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } });
  const dropped = new Promise<void>((resolve) => request.on('error', () => resolve()));
  request.end(JSON.stringify(body));
  return { dropped, drop: () => request.destroy() };
}

const base64 = (bytes: number[]): string => Buffer.from(bytes).toString('base64');

describe('LabControlServer device routes', () => {
  it('names the device at a port path with its enumeration, and says why when there is none', async () => {
    const { url } = await serveBoard();
    expect(await call(`${url}/usb/devices/1-1.4`, 'GET')).toEqual({ status: 200, json: { portPath: '1-1.4', vendorId: 0x303a, productId: 0x4001, enumeration: 0 } });
    expect(await call(`${url}/usb/devices/1-1.9`, 'GET')).toEqual({ status: 404, json: { error: 'no USB device is enumerated at 1-1.9', name: 'NotFoundError' } });
    expect(await call(`${url}/usb/devices/hub`, 'GET'))
      .toEqual({ status: 404, json: { error: '"hub" is not a device port path (bus-port[.port...], e.g. 1-1.3)', name: 'NotFoundError' } });
    expect(await call(`${url}/usb/devices/1-1.4/transfer`, 'GET')).toMatchObject({ status: 405 });
    expect(await call(`${url}/usb/devices/1-1.4/eject?enumeration=0`, 'POST', {})).toMatchObject({ status: 404, json: { error: 'no such resource: /usb/devices/1-1.4/eject' } });
  });

  it('refuses requests without the enumeration or with malformed bodies, naming the field', async () => {
    const { url } = await serveBoard();
    const malformed = async (path: string, body: unknown): Promise<string> => {
      const answer = await call(`${url}/usb/devices/1-1.4/${path}`, 'POST', body);
      expect(answer.status).toBe(400);
      return answer.json['error'] as string;
    };
    expect(await malformed('control', GET_DEVICE_DESCRIPTOR)).toMatch(/^enumeration: the query must give the enumeration .* got none$/);
    expect(await malformed('transfer?enumeration=x', READ_BULK_IN)).toMatch(/got "x"$/);
    expect(await malformed('claim?enumeration=0', { interfaceNumber: 256 })).toMatch(/^malformed claim request: interfaceNumber: /);
    expect(await malformed('transfer?enumeration=0', { ...READ_BULK_IN, endpointNumber: 0 })).toMatch(/^malformed transfer: endpointNumber: /);
    expect(await malformed('transfer?enumeration=0', { direction: 'out', endpointNumber: 3, data: 'not base64!' })).toMatch(/^malformed transfer: data: /);
    expect(await malformed('control?enumeration=0', { ...GET_DEVICE_DESCRIPTOR, length: -1 })).toMatch(/^malformed control transfer: length: /);
  });

  it('carries out control transfers and claims, and answers a device\'s own refusal with its WebUSB name', async () => {
    const { url } = await serveBoard();
    const descriptor = await call(`${url}/usb/devices/1-1.4/control?enumeration=0`, 'POST', GET_DEVICE_DESCRIPTOR);
    expect(descriptor.status).toBe(200);
    expect([...Buffer.from(descriptor.json['data'] as string, 'base64')].slice(0, 2)).toEqual([18, 1]);
    const unclaimed = await call(`${url}/usb/devices/1-1.4/transfer?enumeration=0`, 'POST', READ_BULK_IN);
    expect(unclaimed).toMatchObject({ status: 409, json: { name: 'InvalidStateError', error: expect.stringMatching(/^USB device 1-1\.4: .*not part of a claimed interface/) } });
    expect(await call(`${url}/usb/devices/1-1.4/claim?enumeration=0`, 'POST', { interfaceNumber: 7 })).toMatchObject({ status: 404, json: { name: 'NotFoundError' } });
    expect(await call(`${url}/usb/devices/1-1.4/claim?enumeration=0`, 'POST', { interfaceNumber: BOARD_VENDOR_INTERFACE })).toEqual({ status: 200, json: {} });
    expect(await call(`${url}/usb/devices/1-1.4/transfer?enumeration=0`, 'POST', { direction: 'out', endpointNumber: 3, data: base64([1, 2]) }))
      .toEqual({ status: 200, json: { status: 'ok', bytesWritten: 2 } });
    expect(await call(`${url}/usb/devices/1-1.4/transfer?enumeration=0`, 'POST', READ_BULK_IN)).toEqual({ status: 200, json: { status: 'ok', data: base64([1, 2]) } });
  });

  it('holds an IN transfer open until the device sends', async () => {
    const { url, gadget } = await serveBoard();
    await call(`${url}/usb/devices/1-1.4/claim?enumeration=0`, 'POST', { interfaceNumber: BOARD_VENDOR_INTERFACE });
    const read = call(`${url}/usb/devices/1-1.4/transfer?enumeration=0`, 'POST', READ_BULK_IN);
    while (gadget.waitingReads(BOARD_BULK_IN) === 0) await new Promise((resolve) => setImmediate(resolve));
    gadget.send(BOARD_BULK_IN, Uint8Array.of(9, 8, 7));
    expect(await read).toEqual({ status: 200, json: { status: 'ok', data: base64([9, 8, 7]) } });
  });

  it('keeps the IN transfer of a client that stopped waiting for the next reader, so no byte is lost', async () => {
    const { url, gadget, logged } = await serveBoard();
    await call(`${url}/usb/devices/1-1.4/claim?enumeration=0`, 'POST', { interfaceNumber: BOARD_VENDOR_INTERFACE });
    const abandoned = droppablePost(`${url}/usb/devices/1-1.4/transfer?enumeration=0`, READ_BULK_IN);
    while (gadget.waitingReads(BOARD_BULK_IN) === 0) await new Promise((resolve) => setImmediate(resolve));
    abandoned.drop();
    await abandoned.dropped;
    await logged('its IN transfer is kept');
    gadget.send(BOARD_BULK_IN, Uint8Array.of(5));
    expect(await call(`${url}/usb/devices/1-1.4/transfer?enumeration=0`, 'POST', READ_BULK_IN)).toEqual({ status: 200, json: { status: 'ok', data: base64([5]) } });
    expect(gadget.waitingReads(BOARD_BULK_IN)).toBe(0);
  });

  it('ends a waiting transfer with 410 when the device goes, and refuses its old enumeration after it comes back', async () => {
    const { url, gadget, discovery } = await serveBoard();
    await call(`${url}/usb/devices/1-1.4/claim?enumeration=0`, 'POST', { interfaceNumber: BOARD_VENDOR_INTERFACE });
    const read = call(`${url}/usb/devices/1-1.4/transfer?enumeration=0`, 'POST', READ_BULK_IN);
    while (gadget.waitingReads(BOARD_BULK_IN) === 0) await new Promise((resolve) => setImmediate(resolve));
    discovery.unplug('1-1.4');
    expect(await read).toMatchObject({ status: 410, json: { name: 'NotFoundError', error: expect.stringMatching(/1-1\.4 has gone/) } });
    discovery.plug('1-1.4', new FakeUsbGadget(boardGadgetSpec()));
    expect(await call(`${url}/usb/devices/1-1.4/control?enumeration=0`, 'POST', GET_DEVICE_DESCRIPTOR))
      .toEqual({ status: 410, json: { error: 'the USB device at 1-1.4 has gone (detached or re-enumerated since it was opened)', name: 'NotFoundError' } });
    expect((await call(`${url}/usb/devices/1-1.4`, 'GET')).json['enumeration']).toBe(2);
    expect((await call(`${url}/usb/devices/1-1.4/control?enumeration=2`, 'POST', GET_DEVICE_DESCRIPTOR)).status).toBe(200);
  });

  it('ends waiting transfers with 503 when the lab closes, and closes the devices it opened', async () => {
    const { url, gadget, discovery } = await serveBoard();
    await call(`${url}/usb/devices/1-1.4/claim?enumeration=0`, 'POST', { interfaceNumber: BOARD_VENDOR_INTERFACE });
    const read = call(`${url}/usb/devices/1-1.4/transfer?enumeration=0`, 'POST', READ_BULK_IN);
    while (gadget.waitingReads(BOARD_BULK_IN) === 0) await new Promise((resolve) => setImmediate(resolve));
    await server!.close();
    expect(await read).toEqual({ status: 503, json: { error: 'the virtual lab is closing' } });
    expect(discovery.handles.map((handle) => handle.opened)).toEqual([false]);
  });
});
