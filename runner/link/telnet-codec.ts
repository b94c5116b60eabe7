/**
 * Telnet framing as used by RFC 2217 (serial ports over Telnet): one incremental decoder and the
 * encoders, shared by the rig's RFC 2217 client (`Rfc2217Link`) and the virtual lab's server.
 *
 * Sources: RFC 854 (Telnet protocol: IAC, commands, sub-negotiation), RFC 855 (option negotiation),
 * RFC 856 (BINARY), RFC 857 (ECHO), RFC 858 (SUPPRESS-GO-AHEAD), RFC 2217 (COM-PORT-OPTION 44 and its
 * commands); reference/esptool-protocol.md §12.
 */

/** Telnet command bytes (RFC 854, "TELNET COMMAND STRUCTURE"). */
export const Telnet = {
  /** Interpret As Command: starts every command; doubled (`FF FF`) it is one 0xFF data byte. */
  IAC: 0xff,
  DONT: 0xfe,
  DO: 0xfd,
  WONT: 0xfc,
  WILL: 0xfb,
  /** Sub-negotiation begin: `IAC SB <option> <payload…> IAC SE`. */
  SB: 0xfa,
  GA: 0xf9,
  EL: 0xf8,
  EC: 0xf7,
  AYT: 0xf6,
  AO: 0xf5,
  IP: 0xf4,
  BRK: 0xf3,
  DM: 0xf2,
  NOP: 0xf1,
  /** Sub-negotiation end. */
  SE: 0xf0,
} as const;

/** The four option-negotiation verbs (RFC 855). */
export type NegotiationVerb = typeof Telnet.WILL | typeof Telnet.WONT | typeof Telnet.DO | typeof Telnet.DONT;

/** Telnet options the rig cares about (RFC 856, 857, 858, 2217). */
export const TelnetOption = {
  BINARY: 0,
  ECHO: 1,
  SGA: 3,
  /** RFC 2217 COM-PORT-OPTION. */
  COM_PORT: 44,
} as const;

/**
 * RFC 2217 COM-PORT-OPTION commands, client → server. The server answers or notifies with the same
 * number plus {@link SERVER_COMMAND_OFFSET} (e.g. SET_BAUDRATE 1 → 101).
 */
export const ComPortCommand = {
  SIGNATURE: 0,
  /** Value: u32 big-endian bits per second; 0 asks for the current rate. */
  SET_BAUDRATE: 1,
  /** Value: u8 data bits; 0 asks. */
  SET_DATASIZE: 2,
  /** Value: u8, see {@link Parity}; 0 asks. */
  SET_PARITY: 3,
  /** Value: u8, see {@link StopSize}; 0 asks. */
  SET_STOPSIZE: 4,
  /** Value: u8, see {@link ControlValue}. */
  SET_CONTROL: 5,
  NOTIFY_LINESTATE: 6,
  NOTIFY_MODEMSTATE: 7,
  FLOWCONTROL_SUSPEND: 8,
  FLOWCONTROL_RESUME: 9,
  SET_LINESTATE_MASK: 10,
  SET_MODEMSTATE_MASK: 11,
  /** Value: u8, see {@link PurgeValue}. */
  PURGE_DATA: 12,
} as const;

/** RFC 2217: server → client command numbers are the client's plus 100. */
export const SERVER_COMMAND_OFFSET = 100;

/** RFC 2217 SET-PARITY values. */
export const Parity = { REQUEST: 0, NONE: 1, ODD: 2, EVEN: 3, MARK: 4, SPACE: 5 } as const;

/** RFC 2217 SET-STOPSIZE values (3 = 1.5 stop bits). */
export const StopSize = { REQUEST: 0, ONE: 1, TWO: 2, ONE_AND_HALF: 3 } as const;

