/**
 * Bench discovery of a virtual lab owned by another process, over its loopback control server
 * (lab-control-server.ts): the same {@link BenchDiscovery} a process that owns the lab gets from
 * `lab.discovery`, so a `hil run` that attached to a running lab can power-cycle hub ports, watch
 * boards enumerate, and read and drive a board's USB device (remote-usb-device.ts) as if the lab were
 * its own.
 *
 * Ordering matches the in-process lab: once `onHotplug` has been called, later requests wait until the
 * event stream is open (so no event they cause is missed), and a request resolves only after the
 * events the lab had sent by its answer have reached the listeners.
 */
import type { Logger } from 'pino';
import { HilError } from '../../runner/errors.ts';
import type { BenchDiscovery, DiscoverySnapshot, UsbHotplugEvent } from '../../runner/bench/usb-discovery.ts';
import { silentLogger } from '../../runner/logger.ts';
import type { UsbControlDevice } from '../../runner/usb/usb-control-device.ts';
import type { UsbTransferDevice } from '../../runner/usb/usb-transfer-device.ts';
import { ListenerSet } from '../board/listener-set.ts';
import { LabControlHttp, LabControlUnreachable, type LabControlAnswer, type LabControlRequestOptions } from './lab-control-http.ts';
import { LabEventStream } from './lab-event-stream.ts';
import { deviceResourcePath, hubResourcePath, USB_DEVICES_PATH, USB_EVENTS_PATH, type ControlErrorBody, type DeviceInfo, type HubInfo } from './lab-control-wire.ts';
import { RemoteHubDevice } from './remote-hub-device.ts';
import { RemoteUsbDevice } from './remote-usb-device.ts';

export interface RemoteLabDiscoveryOptions {
  /** Longest wait for one answer, ms. Default 10 000. */
  requestTimeoutMs?: number;
  /**
   * The event stream counts as dropped after this long without a byte, ms. Default 45 000: three
   * missed keep-alive comments of a server with the default 15 s interval.
   */
  eventStreamIdleMs?: number;
  logger?: Logger;
  /**
   * Told when the event stream ends while there are listeners (the lab closed, the connection
   * dropped). Listeners stay subscribed but hear nothing more until the next `onHotplug` opens a new
   * stream.
   */
  onEventStreamEnd?: (reason: string) => void;
}

export class RemoteLabDiscovery implements BenchDiscovery {
  /** The control server's base URL. */
  readonly url: string;
  readonly #http: LabControlHttp;
  readonly #listeners: ListenerSet<[UsbHotplugEvent]>;
  readonly #unsubscribes = new Set<() => void>();
  readonly #logger: Logger;
  readonly #eventStreamIdleMs: number;
  readonly #onEventStreamEnd: ((reason: string) => void) | undefined;
  #stream: LabEventStream | undefined;

  /** `url`: the lab's `usbControlUrl` (`http://127.0.0.1:<port>`). Nothing is contacted until used. */
  constructor(url: string, options: RemoteLabDiscoveryOptions = {}) {
    this.#http = new LabControlHttp(url, { requestTimeoutMs: options.requestTimeoutMs ?? 10_000 });
    this.url = this.#http.url;
    this.#logger = (options.logger ?? silentLogger()).child({ labControl: this.url });
    this.#listeners = new ListenerSet((err) => this.#logger.error({ err }, 'hot-plug listener threw'));
    this.#eventStreamIdleMs = options.eventStreamIdleMs ?? 45_000;
    this.#onEventStreamEnd = options.onEventStreamEnd;
  }

  /**
   * The lab's devices. Never rejects: an unreachable lab (or one answering nonsense) gives no devices
   * and a `problem` naming the URL.
   */
  async list(): Promise<DiscoverySnapshot> {
    let answer: LabControlAnswer;
    try {
      answer = await this.#call('GET', USB_DEVICES_PATH);
    } catch (err: unknown) {
      if (err instanceof LabControlUnreachable) return { devices: [], problem: err.message };
      throw err;
    }
    if (answer.statusCode !== 200) return { devices: [], problem: `virtual lab control at ${this.url} answered HTTP ${answer.statusCode}: ${errorOf(answer)}` };
    if (!isSnapshot(answer.body)) return { devices: [], problem: `virtual lab control at ${this.url} answered with something that is not a device list` };
    return answer.body;
  }

