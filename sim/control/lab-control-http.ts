/**
 * JSON requests to the virtual lab's control server (node:http). Each request has its own connection:
 * on loopback that costs next to nothing, and it rules out the keep-alive race where a request is
 * written to a pooled socket the server is just closing ("socket hang up"). A request
 * that cannot reach the server, or gets no answer in time, rejects with {@link LabControlUnreachable};
 * any HTTP answer, error statuses included, resolves.
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

export class LabControlHttp {
  /** Base URL, `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string;
  readonly #requestTimeoutMs: number;

  constructor(url: string, options: { requestTimeoutMs: number }) {
    this.url = url.replace(/\/+$/, '');
    this.#requestTimeoutMs = options.requestTimeoutMs;
  }

  /** Sends `body` as JSON (when given) to `path` and reads the JSON answer. */
  request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<LabControlAnswer> {
    return new Promise((resolve, reject) => {
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
      request.setTimeout(this.#requestTimeoutMs, () => request.destroy(new LabControlUnreachable(this.url, `no answer within ${this.#requestTimeoutMs} ms`)));
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