/** RFC 2217 SET-CONTROL values (the ones named here are those the rig sends or serves). */
export const ControlValue = {
  REQUEST_FLOW: 0,
  FLOW_NONE: 1,
  FLOW_XONXOFF: 2,
  FLOW_HARDWARE: 3,
  REQUEST_BREAK: 4,
  BREAK_ON: 5,
  BREAK_OFF: 6,
  REQUEST_DTR: 7,
  DTR_ON: 8,
  DTR_OFF: 9,
  REQUEST_RTS: 10,
  RTS_ON: 11,
  RTS_OFF: 12,
  REQUEST_INBOUND_FLOW: 13,
  INBOUND_FLOW_NONE: 14,
} as const;

/** RFC 2217 PURGE-DATA values, seen from the access server: "receive" = device → client bytes. */
export const PurgeValue = { RECEIVE: 1, TRANSMIT: 2, BOTH: 3 } as const;

/** One thing the decoder found in the byte stream. */
export type TelnetEvent =
  /** Payload bytes, with `IAC IAC` already collapsed to 0xFF. */
  | { readonly type: 'data'; readonly data: Uint8Array }
  | { readonly type: 'negotiation'; readonly verb: NegotiationVerb; readonly option: number }
  /** `IAC SB option payload IAC SE`; `payload` is unescaped and excludes the option byte. */
  | { readonly type: 'subnegotiation'; readonly option: number; readonly payload: Uint8Array }
  /** A two-byte command such as NOP, BRK or GA (RFC 854); safe to ignore. */
  | { readonly type: 'command'; readonly command: number }
  /** Something outside the protocol was skipped; the decoder carried on. For logs and counters. */
  | { readonly type: 'protocol-error'; readonly reason: string };

/** Options of {@link TelnetDecoder}. */
export interface TelnetDecoderOptions {
  /**
   * Longest sub-negotiation payload kept, in bytes (default 1024). A longer one is dropped and
   * reported, so a peer that never sends `IAC SE` cannot grow memory without bound.
   */
  maxSubnegotiationBytes?: number;
}

/** Decoder states (plain numbers rather than an enum so the file is erasable TypeScript). */
const State = { Data: 0, Iac: 1, Negotiation: 2, SbOption: 3, Sb: 4, SbIac: 5 } as const;
type State = (typeof State)[keyof typeof State];

const COMMAND_MIN = Telnet.SE;

/**
 * Incremental Telnet decoder. Feed it bytes in chunks split anywhere; it returns what the chunk
 * completed. It never throws and its memory is bounded by `maxSubnegotiationBytes` plus the chunk.
 *
 * Recovery rules (RFC 854 leaves error handling open): `IAC <byte that is not a command>` is dropped
 * and reported; inside a sub-negotiation, `IAC <anything but IAC or SE>` abandons the sub-negotiation
 * and the IAC is re-read as a command, so a peer that forgot `IAC SE` does not swallow the
 * negotiation that follows.
 */
export class TelnetDecoder {
  readonly #maxSb: number;
  #state: State = State.Data;
  #verb: NegotiationVerb = Telnet.WILL;
  #sbOption = 0;
  #sb: number[] = [];
  #sbOverflow = false;

  constructor(options: TelnetDecoderOptions = {}) {
    this.#maxSb = Math.max(1, options.maxSubnegotiationBytes ?? 1024);
  }

