import net from 'node:net';
import { HilError } from '../../runner/errors.ts';
import type { SimSerialPort } from '../board/sim-serial-port.ts';
import { Parity, StopSize, ControlValue } from '../../runner/link/telnet-codec.ts';
import { Rfc2217Session, type PortLineState } from './rfc2217-session.ts';

/** Options of {@link Rfc2217Server.listen}. */
export interface Rfc2217ServerOptions {
  /** Interface to listen on; default `127.0.0.1` (the virtual lab is loopback-only). */
  host?: string;
  /** TCP port; default 0 (an ephemeral port, read it back from {@link Rfc2217Server.port}). */
  port?: number;
}

/**
 * The line sent to a second client before it is disconnected. `Rfc2217Link` recognises it and fails
 * its open with `PORT_IN_USE`.
 */
export const PORT_IN_USE_LINE = 'hil: port already in use by another client\r\n';

/**
 * The line sent to a client that connects while the board's serial device is not on the bus (the
 * tty node does not exist). `Rfc2217Link` recognises it and fails its open with `LINK_GONE`.
 */
export const NO_DEVICE_LINE = 'hil: no serial device on this port right now\r\n';

/** How long a refused client may linger after the in-use line before it is cut off. */
const REFUSED_LINGER_MS = 1000;

/**
 * Serves one simulated board's serial port over RFC 2217 on a TCP port, one client at a time, so
 * esptool.py, pyserial/mpremote and the rig's own `Rfc2217Link` can use it (reference §12.6).
 * A second client gets {@link PORT_IN_USE_LINE} and is closed; when the client goes, the port is free
 * for the next one. Socket errors (resets, garbage) end that client quietly; the server carries on.
 *
 * The server stands for a tty node: {@link setDevicePresent}(false) — the USB device behind it left the
 * bus — ends the client's connection, as reads on a vanished tty fail, and refuses new clients with
 * {@link NO_DEVICE_LINE} until the device is back.
 */
export class Rfc2217Server {
  /** `rfc2217://<host>:<port>` for clients. */
  readonly url: string;
  /** The TCP port actually listened on. */
  readonly port: number;
  readonly #server: net.Server;
  readonly #serialPort: SimSerialPort;
  readonly #sockets = new Set<net.Socket>();
  /** Line settings persist across clients, as the UART's would. */
  readonly #lines: PortLineState = {
    dtr: false,
    rts: false,
    dataSize: 8,
    parity: Parity.NONE,
    stopSize: StopSize.ONE,
    flowControl: ControlValue.FLOW_NONE,
    breakOn: false,
  };
  #session: Rfc2217Session | undefined;
  #closing: Promise<void> | undefined;
  #devicePresent = true;

  private constructor(server: net.Server, serialPort: SimSerialPort, host: string, port: number) {
    this.#server = server;
    this.#serialPort = serialPort;
    this.port = port;
    this.url = `rfc2217://${host.includes(':') ? `[${host}]` : host}:${port}`;
    server.on('connection', (socket) => this.#onConnection(socket));
  }

  /**
   * Starts listening for `serialPort`.
   *
   * @throws HilError `SIM_START` when the address cannot be bound (port taken, bad host).
   */
  static async listen(serialPort: SimSerialPort, options: Rfc2217ServerOptions = {}): Promise<Rfc2217Server> {
    const host = options.host ?? '127.0.0.1';
    const server = net.createServer({ noDelay: true });
    const port = await new Promise<number>((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(
          new HilError('SIM_START', `cannot serve ${serialPort.boardId} over RFC 2217 on ${host}:${options.port ?? 0}: ${err.message}`, { boardId: serialPort.boardId }, { cause: err }),
        );
      };
      server.once('error', onError);
      server.listen({ host, port: options.port ?? 0 }, () => {
        server.off('error', onError);
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
    // After listening, errors (e.g. EMFILE on accept) must not crash the lab.
    server.on('error', () => undefined);
    return new Rfc2217Server(server, serialPort, host, port);
  }

  /** True while a client holds the port. */
  get hasClient(): boolean {
    return this.#session !== undefined;
  }

  /** Whether the serial device behind this endpoint is on the bus (see the class note). */
  get devicePresent(): boolean {
    return this.#devicePresent;
  }

  /**
   * The serial device appeared on or left the bus. Leaving ends the client's connection at once
   * (what was in flight is lost, as with an unplugged cable); the line settings are kept for the
   * next client, as a reopened tty starts from the driver's settings.
   */
  setDevicePresent(present: boolean): void {
    if (present === this.#devicePresent) return;
    this.#devicePresent = present;
    if (present) return;
    const session = this.#session;
    this.#session = undefined;
    session?.end();
  }

  /** Stops listening and disconnects every client. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#session?.end();
      this.#session = undefined;
      for (const socket of this.#sockets) socket.destroy();
    });
    return this.#closing;
  }

  #onConnection(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    // A reset from a vanished client is routine; the session (if any) ends on 'close'.
    socket.on('error', () => undefined);
    socket.setNoDelay(true);
    if (this.#closing !== undefined) {
      socket.destroy();
      return;
    }
    if (!this.#devicePresent) {
      this.#refuse(socket, NO_DEVICE_LINE);
      return;
    }
    if (this.#session !== undefined) {
      this.#refuse(socket, PORT_IN_USE_LINE);
      return;
    }
    const session: Rfc2217Session = new Rfc2217Session(socket, this.#serialPort, this.#lines, () => {
      if (this.#session === session) this.#session = undefined;
    });
    this.#session = session;
  }

  #refuse(socket: net.Socket, line: string): void {
    // Whatever the refused client sends is ignored; reading it keeps its writes from blocking.
    socket.resume();
    socket.end(line);
    setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
  }
}