  /** Events from now on; the first subscriber opens the event stream, the last one to leave closes it. */
  onHotplug(listener: (event: UsbHotplugEvent) => void): () => void {
    const remove = this.#listeners.add(listener);
    const unsubscribe = (): void => {
      if (!this.#unsubscribes.delete(unsubscribe)) return;
      remove();
      if (this.#unsubscribes.size === 0) this.#closeStream();
    };
    this.#unsubscribes.add(unsubscribe);
    if (this.#stream === undefined) this.#openStream();
    return unsubscribe;
  }

  /**
   * The hub at `portPath` (not opened), or null when the lab has no hub enumerated there.
   * @throws HilError `HUB_NOT_FOUND` when the lab cannot be reached (so whether the hub exists is
   *   unknown), `HUB_REQUEST_FAILED` when the lab answers with an error.
   */
  async openHub(portPath: string): Promise<UsbControlDevice | null> {
    let answer: LabControlAnswer;
    try {
      answer = await this.#call('GET', hubResourcePath(portPath));
    } catch (err: unknown) {
      if (err instanceof LabControlUnreachable) {
        throw new HilError('HUB_NOT_FOUND', `hub ${portPath}: ${err.message}`, { hubPath: portPath, controlUrl: this.url }, { cause: err });
      }
      throw err;
    }
    if (answer.statusCode === 404) return null;
    const hub = answer.body as Partial<HubInfo> | null;
    if (answer.statusCode !== 200 || typeof hub?.vendorId !== 'number' || typeof hub.productId !== 'number') {
      throw new HilError('HUB_REQUEST_FAILED', `hub ${portPath}: virtual lab control at ${this.url} answered HTTP ${answer.statusCode}: ${errorOf(answer)}`,
        { hubPath: portPath, controlUrl: this.url });
    }
    return new RemoteHubDevice(this.#call, { portPath, vendorId: hub.vendorId, productId: hub.productId });
  }

  /**
   * The device at `portPath` (not opened) for descriptor reads and transfers, or null when the lab has
   * nothing enumerated there (or `portPath` is not a device port path).
   * @throws HilError `USB_UNAVAILABLE` when the lab cannot be reached or answers with an error.
   */
  async openDevice(portPath: string): Promise<UsbTransferDevice | null> {
    let answer: LabControlAnswer;
    try {
      answer = await this.#call('GET', deviceResourcePath(portPath));
    } catch (err: unknown) {
      if (err instanceof LabControlUnreachable) {
        throw new HilError('USB_UNAVAILABLE', `USB device ${portPath}: ${err.message}`, { portPath, controlUrl: this.url }, { cause: err });
      }
      throw err;
    }
    if (answer.statusCode === 404) return null;
    const info = answer.body as Partial<DeviceInfo> | null;
    if (answer.statusCode !== 200 || typeof info?.vendorId !== 'number' || typeof info.productId !== 'number' || typeof info.enumeration !== 'number') {
      throw new HilError('USB_UNAVAILABLE', `USB device ${portPath}: virtual lab control at ${this.url} answered HTTP ${answer.statusCode}: ${errorOf(answer)}`,
        { portPath, controlUrl: this.url });
    }
    return new RemoteUsbDevice(this.#call, { portPath, vendorId: info.vendorId, productId: info.productId, enumeration: info.enumeration });
  }

  /** Ends the event stream and drops every listener. Idempotent; usable again afterwards. */
  async close(): Promise<void> {
    for (const unsubscribe of [...this.#unsubscribes]) unsubscribe();
    this.#closeStream();
  }

  /** A request that keeps the in-process ordering of events and answers (see the module note). */
  readonly #call = async (method: 'GET' | 'POST', path: string, body?: unknown, options?: LabControlRequestOptions): Promise<LabControlAnswer> => {
    await this.#stream?.ready;
    const answer = await this.#http.request(method, path, body, options);
    const stream = this.#stream;
    if (stream !== undefined && answer.eventSeq !== undefined) await stream.whenSeen(answer.eventSeq);
    return answer;
  };

  #openStream(): void {
    const stream = new LabEventStream({
      url: `${this.url}${USB_EVENTS_PATH}`,
      idleTimeoutMs: this.#eventStreamIdleMs,
      onEvent: (event) => this.#listeners.emit(event),
      onMalformed: (line) => this.#logger.warn({ line }, 'ignored a hot-plug event the lab sent malformed'),
      onEnd: (reason) => {
        if (this.#stream === stream) this.#stream = undefined;
        this.#logger.warn({ reason }, 'the virtual lab\'s hot-plug event stream ended');
        this.#onEventStreamEnd?.(reason);
      },
    });
    this.#stream = stream;
  }

  #closeStream(): void {
    const stream = this.#stream;
    this.#stream = undefined;
    stream?.close();
  }
}

function isSnapshot(body: unknown): body is DiscoverySnapshot {
  return typeof body === 'object' && body !== null && Array.isArray((body as { devices?: unknown }).devices);
}

function errorOf(answer: LabControlAnswer): string {
  const body = answer.body as Partial<ControlErrorBody> | null;
  return typeof body?.error === 'string' ? body.error : String(answer.body).slice(0, 200);
}
