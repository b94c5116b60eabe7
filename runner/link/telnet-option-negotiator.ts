import { Telnet, encodeNegotiation, type NegotiationVerb } from './telnet-codec.ts';

/** Which options each side agrees to; everything else is refused. */
export interface TelnetOptionPolicy {
  /** Options this end enables on request (answers `DO x` with `WILL x`). */
  readonly local: ReadonlySet<number>;
  /** Options this end lets the peer enable (answers `WILL x` with `DO x`). */
  readonly remote: ReadonlySet<number>;
}

interface OptionState {
  enabled: boolean;
  /** We asked and wait for the answer; the answer must not be answered again (RFC 855 loop rule). */
  pending: boolean;
}

/**
 * Telnet option negotiation for one connection, shared by the RFC 2217 client and server.
 *
 * Follows RFC 855's rule that an end never acknowledges a request for a mode it is already in, kept
 * per direction (local = options this end performs, remote = options the peer performs), which is
 * the simple form of RFC 1143's state machine and enough to stop negotiation loops with any peer.
 * Refusals of unsupported options are sent per request; a peer that keeps asking gets one answer
 * per request and never more.
 */
export class TelnetOptionNegotiator {
  readonly #policy: TelnetOptionPolicy;
  readonly #send: (bytes: Uint8Array) => void;
  readonly #local = new Map<number, OptionState>();
  readonly #remote = new Map<number, OptionState>();

  /** `send` writes raw bytes to the peer. */
  constructor(policy: TelnetOptionPolicy, send: (bytes: Uint8Array) => void) {
    this.#policy = policy;
    this.#send = send;
  }

  /** Offers to perform `option` (`WILL`). */
  offer(option: number): void {
    const s = state(this.#local, option);
    if (s.enabled || s.pending) return;
    s.pending = true;
    this.#send(encodeNegotiation(Telnet.WILL, option));
  }

  /** Asks the peer to perform `option` (`DO`). */
  ask(option: number): void {
    const s = state(this.#remote, option);
    if (s.enabled || s.pending) return;
    s.pending = true;
    this.#send(encodeNegotiation(Telnet.DO, option));
  }

  /** True once this end performs `option` (the peer said `DO` to it). */
  isLocalEnabled(option: number): boolean {
    return this.#local.get(option)?.enabled ?? false;
  }

  /** True once the peer performs `option` (it said `WILL`). */
  isRemoteEnabled(option: number): boolean {
    return this.#remote.get(option)?.enabled ?? false;
  }

  /** Handles one received `IAC <verb> <option>`, answering as the policy says. */
  handle(verb: NegotiationVerb, option: number): void {
    switch (verb) {
      case Telnet.DO:
        this.#request(this.#local, this.#policy.local, option, Telnet.WILL, Telnet.WONT);
        break;
      case Telnet.WILL:
        this.#request(this.#remote, this.#policy.remote, option, Telnet.DO, Telnet.DONT);
        break;
      case Telnet.DONT:
        this.#refusal(this.#local, option, Telnet.WONT);
        break;
      case Telnet.WONT:
        this.#refusal(this.#remote, option, Telnet.DONT);
        break;
    }
  }

  #request(
    table: Map<number, OptionState>,
    accepted: ReadonlySet<number>,
    option: number,
    yes: NegotiationVerb,
    no: NegotiationVerb,
  ): void {
    const s = state(table, option);
    if (!accepted.has(option)) {
      // Refusing keeps the option disabled; answering every request is what RFC 855 asks.
      s.pending = false;
      s.enabled = false;
      this.#send(encodeNegotiation(no, option));
      return;
    }
    if (s.enabled) return;
    s.enabled = true;
    if (s.pending) s.pending = false;
    else this.#send(encodeNegotiation(yes, option));
  }

  #refusal(table: Map<number, OptionState>, option: number, ack: NegotiationVerb): void {
    const s = state(table, option);
    if (s.pending) {
      // The answer to our own request: accept the refusal silently.
      s.pending = false;
      s.enabled = false;
      return;
    }
    if (!s.enabled) return;
    s.enabled = false;
    this.#send(encodeNegotiation(ack, option));
  }

  /** True when the peer refused an option we asked for or offered (no longer pending, not enabled). */
  wasRefused(option: number, side: 'local' | 'remote'): boolean {
    const s = (side === 'local' ? this.#local : this.#remote).get(option);
    return s !== undefined && !s.pending && !s.enabled;
  }
}

function state(table: Map<number, OptionState>, option: number): OptionState {
  let s = table.get(option);
  if (s === undefined) {
    // At most 256 entries per table: options are single bytes.
    s = { enabled: false, pending: false };
    table.set(option, s);
  }
  return s;
}
