/** Test-side speaker of the ESP serial protocol, wired straight to a simulated board's serial port. */
import type { SimSerialPort } from '../../../sim/board/sim-serial-port.ts';
import { dataChecksum } from '../../../sim/rom/rom-commands.ts';
import { SlipDecoder, slipEncode } from '../../../sim/rom/slip-codec.ts';

/** A decoded response (§2.3) split with the given number of status bytes. */
export interface Response {
  opcode: number;
  value: number;
  payload: Uint8Array;
  status: Uint8Array;
}

export function u32(...words: number[]): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w >>> 0, true));
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const SYNC_DATA = Uint8Array.from([0x07, 0x07, 0x12, 0x20, ...new Array<number>(32).fill(0x55)]);

export class RomTestClient {
  readonly raw: number[] = [];
  readonly #frames: Uint8Array[] = [];
  readonly #decoder = new SlipDecoder();
  readonly #unsubscribe: () => void;

  constructor(private readonly port: SimSerialPort) {
    this.#unsubscribe = port.onTransmit((chunk) => {
      this.raw.push(...chunk);
      this.#frames.push(...this.#decoder.push(chunk));
    });
  }

  close(): void {
    this.#unsubscribe();
  }

  /** Sends a command packet (§2.2). */
  send(opcode: number, data: Uint8Array, checksum = 0): void {
    const packet = concat(Uint8Array.of(0x00, opcode, data.length & 0xff, data.length >> 8), u32(checksum), data);
    this.port.receiveFromHost(slipEncode(packet));
  }

  /** Sends a `*_DATA` packet with the correct header and checksum. */
  sendData(opcode: number, seq: number, block: Uint8Array, checksum = dataChecksum(block)): void {
    this.send(opcode, concat(u32(block.length, seq, 0, 0), block), checksum);
  }

  sendRawFrame(payload: Uint8Array): void {
    this.port.receiveFromHost(slipEncode(payload));
  }

  /** Waits for `count` frames from the board. */
  async frames(count: number, timeoutMs = 3000): Promise<Uint8Array[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.#frames.length < count) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} frames (have ${this.#frames.length})`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return this.#frames.splice(0, count);
  }

  /** Frames received and not yet taken. */
  get pendingFrames(): number {
    return this.#frames.length;
  }

  /** Sends a command and decodes its single response with `statusBytes` status bytes. */
  async command(opcode: number, data: Uint8Array, statusBytes: 2 | 4, checksum = 0): Promise<Response> {
    this.send(opcode, data, checksum);
    const [frame] = await this.frames(1);
    return decodeResponse(frame!, statusBytes);
  }
}

export function decodeResponse(frame: Uint8Array, statusBytes: number): Response {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (frame[0] !== 0x01) throw new Error(`not a response: ${Buffer.from(frame).toString('hex')}`);
  const size = view.getUint16(2, true);
  if (size !== frame.length - 8) throw new Error(`size field ${size} ≠ ${frame.length - 8}`);
  const data = frame.subarray(8);
  return {
    opcode: frame[1]!,
    value: view.getUint32(4, true),
    payload: data.subarray(0, data.length - statusBytes),
    status: data.subarray(data.length - statusBytes),
  };
}
