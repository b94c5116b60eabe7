/**
 * One download-mode session: decodes SLIP command frames from the host and answers them as the ESP
 * ROM loader, and — after a stub upload ends with MEM_END(entry) and `OHAI` — as the flasher stub
 * (reference esptool-protocol.md §A, §2–§7). The uploaded stub is not executed: accepting it and
 * switching personality is the simulation.
 */
import { createHash } from 'node:crypto';
import type { RomLoaderContext, RomLoaderSession } from '../board/rom-loader.ts';
import { FlashReadStream } from './flash-read-stream.ts';
import { FlashWriteSession } from './flash-write-session.ts';
import { CHIP_REGISTER_MAPS, type ChipRegisterMap } from './register-map.ts';
import {
  CommandError,
  dataChecksum,
  encodeResponse,
  Op,
  parseCommand,
  requireWord,
  RomError,
  StubError,
  word,
  type CommandPacket,
  type Personality,
} from './rom-commands.ts';
import { slipEncode, type SlipDecoder } from './slip-codec.ts';
import { RegisterFile } from './spi-flash-emulation.ts';

/** ROM SYNC reply value: non-zero junk derived from the sync bytes, as real chips send (§4.1). */
const ROM_SYNC_VALUE = 0x20120707;
/** SYNC request: `07 07 12 20` + 32 × `55` (§4.1). */
const SYNC_PATTERN = Uint8Array.from([0x07, 0x07, 0x12, 0x20, ...new Array<number>(32).fill(0x55)]);
/** Replies per SYNC request, ROM and stub alike (§4.1). */
const SYNC_REPLIES = 8;
/** Repeats of the ROM's "unsupported command" reply (§3.2). */
const UNSUPPORTED_REPLIES = 8;
/** The stub's greeting after MEM_END, its own frame (§4.4). */
const OHAI = new TextEncoder().encode('OHAI');
/** Size of the data header of the `*_DATA` commands: len, seq, 0, 0 (§2.2). */
const DATA_HEADER_BYTES = 16;
/** READ_FLASH_SLOW returns at most this many bytes per request (§4.12). */
const READ_SLOW_MAX_BYTES = 64;

/** What a handler answers: value and payload of the response, and what to do right after sending it. */
interface Reply {
  value?: number;
  payload?: Uint8Array;
  /** Runs once the response is queued (OHAI, baud switch, reboot, read streaming). */
  after?: () => void;
}

/** Marker: send nothing (RUN_USER_CODE, the ROM's unsupported-command reply already sent). */
const NO_REPLY = Symbol('no-reply');

/** A stub upload in progress (MEM_BEGIN … MEM_END). */
interface MemUpload {
  remaining: number;
  nextSeq: number;
}

/** A ROM/stub session for one board; created by `EspRomLoader`. */
export class EspRomLoaderSession implements RomLoaderSession {
  readonly #context: RomLoaderContext;
  readonly #map: ChipRegisterMap;
  readonly #registers: RegisterFile;
  #personality: Personality = 'rom';
  #stopped = false;
  #mem: MemUpload | null = null;
  #memSegments = 0;
  #write: FlashWriteSession | null = null;
  #read: FlashReadStream | null = null;
  readonly #frames: SlipDecoder;

  constructor(context: RomLoaderContext, decoder: SlipDecoder) {
    this.#context = context;
    this.#map = CHIP_REGISTER_MAPS[context.chip];
    this.#registers = new RegisterFile(this.#map, context.mac, context.flash.sizeBytes);
    this.#frames = decoder;
  }

  /** Which program currently answers. */
  get personality(): Personality {
    return this.#personality;
  }

