/**
 * JSON requests to the virtual lab's control server (node:http). Each request has its own connection:
 * on loopback that costs next to nothing, and it rules out the keep-alive race where a request is
 * written to a pooled socket the server is just closing ("socket hang up"). A request
 * that cannot reach the server, or gets no answer in time, rejects with {@link LabControlUnreachable};
 * any HTTP answer, error statuses included, resolves. A long poll (a transfer that waits for the
 * device) has no answer deadline; its caller ends it with an AbortSignal.
 */
import { request as httpRequest } from 'node:http';
import { EVENT_SEQ_HEADER } from './lab-control-wire.ts';

/** The control server could not be reached or did not answer. */
export class LabControlUnreachable extends Error {
  constructor(readonly url: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`virtual lab control at ${url} not reachable: ${reason}`, options);
    this.name = 'LabControlUnreachable';
  }
}

/** One HTTP answer. */
export interface LabControlAnswer {
  statusCode: number;
  /** The parsed JSON body, or its text when it is not JSON. */
  body: unknown;
  /** The server's {@link EVENT_SEQ_HEADER}, when it sent one. */
  eventSeq: number | undefined;
}

/** How one request is made. */
export interface LabControlRequestOptions {
  /** Ends the request: it rejects with an `AbortError` DOMException and the connection is closed. */
  signal?: AbortSignal;
  /** Wait for the answer as long as it takes (no `requestTimeoutMs`): the server answers when the device does. */
  longPoll?: boolean;
}

export class LabControlHttp {
  /** Base URL, `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string;
  readonly #requestTimeoutMs: number;

  constructor(url: string, options: { requestTimeoutMs: number }) {
    this.url = url.replace(/\/+$/, '');
    this.#requestTimeoutMs = options.requestTimeoutMs;
  }

  /** Sends `body` as JSON (when given) to `path` and reads the JSON answer. */
  request(method: 'GET' | 'POST', path: string, body?: unknown, options: LabControlRequestOptions = {}): Promise<LabControlAnswer> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(aborted());
    return new Promise<LabControlAnswer>((resolveAnswer, rejectAnswer) => {
      const onAbort = (): void => {
        // Rejected first: the socket error that destroying the request causes then changes nothing.
        reject(aborted());
        request.destroy();
      };
      const resolve = (answer: LabControlAnswer): void => {
        signal?.removeEventListener('abort', onAbort);
        resolveAnswer(answer);
      };
      const reject = (err: unknown): void => {
        signal?.removeEventListener('abort', onAbort);
        rejectAnswer(err);
      };
      const fail = (err: unknown): void => {
        reject(err instanceof LabControlUnreachable ? err : new LabControlUnreachable(this.url, reasonOf(err), { cause: err }));
      };
      let target: URL;
      try {
        target = new URL(path, `${this.url}/`);
      } catch (err: unknown) {
        fail(err);
        return;
      }
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const request = httpRequest(target, {
        method,
        agent: false,
        headers: { accept: 'application/json', ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }) },
      });
      if (options.longPoll !== true) {
        request.setTimeout(this.#requestTimeoutMs, () => request.destroy(new LabControlUnreachable(this.url, `no answer within ${this.#requestTimeoutMs} ms`)));
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      request.on('error', fail);
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const seq = Number(response.headers[EVENT_SEQ_HEADER]);
          resolve({ statusCode: response.statusCode ?? 0, body: parseJson(text), eventSeq: Number.isInteger(seq) ? seq : undefined });
        });
      });
      request.end(payload);
    });
  }
}

function aborted(): DOMException {
  return new DOMException('The transfer was cancelled.', 'AbortError');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A short reason from a socket error: the message already names the code and address (`connect ECONNREFUSED 127.0.0.1:1`). */
export function reasonOf(err: unknown): string {
  if (err instanceof LabControlUnreachable) return err.reason;
  return err instanceof Error ? err.message : String(err);
}
