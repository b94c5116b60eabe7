import net from 'node:net';
import { HilError, isHilError } from '../errors.ts';
import type { OpenLinkOptions, SerialLink } from './serial-link.ts';
import { ComPortAcks } from './com-port-acks.ts';
import { LinkListeners, writeWithCallback } from './link-listeners.ts';
import { parseRfc2217Url, type Rfc2217Address } from './rfc2217-url.ts';
import {
  ComPortCommand,
  ControlValue,
  Parity,
  PurgeValue,
  StopSize,
  TelnetDecoder,
  TelnetOption,
  encodeComPortCommand,
  escapeTelnetData,
  readU32BigEndian,
  u32BigEndian,
  type TelnetEvent,
} from './telnet-codec.ts';
import { TelnetOptionNegotiator } from './telnet-option-negotiator.ts';
import { abortedError, withDeadline } from './with-deadline.ts';

/** Options of {@link openRfc2217Link}. */
export interface Rfc2217LinkOptions extends OpenLinkOptions {
  /** How long to wait for each acknowledgement after the link is open (default 3000 ms, as pyserial). */
  ackTimeoutMs?: number;
}

/** Text the virtual lab's server (and this client) use for "another client holds the port". */
export const PORT_IN_USE_TEXT = 'port already in use';
/** What the lab's server says while the USB device behind the endpoint is off the bus (no tty node). */
export const NO_DEVICE_TEXT = 'no serial device on this port';

const DEFAULT_BAUD_RATE = 115200;
const DEFAULT_OPEN_TIMEOUT_MS = 5000;
const DEFAULT_ACK_TIMEOUT_MS = 3000;
const CLOSE_GRACE_MS = 1000;
/** Bytes of pre-negotiation text kept to recognise a "port in use" message. */
const PRE_OPEN_TEXT_BYTES = 512;

/** We perform BINARY, SGA and COM-PORT; we let the server perform BINARY, SGA, ECHO and COM-PORT (§12.6, §11.4). */
const CLIENT_OPTION_POLICY = {
  local: new Set<number>([TelnetOption.BINARY, TelnetOption.SGA, TelnetOption.COM_PORT]),
  remote: new Set<number>([TelnetOption.BINARY, TelnetOption.SGA, TelnetOption.ECHO, TelnetOption.COM_PORT]),
};

type Phase = 'negotiating' | 'open' | 'closed' | 'gone';

/**
 * Opens an RFC 2217 link (`rfc2217://host:port`): TCP connect with Nagle off, Telnet negotiation
 * (requires the server's `DO COM-PORT-OPTION`), then 8N1 without flow control at `baudRate`, each
 * setting acknowledged by the server. The modem lines are not changed; their state is queried
 * (SET_CONTROL 7 and 10) so {@link Rfc2217Link.signals} tells the truth.
 *
 * @throws HilError `USAGE` for a malformed URL or baud rate, `PORT_UNREACHABLE` when the TCP
 *   connection fails (refused, unreachable, no answer in time), `PORT_IN_USE` when the server says
 *   another client holds the port, `RFC2217_NEGOTIATION` when the remote end does not speak RFC 2217
 *   or does not acknowledge the settings in time, `ABORTED` when `signal` fires.
 */
export async function openRfc2217Link(url: string, options: Rfc2217LinkOptions = {}): Promise<Rfc2217Link> {
  return Rfc2217Link.open(url, options);
}

/** A {@link SerialLink} over RFC 2217 (ser2net-attached boards and the virtual lab). Open with {@link openRfc2217Link}. */
export class Rfc2217Link implements SerialLink {
  readonly url: string;
  readonly #address: Rfc2217Address;
  readonly #socket: net.Socket;
  readonly #ackTimeoutMs: number;
  readonly #decoder = new TelnetDecoder();
  readonly #negotiator: TelnetOptionNegotiator;
  readonly #listeners = new LinkListeners();
  readonly #acks = new ComPortAcks();
  #phase: Phase = 'negotiating';
  #baudRate: number;
  #signals = { dtr: false, rts: false };
  #purgesPending = 0;
  #preOpenText = '';
  #socketError: Error | undefined;
  #negotiated: { resolve(): void; reject(err: Error): void } | undefined;
  #closed: Promise<void> | undefined;

