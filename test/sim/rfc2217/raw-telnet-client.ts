import net from 'node:net';
import { TelnetDecoder, type TelnetEvent } from '../../../runner/link/telnet-codec.ts';

/** Polls `probe` until it returns something other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(probe: () => T | undefined | false, what: string, timeoutMs = 3000): Promise<T> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * A byte-level Telnet peer for tests: sends exactly the bytes a test gives it and records (and
 * decodes) everything it receives, so tests can assert on the wire format.
 */
export class RawTelnetClient {
  readonly socket: net.Socket;
  /** Every byte received, raw. */
  readonly raw: number[] = [];
  /** Everything received, decoded. */
  readonly events: TelnetEvent[] = [];
  readonly #decoder = new TelnetDecoder();
  #closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.raw.push(...chunk);
      this.events.push(...this.#decoder.push(chunk));
    });
    socket.on('close', () => {
      this.#closed = true;
    });
    socket.on('error', () => undefined);
  }

  /** Connects to 127.0.0.1:`port`. */
  static connect(port: number): Promise<RawTelnetClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawTelnetClient(socket));
      });
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(bytes: Uint8Array | readonly number[]): void {
    this.socket.write(Uint8Array.from(bytes));
  }

  /** The data bytes received (Telnet stripped). */
  get data(): number[] {
    return this.events.flatMap((e) => (e.type === 'data' ? [...e.data] : []));
  }

  /** The COM-PORT sub-negotiations received, as `[command, ...value]`. */
  get comPortReplies(): number[][] {
    return this.events.flatMap((e) => (e.type === 'subnegotiation' && e.option === 44 ? [[...e.payload]] : []));
  }

  /** The negotiations received, as `[verb, option]`. */
  get negotiations(): Array<[number, number]> {
    return this.events.flatMap((e) => (e.type === 'negotiation' ? [[e.verb, e.option] as [number, number]] : []));
  }

  waitForClose(timeoutMs = 3000): Promise<true> {
    return waitFor(() => this.#closed, 'the server to close the connection', timeoutMs);
  }

  /** Closes the socket and waits until it is closed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 500).unref();
    await this.waitForClose();
  }
}
