/**
 * The server half of `GET /usb/events`: one subscription to the lab's hot-plug events, fanned out to
 * every open Server-Sent Events response. Events are numbered (`id:`) so answers can say how far the
 * stream had got (see `EVENT_SEQ_HEADER`); comment lines are sent while idle so either side notices a
 * dead connection (a write fails here, a read times out at the client).
 */
import type { ServerResponse } from 'node:http';
import type { BenchDiscovery, UsbHotplugEvent } from '../../runner/bench/usb-discovery.ts';
import { EVENT_SEQ_HEADER } from './lab-control-wire.ts';

export interface HotplugEventStreamsOptions {
  /** Interval of keep-alive comments on every open stream, ms. */
  keepAliveMs: number;
}

export class HotplugEventStreams {
  readonly #streams = new Set<ServerResponse>();
  readonly #keepAliveMs: number;
  readonly #unsubscribe: () => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #sent = 0;
  #closed = false;

  constructor(discovery: BenchDiscovery, options: HotplugEventStreamsOptions) {
    this.#keepAliveMs = options.keepAliveMs;
    this.#unsubscribe = discovery.onHotplug((event) => this.#broadcast(event));
  }

  /** How many events have been sent so far (the `id` of the last one). */
  get sent(): number {
    return this.#sent;
  }

  /** Turns `response` into an event stream of the events from now on, until it closes or {@link close}. */
  add(response: ServerResponse): void {
    if (this.#closed) {
      response.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'the virtual lab is closing' }));
      return;
    }
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      // The connection belongs to the stream: when the stream ends, so does the connection.
      connection: 'close',
      [EVENT_SEQ_HEADER]: String(this.#sent),
    });
    response.write(': usb hot-plug events\n\n');
    this.#streams.add(response);
    const forget = (): void => this.#forget(response);
    response.on('close', forget);
    response.on('error', forget);
    this.#timer ??= setInterval(() => this.#writeAll(': keep-alive\n\n'), this.#keepAliveMs).unref();
  }

  /** Ends every stream and stops listening to the lab. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    for (const response of [...this.#streams]) {
      this.#forget(response);
      response.end();
    }
  }

  #broadcast(event: UsbHotplugEvent): void {
    this.#sent++;
    this.#writeAll(`id: ${this.#sent}\ndata: ${JSON.stringify(event)}\n\n`);
  }

  #writeAll(text: string): void {
    for (const response of this.#streams) response.write(text);
  }

  #forget(response: ServerResponse): void {
    this.#streams.delete(response);
    if (this.#streams.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