  private constructor(url: string, address: Rfc2217Address, socket: net.Socket, baudRate: number, ackTimeoutMs: number) {
    this.url = url;
    this.#address = address;
    this.#socket = socket;
    this.#baudRate = baudRate;
    this.#ackTimeoutMs = ackTimeoutMs;
    this.#negotiator = new TelnetOptionNegotiator(CLIENT_OPTION_POLICY, (bytes) => this.#sendRaw(bytes));
    socket.on('data', (chunk: Buffer) => this.#onBytes(chunk));
    socket.on('error', (err: Error) => {
      this.#socketError ??= err;
    });
    socket.on('close', () => this.#onSocketClosed());
  }

  /** See {@link openRfc2217Link}. */
  static async open(url: string, options: Rfc2217LinkOptions = {}): Promise<Rfc2217Link> {
    const address = parseRfc2217Url(url);
    const baudRate = options.baudRate ?? DEFAULT_BAUD_RATE;
    checkBaudRate(baudRate, url);
    const timeoutMs = options.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS;
    const deadlineAt = performance.now() + timeoutMs;
    const socket = await connectTcp(address, url, timeoutMs, options.signal);
    const link = new Rfc2217Link(url, address, socket, baudRate, options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS);
    try {
      await withDeadline(
        link.#negotiate(baudRate, () => deadlineAt - performance.now()),
        Math.max(0, deadlineAt - performance.now()),
        () => negotiationError(url, `no RFC 2217 negotiation within ${timeoutMs} ms`),
        options.signal,
      );
    } catch (err: unknown) {
      link.#abandon();
      throw err;
    }
    return link;
  }

  get baudRate(): number {
    return this.#baudRate;
  }

  get isOpen(): boolean {
    return this.#phase === 'open';
  }

  get signals(): { readonly dtr: boolean; readonly rts: boolean } {
    return { ...this.#signals };
  }

  write(data: Uint8Array): Promise<void> {
    if (!this.isOpen) return Promise.reject(this.#goneError('write'));
    if (data.length === 0) return Promise.resolve();
    return writeWithCallback((done) => this.#socket.write(escapeTelnetData(data), done), (err) => this.#goneError('write', err));
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.#listeners.onData(listener);
  }

  onGone(listener: (err: Error) => void): () => void {
    return this.#listeners.onGone(listener);
  }

  /**
   * Sends SET_CONTROL for DTR (8/9) and for RTS (11/12), always both, and waits for both
   * acknowledgements. DTR goes first, except when that would pass through DTR=0/RTS=1 (EN low, a
   * reset on the auto-reset circuit, reference §8.1) on the way to a state that is not a reset.
   *
   * @throws HilError `LINK_GONE` when closed or gone, `TIMEOUT` when an acknowledgement is late.
   */
  async setSignals(signals: { dtr?: boolean; rts?: boolean }): Promise<void> {
    if (!this.isOpen) throw this.#goneError('setSignals');
    const prev = this.#signals;
    const next = { dtr: signals.dtr ?? prev.dtr, rts: signals.rts ?? prev.rts };
    this.#signals = next;
    const dtr = next.dtr ? ControlValue.DTR_ON : ControlValue.DTR_OFF;
    const rts = next.rts ? ControlValue.RTS_ON : ControlValue.RTS_OFF;
    const dtrFirstPassesReset = !next.dtr && prev.rts && !next.rts && prev.dtr;
    const order = dtrFirstPassesReset ? [rts, dtr] : [dtr, rts];
    const acks = order.map((value) => this.#command(ComPortCommand.SET_CONTROL, [value], !this.#address.ignoreSetControlAcks));
    await Promise.all(acks);
  }

  /**
   * Sends SET_BAUDRATE and waits for the acknowledgement.
   *
   * @throws HilError `USAGE` for a rate that is not a positive 32-bit integer, `LINK_GONE`, `TIMEOUT`,
   *   `RFC2217_NEGOTIATION` when the server applied another rate.
   */
  async setBaudRate(baudRate: number): Promise<void> {
    checkBaudRate(baudRate, this.url);
    if (!this.isOpen) throw this.#goneError('setBaudRate');
    await this.#applyBaudRate(baudRate);
  }

  /**
   * Drops bytes not yet delivered here, asks the server to drop board → host bytes it still holds
   * (PURGE_DATA 1) and discards whatever arrives until the acknowledgement: the server handles
   * commands in order, so those bytes predate the purge.
   */
  async purgeInput(): Promise<void> {
    if (!this.isOpen) throw this.#goneError('purgeInput');
    this.#listeners.data.clear();
    this.#purgesPending++;
    try {
      await this.#command(ComPortCommand.PURGE_DATA, [PurgeValue.RECEIVE], true);
    } finally {
      this.#purgesPending--;
    }
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    const wasAlive = this.#phase === 'open' || this.#phase === 'negotiating';
    this.#phase = this.#phase === 'gone' ? 'gone' : 'closed';
    this.#failWaiters(new HilError('LINK_GONE', `${this.url}: link closed`, { portPath: this.url }));
    this.#listeners.dispose();
    if (!wasAlive || this.#socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.#socket.destroy(), CLOSE_GRACE_MS);
      this.#socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      // end() sends FIN after queued bytes, so the server sees everything written before close().
      this.#socket.end();
    });
  }

  async #negotiate(baudRate: number, remainingMs: () => number): Promise<void> {
    const comPort = new Promise<void>((resolve, reject) => {
      this.#negotiated = { resolve, reject };
    });
    this.#socket.cork();
    this.#negotiator.offer(TelnetOption.COM_PORT);
    this.#negotiator.ask(TelnetOption.COM_PORT);
    this.#negotiator.offer(TelnetOption.BINARY);
    this.#negotiator.ask(TelnetOption.BINARY);
    this.#negotiator.offer(TelnetOption.SGA);
    this.#negotiator.ask(TelnetOption.SGA);
    this.#socket.uncork();
    await comPort;
    this.#negotiated = undefined;

    const ackTimeoutMs = (): number => Math.max(1, Math.min(this.#ackTimeoutMs, remainingMs()));
    const control = !this.#address.ignoreSetControlAcks;
    this.#socket.cork();
    // One batch, all in flight together: pyserial sends these one by one, but the server answers in
    // order either way and a batch keeps the open to one round trip.
    const settings = [
      this.#command(ComPortCommand.SET_BAUDRATE, u32BigEndian(baudRate), true, ackTimeoutMs()),
      this.#command(ComPortCommand.SET_DATASIZE, [8], true, ackTimeoutMs()),
      this.#command(ComPortCommand.SET_PARITY, [Parity.NONE], true, ackTimeoutMs()),
      this.#command(ComPortCommand.SET_STOPSIZE, [StopSize.ONE], true, ackTimeoutMs()),
      this.#command(ComPortCommand.SET_CONTROL, [ControlValue.FLOW_NONE], control, ackTimeoutMs()),
    ];
    const queries = control
      ? [
          this.#command(ComPortCommand.SET_CONTROL, [ControlValue.REQUEST_DTR], true, ackTimeoutMs()),
          this.#command(ComPortCommand.SET_CONTROL, [ControlValue.REQUEST_RTS], true, ackTimeoutMs()),
        ]
      : [];
    this.#socket.uncork();
    try {
      const [baudAck, , , , , dtrAck, rtsAck] = await Promise.all([...settings, ...queries]);
      this.#checkBaudAck(baudRate, baudAck);
      this.#signals = { dtr: dtrAck?.[0] === ControlValue.DTR_ON, rts: rtsAck?.[0] === ControlValue.RTS_ON };
    } catch (err: unknown) {
      if (isHilError(err, 'TIMEOUT')) throw negotiationError(this.url, err.message, err);
      throw err;
    }
    this.#phase = 'open';
  }

  async #applyBaudRate(baudRate: number): Promise<void> {
    const ack = await this.#command(ComPortCommand.SET_BAUDRATE, u32BigEndian(baudRate), true);
    this.#checkBaudAck(baudRate, ack);
  }

  #checkBaudAck(requested: number, ack: Uint8Array | undefined): void {
    const applied = ack === undefined ? undefined : readU32BigEndian(ack);
    if (applied !== requested) {
      throw new HilError('RFC2217_NEGOTIATION', `${this.url}: the server applied ${String(applied)} baud instead of ${requested}`, {
        portPath: this.url,
        phase: 'SET_BAUDRATE',
      });
    }
    this.#baudRate = requested;
  }

  /**
   * Sends one COM-PORT command; with `awaitAck` resolves with the value of its acknowledgement
   * (command + 100), else right after sending (with an empty value).
   */
  #command(command: number, value: Uint8Array | readonly number[], awaitAck: boolean, timeoutMs = this.#ackTimeoutMs): Promise<Uint8Array> {
    const frame = encodeComPortCommand(command, value);
    if (!awaitAck) {
      this.#sendRaw(frame);
      return Promise.resolve(new Uint8Array(0));
    }
    const name = commandName(command);
    // SET_CONTROL queries (7, 10) may be answered with any value; other commands echo theirs.
    const isQuery = command === ComPortCommand.SET_CONTROL && (value[0] === ControlValue.REQUEST_DTR || value[0] === ControlValue.REQUEST_RTS);
    const { ack, forget } = this.#acks.expect(command, isQuery || value.length !== 1 ? undefined : value[0]);
    this.#sendRaw(frame);
    return withDeadline(
      ack,
      timeoutMs,
      () => new HilError('TIMEOUT', `${this.url}: no acknowledgement of ${name} within ${timeoutMs} ms`, { portPath: this.url, phase: name }),
      undefined,
      forget,
    );
  }

  #onBytes(chunk: Buffer): void {
    let events: TelnetEvent[];
    try {
      events = this.#decoder.push(chunk);
    } catch {
      return; // The decoder does not throw; this guard keeps a future bug from killing the process.
    }
    for (const event of events) {
      switch (event.type) {
        case 'data':
          if (this.#phase === 'negotiating') this.#notePreOpenText(event.data);
          if (this.#purgesPending === 0) this.#listeners.data.emit(event.data);
          break;
        case 'negotiation':
          this.#negotiator.handle(event.verb, event.option);
          this.#checkComPortNegotiation();
          break;
        case 'subnegotiation':
          if (event.option === TelnetOption.COM_PORT) this.#onComPortReply(event.payload);
          break;
        default:
          break; // NOP, GA and skipped garbage carry nothing for a serial link.
      }
    }
  }

  #checkComPortNegotiation(): void {
    if (this.#negotiated === undefined) return;
    if (this.#negotiator.isLocalEnabled(TelnetOption.COM_PORT)) {
      this.#negotiated.resolve();
    } else if (this.#negotiator.wasRefused(TelnetOption.COM_PORT, 'local')) {
      this.#negotiated.reject(negotiationError(this.url, 'the server refused COM-PORT-OPTION (DONT 44)'));
    }
  }

  #onComPortReply(payload: Uint8Array): void {
    const reply = payload[0];
    if (reply !== undefined) this.#acks.settle(reply, payload.subarray(1));
  }

  #notePreOpenText(data: Uint8Array): void {
    this.#preOpenText = (this.#preOpenText + Buffer.from(data).toString('latin1')).slice(-PRE_OPEN_TEXT_BYTES);
    if (this.#preOpenText.includes(PORT_IN_USE_TEXT)) this.#failWaiters(this.#inUseError());
    else if (this.#preOpenText.includes(NO_DEVICE_TEXT)) this.#failWaiters(this.#noDeviceError());
  }

  #noDeviceError(): HilError {
    return new HilError('PORT_UNREACHABLE', `${this.url}: ${NO_DEVICE_TEXT} (the board's USB device is off the bus)`, { portPath: this.url, phase: 'open' });
  }

  #inUseError(): HilError {
    return new HilError('PORT_IN_USE', `${this.url}: ${PORT_IN_USE_TEXT} by another client`, { portPath: this.url });
  }

  #onSocketClosed(): void {
    const phase = this.#phase;
    if (phase === 'closed' || phase === 'gone') return;
    this.#phase = 'gone';
    if (phase === 'negotiating') {
      this.#failWaiters(
        this.#preOpenText.includes(PORT_IN_USE_TEXT)
          ? this.#inUseError()
          : this.#preOpenText.includes(NO_DEVICE_TEXT)
            ? this.#noDeviceError()
            : negotiationError(this.url, 'the server closed the connection during negotiation', this.#socketError),
      );
      return;
    }
    const err = this.#goneError('connection', this.#socketError, 'the server closed the connection');
    this.#failWaiters(err);
    this.#listeners.emitGone(err);
  }

  #failWaiters(err: Error): void {
    this.#acks.failAll(err);
    this.#negotiated?.reject(err);
  }

