/**
 * The virtual lab's USB control API on loopback: another process on the same machine (a `hil run`
 * that found the lab through `running-lab.json`) gets the same USB view as the process that owns the
 * lab — the device list, hot-plug events, hub class requests, and descriptor reads and transfers on a
 * device (device-routes.ts) — through RemoteLabDiscovery (remote-lab-discovery.ts).
 * Routes and JSON shapes are in lab-control-wire.ts. Bound to 127.0.0.1 only: the API has no
 * authentication, and anyone who can reach it can switch the lab's hub ports.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { BenchDiscovery } from '../../runner/bench/usb-discovery.ts';
import { silentLogger } from '../../runner/logger.ts';
import { allowOnly, decodeSegment, messageOf, readJsonBody, Refusal } from './control-request.ts';
import { parseControlTransferBody } from './control-transfer-body.ts';
import { controlTransferOn } from './control-transfer-call.ts';
import { DeviceRoutes, matchDeviceRoute } from './device-routes.ts';
import { HotplugEventStreams } from './hotplug-event-streams.ts';
import { EVENT_SEQ_HEADER, USB_DEVICES_PATH, USB_EVENTS_PATH, type ControlTransferResponse, type HubInfo } from './lab-control-wire.ts';
import { OpenedDevices } from './opened-devices.ts';
import { OpenedHubs } from './opened-hubs.ts';

export interface LabControlServerOptions {
  /** Interval of keep-alive comments on idle event streams, ms. Default 15 000. */
  keepAliveMs?: number;
  logger?: Logger;
}

const HUB_ROUTE = /^\/usb\/hubs\/([^/]+)(\/control)?$/;

export class LabControlServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly #server: Server;
  readonly #discovery: BenchDiscovery;
  readonly #events: HotplugEventStreams;
  readonly #hubs: OpenedHubs;
  readonly #devices: OpenedDevices;
  readonly #deviceRoutes: DeviceRoutes;
  readonly #logger: Logger;
  #closing: Promise<void> | undefined;

  private constructor(server: Server, discovery: BenchDiscovery, events: HotplugEventStreams, logger: Logger) {
    this.#server = server;
    this.#discovery = discovery;
    this.#events = events;
    this.#hubs = new OpenedHubs(discovery);
    this.#devices = new OpenedDevices(discovery);
    this.#deviceRoutes = new DeviceRoutes(this.#devices, logger);
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
   * Ends the event streams and the long polls (503), stops accepting connections, waits for answers
   * under way and closes the hubs and devices it opened. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#events.close();
      await this.#devices.closeAll();
      await new Promise<void>((resolve) => {
        this.#server.close(() => resolve());
        this.#server.closeIdleConnections();
      });
      await this.#hubs.closeAll();
    })();
    return this.#closing;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // A long poll whose client went away has nobody to answer.
    const clientGone = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) clientGone.abort();
    });
    try {
      const { pathname, searchParams } = new URL(request.url ?? '/', 'http://127.0.0.1');
      const deviceRoute = matchDeviceRoute(pathname);
      if (pathname === USB_DEVICES_PATH) {
        allowOnly(request, 'GET');
        this.#send(response, 200, await this.#discovery.list());
      } else if (pathname === USB_EVENTS_PATH) {
        allowOnly(request, 'GET');
        this.#events.add(response);
      } else if (deviceRoute !== null) {
        const portPath = decodeSegment(deviceRoute.segment);
        if (deviceRoute.action === undefined) {
          allowOnly(request, 'GET');
          this.#send(response, 200, await this.#deviceRoutes.info(portPath));
        } else {
          allowOnly(request, 'POST');
          const body = await readJsonBody(request);
          this.#send(response, 200, await this.#deviceRoutes.act(portPath, deviceRoute.action, searchParams.get('enumeration'), body, clientGone.signal));
        }
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
      if (clientGone.signal.aborted) return;
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
      return await controlTransferOn(device, parsed.request);
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

function noHub(portPath: string): Refusal {
  return new Refusal(404, { error: `no USB hub is enumerated at ${portPath}`, name: 'NotFoundError' });
}
