/**
 * The client half of `GET /usb/events`: reads the Server-Sent Events stream, hands each hot-plug event
 * to `onEvent`, and reports once when the stream ends for any reason but {@link LabEventStream.close}
 * (the lab closed it, the connection dropped, nothing arrived — not even a keep-alive comment — for
 * `idleTimeoutMs`). Never throws and never emits an unhandled error: a lost stream must not take the
 * process down.
 */
import { request as httpRequest, type ClientRequest } from 'node:http';
import type { UsbHotplugEvent } from '../../runner/bench/usb-discovery.ts';
import { reasonOf } from './lab-control-http.ts';
import { EVENT_SEQ_HEADER } from './lab-control-wire.ts';

export interface LabEventStreamOptions {
  /** The full URL of the event stream. */
  url: string;
  /** The stream counts as dropped after this long without a byte, ms. */
  idleTimeoutMs: number;
  onEvent(event: UsbHotplugEvent): void;
  /** Called once when the stream ends other than by {@link LabEventStream.close}. */
  onEnd(reason: string): void;
  /** A line that is not a hot-plug event (logged by the owner; the stream goes on). */
  onMalformed(line: string): void;
}

export class LabEventStream {
  /** Resolves once the server is sending events (or the stream failed to open: it never rejects). */
  readonly ready: Promise<void>;
  readonly #options: LabEventStreamOptions;
  readonly #request: ClientRequest;
  readonly #waiters: { seq: number; resolve: () => void }[] = [];
  #markReady: () => void = () => {};
  #seen = 0;
  #ended = false;
  #closedHere = false;
  #buffer = '';
  #pendingId: string | undefined;
  #pendingData: string[] = [];

  constructor(options: LabEventStreamOptions) {
    this.#options = options;
    this.ready = new Promise((resolve) => {
      this.#markReady = resolve;
    });
    this.#request = httpRequest(options.url, { headers: { accept: 'text/event-stream' }, agent: false });
    this.#request.setTimeout(options.idleTimeoutMs, () => this.#request.destroy(new Error(`no data for ${options.idleTimeoutMs} ms`)));
    this.#request.on('error', (err: unknown) => this.#end(reasonOf(err)));
    this.#request.on('response', (response) => {
      response.on('error', (err: unknown) => this.#end(reasonOf(err)));
      response.on('close', () => this.#end('the virtual lab closed the event stream'));
      if (response.statusCode !== 200) {
        response.resume();
        this.#end(`the event stream was refused with HTTP ${response.statusCode}`);
        return;
      }
      const seq = Number(response.headers[EVENT_SEQ_HEADER]);
      this.#seen = Number.isInteger(seq) ? seq : 0;
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => this.#receive(chunk));
      this.#markReady();
      // Answers that came back while the stream was opening may already be covered by where it starts.
      this.#wake();
    });
    this.#request.end();
  }

  /** True until the stream has ended or been closed. */
  get live(): boolean {
    return !this.#ended;
  }

  /** Resolves once the event numbered `seq` has been handed to `onEvent`, or the stream has ended. */
  whenSeen(seq: number): Promise<void> {
    if (this.#ended || seq <= this.#seen) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ seq, resolve }));
  }

  /** Ends the stream without calling `onEnd`. Idempotent. */
  close(): void {
    this.#closedHere = true;
    this.#request.destroy();
    this.#end('closed');
  }

  #receive(chunk: string): void {
    this.#buffer += chunk;
    let newline: number;
    while ((newline = this.#buffer.indexOf('\n')) >= 0) {
      const line = this.#buffer.slice(0, newline).replace(/\r$/, '');
      this.#buffer = this.#buffer.slice(newline + 1);
      this.#line(line);
    }
  }

  /** One line of the SSE format (WHATWG HTML, "Server-sent events": fields, comments, blank line dispatches). */
  #line(line: string): void {
    if (line === '') {
      this.#dispatch();
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') this.#pendingData.push(value);
    else if (field === 'id') this.#pendingId = value;
  }

  #dispatch(): void {
    const id = Number(this.#pendingId);
    const data = this.#pendingData.join('\n');
    const hasData = this.#pendingData.length > 0;
    this.#pendingId = undefined;
    this.#pendingData = [];
    if (hasData) {
      const event = parseEvent(data);
      if (event === undefined) this.#options.onMalformed(data);
      else this.#options.onEvent(event);
    }
    if (Number.isInteger(id) && id > this.#seen) this.#seen = id;
    this.#wake();
  }

  #wake(): void {
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const waiter = this.#waiters[i]!;
      if (this.#ended || waiter.seq <= this.#seen) {
        this.#waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  #end(reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#markReady();
    this.#wake();
    if (!this.#closedHere) this.#options.onEnd(reason);
  }
}

function parseEvent(data: string): UsbHotplugEvent | undefined {
  try {
    const event = JSON.parse(data) as { type?: unknown; portPath?: unknown; reason?: unknown; codes?: unknown; device?: { portPath?: unknown } };
    if (event.type === 'detach' && typeof event.portPath === 'string') return event as UsbHotplugEvent;
    if (event.type === 'enumeration-failed' && typeof event.portPath === 'string' && typeof event.reason === 'string' && Array.isArray(event.codes)) {
      return event as UsbHotplugEvent;
    }
    if (event.type === 'attach' && typeof event.device?.portPath === 'string') return event as UsbHotplugEvent;
  } catch {
    // Not JSON: reported as malformed below.
  }
  return undefined;
}