  /** Tears down a link whose open failed; never reports "gone". */
  #abandon(): void {
    this.#phase = 'closed';
    this.#failWaiters(new HilError('LINK_GONE', `${this.url}: open failed`, { portPath: this.url }));
    this.#listeners.data.dispose();
    this.#socket.destroy();
  }

  #sendRaw(bytes: Uint8Array): void {
    if (!this.#socket.destroyed && this.#socket.writable) this.#socket.write(bytes);
  }

  #goneError(phase: string, cause?: Error, message?: string): HilError {
    const why = message ?? (this.#phase === 'closed' ? 'link closed' : 'link gone');
    return new HilError('LINK_GONE', `${this.url}: ${why}`, { portPath: this.url, phase }, { cause });
  }
}

function connectTcp(address: Rfc2217Address, url: string, timeoutMs: number, signal?: AbortSignal): Promise<net.Socket> {
  if (signal?.aborted) return Promise.reject(abortedError(signal));
  const socket = net.connect({ host: address.host, port: address.port, noDelay: true });
  const connected = new Promise<net.Socket>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      socket.destroy();
      const why = err.code === 'ECONNREFUSED' ? 'connection refused (nothing listens there)' : `cannot connect: ${err.message}`;
      reject(new HilError('PORT_UNREACHABLE', `${url}: ${why}`, { portPath: url, phase: 'connect' }, { cause: err }));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      // Nagle would hold back single SET_CONTROL frames and SLIP packets (§12.6).
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
  // Keep a listener attached for the lifetime of the socket: an 'error' with none would crash.
  socket.on('error', () => undefined);
  return withDeadline(
    connected,
    timeoutMs,
    () => new HilError('PORT_UNREACHABLE', `${url}: no TCP connection within ${timeoutMs} ms`, { portPath: url, phase: 'connect' }),
    signal,
    () => socket.destroy(),
  );
}

function negotiationError(url: string, why: string, cause?: unknown): HilError {
  return new HilError('RFC2217_NEGOTIATION', `${url} does not speak RFC 2217: ${why}`, { portPath: url, phase: 'negotiation' }, { cause });
}

function checkBaudRate(baudRate: number, url: string): void {
  if (!Number.isInteger(baudRate) || baudRate < 1 || baudRate > 0xffffffff) {
    throw new HilError('USAGE', `${url}: baud rate ${baudRate} is not a positive 32-bit integer`, { portPath: url });
  }
}

function commandName(command: number): string {
  const entry = Object.entries(ComPortCommand).find(([, n]) => n === command);
  return entry ? entry[0] : `COM-PORT command ${command}`;
}