  /** Decodes one chunk; the events are in stream order. */
  push(bytes: Uint8Array): TelnetEvent[] {
    const events: TelnetEvent[] = [];
    // Data is gathered into one buffer per run so a long plain stretch costs one event.
    let data: number[] = [];
    const flushData = (): void => {
      if (data.length > 0) {
        events.push({ type: 'data', data: Uint8Array.from(data) });
        data = [];
      }
    };
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i] as number;
      switch (this.#state) {
        case State.Data:
          if (b === Telnet.IAC) this.#state = State.Iac;
          else data.push(b);
          break;
        case State.Iac:
          this.#afterIac(b, data, events, flushData);
          break;
        case State.Negotiation:
          flushData();
          events.push({ type: 'negotiation', verb: this.#verb, option: b });
          this.#state = State.Data;
          break;
        case State.SbOption:
          this.#sbOption = b;
          this.#sb = [];
          this.#sbOverflow = false;
          this.#state = State.Sb;
          break;
        case State.Sb:
          if (b === Telnet.IAC) this.#state = State.SbIac;
          else this.#sbByte(b);
          break;
        case State.SbIac:
          if (b === Telnet.IAC) {
            this.#sbByte(b);
            this.#state = State.Sb;
          } else if (b === Telnet.SE) {
            flushData();
            if (this.#sbOverflow) {
              events.push({ type: 'protocol-error', reason: `sub-negotiation for option ${this.#sbOption} longer than ${this.#maxSb} bytes dropped` });
            } else {
              events.push({ type: 'subnegotiation', option: this.#sbOption, payload: Uint8Array.from(this.#sb) });
            }
            this.#sb = [];
            this.#state = State.Data;
          } else {
            flushData();
            events.push({ type: 'protocol-error', reason: `sub-negotiation for option ${this.#sbOption} not terminated by IAC SE` });
            this.#sb = [];
            this.#afterIac(b, data, events, flushData);
          }
          break;
      }
    }
    flushData();
    return events;
  }

  /** True while the decoder sits inside an unfinished command or sub-negotiation. */
  get isMidCommand(): boolean {
    return this.#state !== State.Data;
  }

  #afterIac(b: number, data: number[], events: TelnetEvent[], flushData: () => void): void {
    this.#state = State.Data;
    if (b === Telnet.IAC) {
      data.push(Telnet.IAC);
    } else if (b === Telnet.WILL || b === Telnet.WONT || b === Telnet.DO || b === Telnet.DONT) {
      this.#verb = b;
      this.#state = State.Negotiation;
    } else if (b === Telnet.SB) {
      this.#state = State.SbOption;
    } else if (b >= COMMAND_MIN) {
      flushData();
      // A stray SE (no SB open) is one of these too; harmless.
      events.push({ type: 'command', command: b });
    } else {
      flushData();
      events.push({ type: 'protocol-error', reason: `IAC followed by non-command byte 0x${b.toString(16).padStart(2, '0')}` });
    }
  }

  #sbByte(b: number): void {
    if (this.#sb.length < this.#maxSb) this.#sb.push(b);
    else this.#sbOverflow = true;
  }
}

/** Doubles every 0xFF so the bytes pass through Telnet unchanged. Returns the input when it has none. */
export function escapeTelnetData(data: Uint8Array): Uint8Array {
  let count = 0;
  for (const b of data) if (b === Telnet.IAC) count++;
  if (count === 0) return data;
  const out = new Uint8Array(data.length + count);
  let j = 0;
  for (const b of data) {
    out[j++] = b;
    if (b === Telnet.IAC) out[j++] = Telnet.IAC;
  }
  return out;
}

/** `IAC <verb> <option>` (RFC 855). */
export function encodeNegotiation(verb: NegotiationVerb, option: number): Uint8Array {
  return Uint8Array.of(Telnet.IAC, verb, option & 0xff);
}

/** `IAC SB <option> <payload, 0xFF doubled> IAC SE` (RFC 854, RFC 2217 "values escaped"). */
export function encodeSubnegotiation(option: number, payload: Uint8Array): Uint8Array {
  const body = escapeTelnetData(payload);
  const out = new Uint8Array(body.length + 5);
  out.set([Telnet.IAC, Telnet.SB, option & 0xff], 0);
  out.set(body, 3);
  out.set([Telnet.IAC, Telnet.SE], 3 + body.length);
  return out;
}

/** One COM-PORT-OPTION sub-negotiation: `IAC SB 44 <command> <value…> IAC SE`, value escaped. */
export function encodeComPortCommand(command: number, value: Uint8Array | readonly number[] = []): Uint8Array {
  const payload = new Uint8Array(value.length + 1);
  payload[0] = command & 0xff;
  payload.set(value, 1);
  return encodeSubnegotiation(TelnetOption.COM_PORT, payload);
}

/** A u32 as 4 big-endian bytes (RFC 2217 SET-BAUDRATE). */
export function u32BigEndian(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, false);
  return out;
}

/** Reads a big-endian u32 from the first 4 bytes, or undefined when there are fewer. */
export function readU32BigEndian(bytes: Uint8Array): number | undefined {
  if (bytes.length < 4) return undefined;
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false);
}
