import type net from 'node:net';
import type { SimSerialPort } from '../board/sim-serial-port.ts';
import {
  ComPortCommand,
  ControlValue,
  Parity,
  PurgeValue,
  SERVER_COMMAND_OFFSET,
  StopSize,
  TelnetDecoder,
  TelnetOption,
  encodeComPortCommand,
  escapeTelnetData,
  readU32BigEndian,
  u32BigEndian,
  type TelnetEvent,
} from '../../runner/link/telnet-codec.ts';
import { TelnetOptionNegotiator } from '../../runner/link/telnet-option-negotiator.ts';

/**
 * Server side option policy (reference §12.6): accept BINARY, SGA, ECHO, COM-PORT when asked to
 * perform them (we never actually echo: "WILL ECHO" only keeps pyserial-style clients content);
 * let the client perform BINARY, SGA, COM-PORT.
 */
const SERVER_OPTION_POLICY = {
  local: new Set<number>([TelnetOption.BINARY, TelnetOption.SGA, TelnetOption.ECHO, TelnetOption.COM_PORT]),
  remote: new Set<number>([TelnetOption.BINARY, TelnetOption.SGA, TelnetOption.COM_PORT]),
};

/**
 * Board output queued in the socket beyond this is dropped, like a UART FIFO overflowing, so a
 * client that stops reading cannot grow the server's memory without bound.
 */
const MAX_QUEUED_OUTPUT_BYTES = 1024 * 1024;

/** The modem lines and line settings, kept across clients by the server (the port keeps its state). */
export interface PortLineState {
  dtr: boolean;
  rts: boolean;
  dataSize: number;
  parity: number;
  stopSize: number;
  flowControl: number;
  breakOn: boolean;
}

/**
 * One RFC 2217 client attached to a {@link SimSerialPort}: Telnet decoding, option negotiation,
 * COM-PORT-OPTION commands (each SET_* acknowledged with command + 100 and the applied value), and
 * the data pump in both directions with 0xFF doubling. Never throws on anything the client sends.
 */
export class Rfc2217Session {
  readonly #socket: net.Socket;
  readonly #port: SimSerialPort;
  readonly #lines: PortLineState;
  readonly #decoder = new TelnetDecoder();
  readonly #negotiator: TelnetOptionNegotiator;
  readonly #unsubscribe: () => void;
  #ended = false;

