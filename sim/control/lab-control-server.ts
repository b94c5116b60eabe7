/**
 * The virtual lab's USB control API on loopback: another process on the same machine (a `hil run`
 * that found the lab through `running-lab.json`) gets the same USB view as the process that owns the
 * lab — the device list, hot-plug events, and hub class requests — through RemoteLabDiscovery
 * (remote-lab-discovery.ts).
 * Routes and JSON shapes are in lab-control-wire.ts. Bound to 127.0.0.1 only: the API has no
 * authentication, and anyone who can reach it can switch the lab's hub ports.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { BenchDiscovery } from '../../runner/bench/usb-discovery.ts';
import { silentLogger } from '../../runner/logger.ts';
import type { UsbControlDevice } from '../../runner/usb/usb-control-device.ts';
import { parseControlTransferBody } from './control-transfer-body.ts';
import { HotplugEventStreams } from './hotplug-event-streams.ts';
import {
  EVENT_SEQ_HEADER,
  fromBase64,
  toBase64,
  USB_DEVICES_PATH,
  USB_EVENTS_PATH,
  type ControlErrorBody,
  type ControlTransferRequest,
  type ControlTransferResponse,
  type HubInfo,
} from './lab-control-wire.ts';
import { OpenedHubs } from './opened-hubs.ts';

export interface LabControlServerOptions {
  /** Interval of keep-alive comments on idle event streams, ms. Default 15 000. */
  keepAliveMs?: number;
  logger?: Logger;
}

/** Largest request body accepted; a control transfer's data stage is at most 64 KiB, as base64 a third more. */
const MAX_BODY_BYTES = 128 * 1024;

const HUB_ROUTE = /^\/usb\/hubs\/([^/]+)(\/control)?$/;

/** An error answer: status code and body. */
class Refusal {
  constructor(readonly statusCode: number, readonly body: ControlErrorBody) {}
}

export class LabControlServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly #server: Server;
  readonly #discovery: BenchDiscovery;
  readonly #events: HotplugEventStreams;
  readonly #hubs: OpenedHubs;
  readonly #logger: Logger;
  #closing: Promise<void> | undefined;

  private constructor(server: Server, discovery: BenchDiscovery, events: HotplugEventStreams, logger: Logger) {
    this.#server = server;
    this.#discovery = discovery;
    this.#events = events;
    this.#hubs = new OpenedHubs(discovery);
    this.#logger = logger;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Serves `discovery` on a free loopback port. Rejects when no port can be bound. */
  static async listen(discovery: BenchDiscovery, options: LabControlServerOptions = {}): Promise<LabControlServer> {
    const logger = (options.logger ?? silentLogger()).child({ component: 'lab-control' });
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const events = new HotplugEventStreams(discovery, { keepAliveMs: options.keepAliveMs ?? 15_000 });
    const control = new LabControlServer(server, discovery, events, logger);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => void control.#handle(request, response));
    return control;
  }

  /**
   * Ends the event streams, stops accepting connections, waits for answers under way and closes the
   * hubs it opened. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#events.close();
      await new Promise<void>((resolve) => {
        this.#server.close(() => resolve());
        this.#server.closeIdleConnections();
      });
      await this.#hubs.closeAll();
    })();
    return this.#closing;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const { pathname } = new URL(request.url ?? '/', 'http://127.0.0.1');
      if (pathname === USB_DEVICES_PATH) {
        allowOnly(request, 'GET');
        this.#send(response, 200, await this.#discovery.list());
      } else if (pathname === USB_EVENTS_PATH) {
        allowOnly(request, 'GET');
        this.#events.add(response);
      } else {
        const route = HUB_ROUTE.exec(pathname);
        if (route === null) throw new Refusal(404, { error: `no such resource: ${pathname}` });
        const portPath = decodeSegment(route[1]!);
        if (route[2] === undefined) {
          allowOnly(request, 'GET');
          this.#send(response, 200, await this.#hubInfo(portPath));
        } else {
          allowOnly(request, 'POST');
          this.#send(response, 200, await this.#transfer(portPath, await readJsonBody(request)));
        }
      }
    } catch (err: unknown) {
      if (err instanceof Refusal) {
        this.#send(response, err.statusCode, err.body);
        return;
      }
      this.#logger.error({ err, url: request.url }, 'lab control request failed');
      this.#send(response, 500, { error: messageOf(err) });
    }
  }

  async #hubInfo(portPath: string): Promise<HubInfo> {
    const device = await this.#hubs.get(portPath);
    if (device === null) throw noHub(portPath);
    return { portPath, vendorId: device.vendorId, productId: device.productId };
  }

  async #transfer(portPath: string, body: unknown): Promise<ControlTransferResponse> {
    const parsed = parseControlTransferBody(body);
    if ('problems' in parsed) throw new Refusal(400, { error: `malformed control transfer: ${parsed.problems.join('; ')}` });
    const device = await this.#hubs.get(portPath);
    if (device === null) throw noHub(portPath);
    try {
      return await transferOn(device, parsed.request);
    } catch (err: unknown) {
      if (err instanceof DOMException && err.name === 'NotFoundError') {
        this.#hubs.forget(portPath);
        throw new Refusal(404, { error: `hub ${portPath}: ${err.message}`, name: err.name });
      }
      // WebUSB rejects bad parameters with a TypeError: the client's fault.
      if (err instanceof TypeError) throw new Refusal(400, { error: err.message, name: 'TypeError' });
      throw new Refusal(500, { error: `hub ${portPath}: ${messageOf(err)}`, ...(err instanceof Error ? { name: err.name } : {}) });
    }
  }

  #send(response: ServerResponse, statusCode: number, body: unknown): void {
    if (response.headersSent) {
      response.end();
      return;
    }
    response.writeHead(statusCode, {
      'content-type': 'application/json; charset=utf-8',
      [EVENT_SEQ_HEADER]: String(this.#events.sent),
      // While closing, let no connection linger in keep-alive.
      ...(this.#closing !== undefined ? { connection: 'close' } : {}),
    });
    response.end(JSON.stringify(body));
  }
}

async function transferOn(device: UsbControlDevice, request: ControlTransferRequest): Promise<ControlTransferResponse> {
  if (request.direction === 'in') {
    const result = await device.controlTransferIn(request.setup, request.length);
    const data = result.data;
    return data === undefined ? { status: result.status } : { status: result.status, data: toBase64(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) };
  }
  const result = await device.controlTransferOut(request.setup, request.data === undefined ? undefined : fromBase64(request.data));
  return { status: result.status, bytesWritten: result.bytesWritten };
}

function noHub(portPath: string): Refusal {
  return new Refusal(404, { error: `no USB hub is enumerated at ${portPath}`, name: 'NotFoundError' });
}

function allowOnly(request: IncomingMessage, method: 'GET' | 'POST'): void {
  if (request.method !== method) throw new Refusal(405, { error: `${request.method} is not allowed here; use ${method}` });
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new Refusal(400, { error: `"${segment}" is not a valid escaped port path` });
  }
}

/** The request body parsed as JSON; 413 past {@link MAX_BODY_BYTES}, 400 when it is not JSON. */
async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Read to the end even when too large, so the client gets the answer rather than a reset connection.
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  if (size > MAX_BODY_BYTES) throw new Refusal(413, { error: `request body larger than ${MAX_BODY_BYTES} bytes` });
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err: unknown) {
    throw new Refusal(400, { error: `body is not JSON: ${messageOf(err)}` });
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
