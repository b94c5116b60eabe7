import type { SimSerialPort } from '../../../sim/board/sim-serial-port.ts';

/** One call the server made on the port, in order. */
export type PortCall =
  | { readonly op: 'setModemLines'; readonly dtr: boolean; readonly rts: boolean }
  | { readonly op: 'setBaudRate'; readonly baudRate: number }
  | { readonly op: 'purgeTransmit' }
  | { readonly op: 'setHostAttached'; readonly attached: boolean };

/**
 * A test double of the board end of a serial port: records every call, collects host → board bytes,
 * and lets the test play the board by calling {@link transmit}.
 */
export class FakeSimSerialPort implements SimSerialPort {
  readonly boardId: string;
  baudRate = 115200;
  readonly calls: PortCall[] = [];
  received: number[] = [];
  readonly #listeners = new Set<(chunk: Uint8Array) => void>();

  constructor(boardId = 'fake-board') {
    this.boardId = boardId;
  }

  receiveFromHost(data: Uint8Array): void {
    this.received.push(...data);
  }

  onTransmit(listener: (chunk: Uint8Array) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  setBaudRate(baudRate: number): void {
    this.baudRate = baudRate;
    this.calls.push({ op: 'setBaudRate', baudRate });
  }

  setModemLines(lines: { dtr: boolean; rts: boolean }): void {
    this.calls.push({ op: 'setModemLines', dtr: lines.dtr, rts: lines.rts });
  }

  purgeTransmit(): void {
    this.calls.push({ op: 'purgeTransmit' });
  }

  setHostAttached(attached: boolean): void {
    this.calls.push({ op: 'setHostAttached', attached });
  }

  /** Plays the board: sends bytes to whoever is attached. */
  transmit(data: Uint8Array): void {
    for (const listener of this.#listeners) listener(data);
  }

  /** Number of attached transmit listeners (1 while a client is served). */
  get listenerCount(): number {
    return this.#listeners.size;
  }

  /** The modem-line calls only, as `[dtr, rts]` pairs. */
  get lineHistory(): Array<[boolean, boolean]> {
    return this.calls.flatMap((c) => (c.op === 'setModemLines' ? [[c.dtr, c.rts] as [boolean, boolean]] : []));
  }
}