  /**
   * Starts serving: sends `WILL COM-PORT`, `DO BINARY`, `WILL SGA`, marks the host attached and pumps
   * board output to the socket. `onEnd` runs once when the client goes (or {@link end} is called).
   */
  constructor(socket: net.Socket, port: SimSerialPort, lines: PortLineState, onEnd: () => void) {
    this.#socket = socket;
    this.#port = port;
    this.#lines = lines;
    this.#negotiator = new TelnetOptionNegotiator(SERVER_OPTION_POLICY, (bytes) => this.#send(bytes));
    const finish = (): void => {
      if (this.#ended) return;
      this.end();
      onEnd();
    };
    socket.on('data', (chunk: Buffer) => this.#onBytes(chunk));
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', finish);
    socket.cork();
    this.#negotiator.offer(TelnetOption.COM_PORT);
    this.#negotiator.ask(TelnetOption.BINARY);
    this.#negotiator.offer(TelnetOption.SGA);
    socket.uncork();
    this.#unsubscribe = port.onTransmit((chunk) => this.#sendData(chunk));
    port.setHostAttached(true);
  }

  /** Detaches from the port and destroys the socket. Idempotent. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#unsubscribe();
    this.#port.setHostAttached(false);
    this.#socket.destroy();
  }

  #onBytes(chunk: Buffer): void {
    if (this.#ended) return;
    let events: TelnetEvent[];
    try {
      events = this.#decoder.push(chunk);
    } catch {
      return; // The decoder does not throw; a future bug must not take the whole lab down.
    }
    for (const event of events) {
      switch (event.type) {
        case 'data': {
          const data = event.data;
          this.#guard(() => this.#port.receiveFromHost(data));
          break;
        }
        case 'negotiation':
          this.#negotiator.handle(event.verb, event.option);
          break;
        case 'subnegotiation':
          // Handled whether or not COM-PORT was negotiated first: lenient, like pyserial's PortManager.
          if (event.option === TelnetOption.COM_PORT) this.#onComPortCommand(event.payload);
          break;
        default:
          break; // NOP, BRK, garbage: nothing to do for a simulated UART.
      }
    }
  }

  #onComPortCommand(payload: Uint8Array): void {
    const command = payload[0];
    if (command === undefined) return;
    const value = payload.subarray(1);
    const byte = value[0];
    switch (command) {
      case ComPortCommand.SIGNATURE:
        // An empty SIGNATURE asks for ours; a non-empty one is the client introducing itself.
        if (value.length === 0) this.#reply(command, new TextEncoder().encode(`hil virtual lab ${this.#port.boardId}`));
        break;
      case ComPortCommand.SET_BAUDRATE:
        this.#setBaudRate(value);
        break;
      case ComPortCommand.SET_DATASIZE:
        if (byte === undefined) return;
        if (byte !== 0) this.#lines.dataSize = byte;
        this.#reply(command, [this.#lines.dataSize]);
        break;
      case ComPortCommand.SET_PARITY:
        if (byte === undefined) return;
        if (byte !== Parity.REQUEST) this.#lines.parity = byte;
        this.#reply(command, [this.#lines.parity]);
        break;
      case ComPortCommand.SET_STOPSIZE:
        if (byte === undefined) return;
        if (byte !== StopSize.REQUEST) this.#lines.stopSize = byte;
        this.#reply(command, [this.#lines.stopSize]);
        break;
      case ComPortCommand.SET_CONTROL:
        if (byte !== undefined) this.#reply(command, [this.#setControl(byte)]);
        break;
      case ComPortCommand.SET_LINESTATE_MASK:
      case ComPortCommand.SET_MODEMSTATE_MASK:
        // We never send NOTIFY_*; acknowledging the mask is all a client waits for.
        if (byte !== undefined) this.#reply(command, [byte]);
        break;
      case ComPortCommand.PURGE_DATA:
        if (byte === undefined) return;
        if (byte === PurgeValue.RECEIVE || byte === PurgeValue.BOTH) this.#guard(() => this.#port.purgeTransmit());
        this.#reply(command, [byte]);
        break;
      default:
        // FLOWCONTROL_SUSPEND/RESUME carry no acknowledgement; anything else is not ours to answer.
        break;
    }
  }

  #setBaudRate(value: Uint8Array): void {
    const requested = readU32BigEndian(value);
    if (requested === undefined) return;
    let applied = this.#port.baudRate;
    if (requested !== 0) {
      // Echo what was asked for: pyserial compares the acknowledged value with what it sent.
      if (this.#guard(() => this.#port.setBaudRate(requested))) applied = requested;
    }
    this.#reply(ComPortCommand.SET_BAUDRATE, u32BigEndian(applied));
  }

  /** Applies one SET_CONTROL value; returns the value to acknowledge with. */
  #setControl(value: number): number {
    const lines = this.#lines;
    switch (value) {
      case ControlValue.REQUEST_FLOW:
        return lines.flowControl;
      case ControlValue.REQUEST_BREAK:
        return lines.breakOn ? ControlValue.BREAK_ON : ControlValue.BREAK_OFF;
      case ControlValue.BREAK_ON:
      case ControlValue.BREAK_OFF:
        lines.breakOn = value === ControlValue.BREAK_ON;
        return value;
      case ControlValue.REQUEST_DTR:
        return lines.dtr ? ControlValue.DTR_ON : ControlValue.DTR_OFF;
      case ControlValue.REQUEST_RTS:
        return lines.rts ? ControlValue.RTS_ON : ControlValue.RTS_OFF;
      case ControlValue.DTR_ON:
      case ControlValue.DTR_OFF:
        lines.dtr = value === ControlValue.DTR_ON;
        this.#applyModemLines();
        return value;
      case ControlValue.RTS_ON:
      case ControlValue.RTS_OFF:
        lines.rts = value === ControlValue.RTS_ON;
        this.#applyModemLines();
        return value;
      case ControlValue.REQUEST_INBOUND_FLOW:
        return ControlValue.INBOUND_FLOW_NONE;
      default:
        // 1–3 set outbound flow control; 14–19 inbound flow and DCD/DSR flow: remember the outbound
        // choice, echo all (the simulated UART has no flow control to apply).
        if (value >= ControlValue.FLOW_NONE && value <= ControlValue.FLOW_HARDWARE) lines.flowControl = value;
        return value;
    }
  }

  #applyModemLines(): void {
    // Always the merged pair: the board sees the same line state a tty's TIOCMSET would give it.
    const lines = { dtr: this.#lines.dtr, rts: this.#lines.rts };
    this.#guard(() => this.#port.setModemLines(lines));
  }

  /** Runs a port call; a port that throws on a silly value must not take the server down. */
  #guard(call: () => void): boolean {
    try {
      call();
      return true;
    } catch {
      return false;
    }
  }

  #reply(command: number, value: Uint8Array | readonly number[]): void {
    this.#send(encodeComPortCommand(command + SERVER_COMMAND_OFFSET, value));
  }

  #sendData(chunk: Uint8Array): void {
    if (this.#socket.writableLength > MAX_QUEUED_OUTPUT_BYTES) return;
    this.#send(escapeTelnetData(chunk));
  }

  #send(bytes: Uint8Array): void {
    if (this.#ended || this.#socket.destroyed || !this.#socket.writable) return;
    this.#socket.write(bytes);
  }
}