  receive(data: Uint8Array): void {
    if (this.#stopped) return;
    for (const frame of this.#frames.push(data)) {
      if (this.#stopped) return;
      this.#onFrame(frame);
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#read = null;
    this.#write = null;
    this.#mem = null;
    this.#frames.reset();
  }

  #onFrame(frame: Uint8Array): void {
    if (this.#read !== null && frame.length === 4) {
      // READ_FLASH acknowledgement: total bytes the host has received (§4.12 step 3).
      this.#read.acknowledge(new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0, true));
      if (this.#read.done) this.#read = null;
      return;
    }
    const packet = parseCommand(frame);
    if (packet === null) return;
    // A new command ends an unfinished read (the host gave up on it).
    this.#read = null;
    let reply: Reply | typeof NO_REPLY;
    try {
      reply = this.#dispatch(packet);
    } catch (err: unknown) {
      if (!(err instanceof CommandError)) throw err;
      this.#send(packet.opcode, 0, new Uint8Array(0), err.code);
      return;
    }
    if (reply === NO_REPLY) return;
    const value = this.#personality === 'stub' && packet.opcode !== Op.READ_REG ? 0 : (reply.value ?? 0);
    this.#send(packet.opcode, value, reply.payload ?? new Uint8Array(0), null);
    reply.after?.();
  }

  #send(opcode: number, value: number, payload: Uint8Array, error: number | null): void {
    this.#context.transmit(slipEncode(encodeResponse(this.#personality, opcode, value, payload, error)));
  }

  /** Error code for "bad request" in the current personality's vocabulary. */
  #invalid(): number {
    return this.#personality === 'rom' ? RomError.INVALID_MESSAGE : StubError.BAD_DATA_LEN;
  }

  #dispatch(packet: CommandPacket): Reply | typeof NO_REPLY {
    const { opcode, data } = packet;
    const rom = this.#personality === 'rom';
    switch (opcode) {
      case Op.SYNC:
        return this.#sync(data);
      case Op.READ_REG:
        return { value: this.#registers.read(requireWord(data, 0, this.#invalid())) };
      case Op.WRITE_REG:
        return this.#writeReg(data);
      case Op.SPI_SET_PARAMS:
        // Only total_size matters and the board knows its own flash size (§4.3).
        requireWord(data, 1, this.#invalid());
        return {};
      case Op.SPI_ATTACH:
        if (data.length !== 4 && data.length !== 8) throw new CommandError(this.#invalid(), `SPI_ATTACH with ${data.length} bytes`);
        return {};
      case Op.CHANGE_BAUDRATE:
        return this.#changeBaud(data);
      case Op.MEM_BEGIN:
        return this.#memBegin(data);
      case Op.MEM_DATA:
        return this.#memData(packet);
      case Op.MEM_END:
        return this.#memEnd(data);
      case Op.FLASH_BEGIN:
      case Op.FLASH_DEFL_BEGIN:
        return this.#flashBegin(data, opcode === Op.FLASH_DEFL_BEGIN);
      case Op.FLASH_DATA:
      case Op.FLASH_DEFL_DATA:
        return this.#flashData(packet);
      case Op.FLASH_END:
      case Op.FLASH_DEFL_END:
        return this.#flashEnd(data);
      case Op.SPI_FLASH_MD5:
        return this.#md5(data);
      case Op.GET_SECURITY_INFO:
        if (this.#map.securityInfo !== null) return { payload: this.#map.securityInfo };
        return this.#unsupported();
      case Op.READ_FLASH_SLOW:
        return rom ? this.#readSlow(data) : this.#unsupported();
      case Op.ERASE_FLASH:
        if (rom) return this.#unsupported();
        this.#context.flash.eraseAll();
        return {};
      case Op.ERASE_REGION:
        return rom ? this.#unsupported() : this.#eraseRegion(data);
      case Op.READ_FLASH:
        return rom ? this.#unsupported() : this.#readFlash(data);
      case Op.RUN_USER_CODE:
        if (rom) return this.#unsupported();
        this.#context.reboot('normal');
        return NO_REPLY;
      default:
        return this.#unsupported();
    }
  }

  /**
   * ROM: the "unsupported command" reply of §3.2 — opcode 0 (≠ the request, which is how both clients
   * recognise it), status `01 05 00 00`, eight times. Stub: status `FF 00` with the echoed opcode.
   */
  #unsupported(): never | typeof NO_REPLY {
    if (this.#personality === 'stub') throw new CommandError(StubError.NOT_IMPLEMENTED, 'command not implemented by the stub');
    for (let i = 0; i < UNSUPPORTED_REPLIES; i++) this.#send(0x00, 0, new Uint8Array(0), RomError.INVALID_MESSAGE);
    return NO_REPLY;
  }

  #sync(data: Uint8Array): typeof NO_REPLY {
    if (data.length !== SYNC_PATTERN.length || !data.every((byte, i) => byte === SYNC_PATTERN[i])) {
      throw new CommandError(this.#invalid(), 'malformed SYNC');
    }
    const value = this.#personality === 'rom' ? ROM_SYNC_VALUE : 0;
    for (let i = 0; i < SYNC_REPLIES; i++) this.#send(Op.SYNC, value, new Uint8Array(0), null);
    return NO_REPLY;
  }

  #writeReg(data: Uint8Array): Reply {
    if (data.length === 0 || data.length % 16 !== 0) throw new CommandError(this.#invalid(), `WRITE_REG with ${data.length} bytes`);
    for (let entry = 0; entry < data.length / 16; entry++) {
      const addr = requireWord(data, entry * 4, this.#invalid());
      const value = requireWord(data, entry * 4 + 1, this.#invalid());
      const mask = requireWord(data, entry * 4 + 2, this.#invalid());
      // delay_us (word 3) is not modelled.
      this.#registers.write(addr, value, mask);
    }
    return {};
  }

  #changeBaud(data: Uint8Array): Reply {
    const baudRate = requireWord(data, 0, this.#invalid());
    if (baudRate === 0) throw new CommandError(this.#invalid(), 'baud rate 0');
    const context = this.#context;
    return {
      // Reply at the old rate, then switch (§4.5).
      after: () => {
        void context.whenTransmitDrained().then(() => {
          if (!this.#stopped) context.setBaudRate(baudRate);
        });
      },
    };
  }

  #memBegin(data: Uint8Array): Reply {
    const total = requireWord(data, 0, this.#invalid());
    requireWord(data, 3, this.#invalid());
    this.#mem = { remaining: total, nextSeq: 0 };
    return {};
  }

  #memData(packet: CommandPacket): Reply {
    const payload = this.#checkedDataPayload(packet);
    const mem = this.#mem;
    const seq = word(packet.data, 1) ?? -1;
    if (mem === null || seq !== mem.nextSeq || payload.length > mem.remaining) {
      throw new CommandError(this.#personality === 'rom' ? RomError.FAILED_TO_ACT : StubError.BAD_DATA_LEN, `unexpected MEM_DATA seq ${seq}`);
    }
    mem.nextSeq++;
    mem.remaining -= payload.length;
    if (mem.remaining === 0) this.#memSegments++;
    return {};
  }

  #memEnd(data: Uint8Array): Reply {
    const noExec = requireWord(data, 0, this.#invalid());
    const entry = requireWord(data, 1, this.#invalid());
    const launch = this.#personality === 'rom' && noExec === 0 && entry !== 0 && this.#memSegments > 0;
    this.#mem = null;
    if (!launch) return {};
    return {
      // The MEM_END reply goes out in ROM form; the stub then greets in its own frame (§4.4).
      after: () => {
        this.#personality = 'stub';
        this.#context.transmit(slipEncode(OHAI));
      },
    };
  }

  #flashBegin(data: Uint8Array, compressed: boolean): Reply {
    if (data.length !== 16 && data.length !== 20) throw new CommandError(this.#invalid(), `FLASH_BEGIN with ${data.length} bytes`);
    const sizeBytes = requireWord(data, 0, this.#invalid());
    const numBlocks = requireWord(data, 1, this.#invalid());
    const blockBytes = requireWord(data, 2, this.#invalid());
    const offset = requireWord(data, 3, this.#invalid());
    this.#write = null;
    this.#write = new FlashWriteSession(this.#context.flash, this.#personality, { sizeBytes, numBlocks, blockBytes, offset, compressed });
    return {};
  }

  #flashData(packet: CommandPacket): Reply {
    const write = this.#write;
    if (write === null || write.compressed !== (packet.opcode === Op.FLASH_DEFL_DATA)) {
      throw new CommandError(this.#personality === 'rom' ? RomError.FAILED_TO_ACT : StubError.NOT_IN_FLASH_MODE, 'not in flash mode');
    }
    write.data(this.#checkedDataPayload(packet));
    return {};
  }

  #flashEnd(data: Uint8Array): Reply {
    const flag = requireWord(data, 0, this.#invalid());
    const write = this.#write;
    if (write === null) {
      throw new CommandError(this.#personality === 'rom' ? RomError.FAILED_TO_ACT : StubError.NOT_IN_FLASH_MODE, 'not in flash mode');
    }
    write.finish();
    this.#write = null;
    // Stub: flag 0 reboots, 1 stays. ROM: 0 reboots, 1 runs the user code — a normal boot either way (§3.1, §4.7).
    if (flag !== 0 && this.#personality === 'stub') return {};
    const context = this.#context;
    return {
      after: () => {
        void context.whenTransmitDrained().then(() => {
          if (!this.#stopped) context.reboot('normal');
        });
      },
    };
  }

  #md5(data: Uint8Array): Reply {
    const addr = requireWord(data, 0, this.#invalid());
    const size = requireWord(data, 1, this.#invalid());
    let digest: Buffer;
    try {
      digest = createHash('md5').update(this.#context.flash.read(addr, size)).digest();
    } catch (err: unknown) {
      if (!(err instanceof RangeError)) throw err;
      throw new CommandError(this.#personality === 'rom' ? RomError.FLASH_READ : StubError.FAILED_SPI_OP, err.message);
    }
    // Stub: 16 raw bytes; ROM: 32 lowercase ASCII hex characters (§4.8).
    const payload = this.#personality === 'stub' ? new Uint8Array(digest) : new TextEncoder().encode(digest.toString('hex'));
    return { payload };
  }

  #readSlow(data: Uint8Array): Reply {
    const offset = requireWord(data, 0, this.#invalid());
    const length = requireWord(data, 1, this.#invalid());
    if (length > READ_SLOW_MAX_BYTES) throw new CommandError(RomError.READ_LENGTH, `READ_FLASH_SLOW of ${length} bytes`);
    const flash = this.#context.flash;
    const payload = new Uint8Array(READ_SLOW_MAX_BYTES).fill(0xff);
    if (offset + length > flash.sizeBytes) throw new CommandError(RomError.FLASH_READ, 'read leaves the flash');
    payload.set(flash.read(offset, Math.min(READ_SLOW_MAX_BYTES, flash.sizeBytes - offset)));
    return { payload };
  }

  #eraseRegion(data: Uint8Array): Reply {
    const offset = requireWord(data, 0, StubError.BAD_DATA_LEN);
    const size = requireWord(data, 1, StubError.BAD_DATA_LEN);
    if (offset % 4096 !== 0 || size % 4096 !== 0 || offset + size > this.#context.flash.sizeBytes) {
      throw new CommandError(StubError.FAILED_SPI_OP, `ERASE_REGION 0x${offset.toString(16)}+0x${size.toString(16)} not sector-aligned or outside the flash`);
    }
    this.#context.flash.eraseRegion(offset, size);
    return {};
  }

  #readFlash(data: Uint8Array): Reply {
    const params = {
      offset: requireWord(data, 0, StubError.BAD_DATA_LEN),
      length: requireWord(data, 1, StubError.BAD_DATA_LEN),
      packetBytes: requireWord(data, 2, StubError.BAD_DATA_LEN),
      maxInFlight: requireWord(data, 3, StubError.BAD_DATA_LEN),
    };
    let stream: FlashReadStream;
    try {
      stream = new FlashReadStream(this.#context.flash, params, (bytes) => this.#context.transmit(bytes));
    } catch (err: unknown) {
      if (!(err instanceof RangeError)) throw err;
      throw new CommandError(StubError.FAILED_SPI_OP, err.message);
    }
    return {
      after: () => {
        this.#read = stream;
        stream.start();
        if (stream.done) this.#read = null;
      },
    };
  }

  /** Checks a `*_DATA` request (§2.2, §4.4, §4.6): `len` matches the payload and the checksum is right. */
  #checkedDataPayload(packet: CommandPacket): Uint8Array {
    const rom = this.#personality === 'rom';
    const len = word(packet.data, 0);
    const payload = packet.data.subarray(DATA_HEADER_BYTES);
    if (len === undefined || packet.data.length < DATA_HEADER_BYTES || len !== payload.length) {
      throw new CommandError(rom ? RomError.INVALID_MESSAGE : StubError.BAD_DATA_LEN, `data length word ${len} ≠ ${payload.length}`);
    }
    if (dataChecksum(payload) !== packet.checksum) {
      throw new CommandError(rom ? RomError.BAD_CHECKSUM : StubError.BAD_DATA_CHECKSUM, 'data checksum mismatch');
    }
    return payload;
  }
}
