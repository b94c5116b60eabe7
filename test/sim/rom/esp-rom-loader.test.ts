import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChipName } from '../../../runner/firmware/esp-chips.ts';
import type { SimBoard, SimBoardState } from '../../../sim/board/sim-board.ts';
import { EspRomLoader } from '../../../sim/rom/esp-rom-loader.ts';
import { Op } from '../../../sim/rom/rom-commands.ts';
import { makeBoard, smallFirmware } from '../board/board-fixture.ts';
import { concat, decodeResponse, RomTestClient, SYNC_DATA, u32 } from './rom-test-client.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function waitForState(board: SimBoard, state: SimBoardState, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (board.state !== state) {
    if (Date.now() > deadline) throw new Error(`board stayed in ${board.state}, expected ${state}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** A board in download mode (GPIO0 held low at power-on) and a client on its port. */
async function downloadModeBoard(chip: ChipName = 'esp32') {
  const fixture = makeBoard({ chip, romLoader: new EspRomLoader(), strappingWindowMs: 5 });
  const { board } = fixture;
  cleanups.push(() => board.dispose());
  board.serialPort.setModemLines({ dtr: true, rts: false });
  board.powerOn();
  await waitForState(board, 'rom-download');
  const client = new RomTestClient(board.serialPort);
  cleanups.push(() => client.close());
  return { ...fixture, client };
}

/** Uploads a fake stub (two segments) and returns the frames after MEM_END. */
async function uploadStub(client: RomTestClient): Promise<Uint8Array[]> {
  const text = new Uint8Array(0x2000).map((_, i) => (i * 7) & 0xff);
  expect((await client.command(Op.MEM_BEGIN, u32(text.length, 2, 0x1800, 0x400a8000), 4)).status).toEqual(Uint8Array.of(0, 0, 0, 0));
  client.sendData(Op.MEM_DATA, 0, text.subarray(0, 0x1800));
  client.sendData(Op.MEM_DATA, 1, text.subarray(0x1800));
  for (const frame of await client.frames(2)) expect(decodeResponse(frame, 4).status[0]).toBe(0);
  client.send(Op.MEM_END, u32(0, 0x400a902c));
  return client.frames(2);
}

describe('EspRomLoader — ROM personality', () => {
  it('answers SYNC with eight byte-exact ROM replies', async () => {
    const { client } = await downloadModeBoard();
    client.raw.length = 0;
    client.send(Op.SYNC, SYNC_DATA);
    await client.frames(8);
    const one = [0xc0, 0x01, 0x08, 0x04, 0x00, 0x07, 0x07, 0x12, 0x20, 0x00, 0x00, 0x00, 0x00, 0xc0];
    expect(client.raw).toEqual(new Array<number[]>(8).fill(one).flat());
  });

  it('reads the chip magic, the MAC eFuses and 0 for unknown registers, with 4 status bytes', async () => {
    const esp32 = (await downloadModeBoard('esp32')).client;
    const magic = await esp32.command(Op.READ_REG, u32(0x40001000), 4);
    expect(magic).toMatchObject({ opcode: Op.READ_REG, value: 0x00f01d83 });
    expect(magic.status).toEqual(Uint8Array.of(0, 0, 0, 0));
    // Fixture MAC 24:6f:28:aa:bb:cc.
    expect((await esp32.command(Op.READ_REG, u32(0x3ff5a004), 4)).value).toBe(0x28aabbcc);
    expect((await esp32.command(Op.READ_REG, u32(0x3ff5a008), 4)).value & 0xffff).toBe(0x246f);
    expect((await esp32.command(Op.READ_REG, u32(0x12345678), 4)).value).toBe(0);
    const s3 = (await downloadModeBoard('esp32s3')).client;
    expect((await s3.command(Op.READ_REG, u32(0x40001000), 4)).value).toBe(9);
    expect((await s3.command(Op.READ_REG, u32(0x60007044), 4)).value).toBe(0x28aabbcc);
  });

  it('emulates SPI user commands: RDID and SFDP land in W0 and bit 18 of CMD self-clears', async () => {
    const { client } = await downloadModeBoard('esp32');
    const write = (addr: number, value: number) => client.command(Op.WRITE_REG, u32(addr, value, 0xffffffff, 0), 4);
    await write(0x3ff4202c, 23); // MISO_DLEN: 24 bits
    await write(0x3ff42024, 0x70000000 | 0x9f); // USER2: RDID
    await write(0x3ff42000, 1 << 18);
    expect((await client.command(Op.READ_REG, u32(0x3ff42000), 4)).value & (1 << 18)).toBe(0);
    expect((await client.command(Op.READ_REG, u32(0x3ff42080), 4)).value).toBe(0x1640ef); // Winbond, 4 MiB
    await write(0x3ff4202c, 31);
    await write(0x3ff42024, 0x70000000 | 0x5a);
    await write(0x3ff42004, 0 << 8);
    await write(0x3ff42000, 1 << 18);
    expect((await client.command(Op.READ_REG, u32(0x3ff42080), 4)).value).toBe(0x50444653); // "SFDP"
  });

  it('answers GET_SECURITY_INFO on the S3 and sends the unsupported reply on the ESP32', async () => {
    const s3 = (await downloadModeBoard('esp32s3')).client;
    const info = await s3.command(Op.GET_SECURITY_INFO, new Uint8Array(0), 4);
    expect(info.payload).toHaveLength(20);
    expect(new DataView(info.payload.buffer, info.payload.byteOffset).getUint32(12, true)).toBe(9);
    expect(info.status).toEqual(Uint8Array.of(0, 0, 0, 0));
    const esp32 = (await downloadModeBoard('esp32')).client;
    esp32.send(Op.GET_SECURITY_INFO, new Uint8Array(0));
    const replies = await esp32.frames(8);
    for (const frame of replies) expect([...frame]).toEqual([0x01, 0x00, 0x04, 0x00, 0, 0, 0, 0, 0x01, 0x05, 0x00, 0x00]);
  });

  it('answers MD5 as 32 ASCII hex characters and READ_FLASH_SLOW with 64 bytes', async () => {
    const { client, flash } = await downloadModeBoard();
    const md5 = await client.command(Op.SPI_FLASH_MD5, u32(0x1000, 0x2000, 0, 0), 4);
    expect(new TextDecoder().decode(md5.payload)).toBe(createHash('md5').update(flash.read(0x1000, 0x2000)).digest('hex'));
    const slow = await client.command(Op.READ_FLASH_SLOW, u32(0x1000, 64), 4);
    expect(slow.payload).toEqual(flash.read(0x1000, 64));
  });

  it('switches to the stub after a stub upload: OHAI in its own frame, then 2 status bytes and value 0', async () => {
    const { client } = await downloadModeBoard();
    const [memEnd, ohai] = await uploadStub(client);
    expect(decodeResponse(memEnd!, 4)).toMatchObject({ opcode: Op.MEM_END, status: Uint8Array.of(0, 0, 0, 0) });
    expect(new TextDecoder().decode(ohai)).toBe('OHAI');
    client.send(Op.SYNC, SYNC_DATA);
    for (const frame of await client.frames(8)) expect([...frame]).toEqual([0x01, 0x08, 0x02, 0x00, 0, 0, 0, 0, 0, 0]);
    const magic = await client.command(Op.READ_REG, u32(0x40001000), 2);
    expect(magic.value).toBe(0x00f01d83);
    expect(magic.payload).toHaveLength(0);
    const unknown = await client.command(0x55, new Uint8Array(0), 2);
    expect(unknown).toMatchObject({ opcode: 0x55, status: Uint8Array.of(0xff, 0x00) });
  });

  it('rejects a MEM_DATA block with a bad checksum (ROM error 0x07)', async () => {
    const { client } = await downloadModeBoard();
    await client.command(Op.MEM_BEGIN, u32(16, 1, 0x1800, 0x400a8000), 4);
    client.sendData(Op.MEM_DATA, 0, new Uint8Array(16).fill(1), 0x12);
    const [frame] = await client.frames(1);
    expect(decodeResponse(frame!, 4).status).toEqual(Uint8Array.of(1, 0x07, 0, 0));
  });
});

describe('EspRomLoader — stub personality', () => {
  async function stubBoard(chip: ChipName = 'esp32') {
    const fixture = await downloadModeBoard(chip);
    await uploadStub(fixture.client);
    return fixture;
  }

  it('writes a compressed stream split at odd points, verifies it by MD5 and streams it back with READ_FLASH', async () => {
    const { client } = await stubBoard();
    const data = new Uint8Array(70_001).map((_, i) => (i % 251 < 40 ? 0xff : (i * 31) & 0xff));
    const compressed = deflateSync(data, { level: 9 });
    const offset = 0x20000;
    expect((await client.command(Op.FLASH_DEFL_BEGIN, u32(data.length, 7, 0x4000, offset), 2)).status).toEqual(Uint8Array.of(0, 0));
    const cuts = [0, 1, 2, 777, 5000, 5001, compressed.length - 3, compressed.length];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const res = await (client.sendData(Op.FLASH_DEFL_DATA, i, compressed.subarray(cuts[i], cuts[i + 1])), client.frames(1));
      expect(decodeResponse(res[0]!, 2).status).toEqual(Uint8Array.of(0, 0));
    }
    const end = await client.command(Op.FLASH_DEFL_END, u32(1), 2);
    expect(end.status).toEqual(Uint8Array.of(0, 0));
    const md5 = await client.command(Op.SPI_FLASH_MD5, u32(offset, data.length, 0, 0), 2);
    expect(Buffer.from(md5.payload).toString('hex')).toBe(createHash('md5').update(data).digest('hex'));

    const read = await client.command(Op.READ_FLASH, u32(offset, data.length, 0x1000, 4), 2);
    expect(read).toMatchObject({ value: 0, status: Uint8Array.of(0, 0) });
    const received: Uint8Array[] = [];
    let total = 0;
    while (total < data.length) {
      const [packet] = await client.frames(1);
      received.push(packet!);
      total += packet!.length;
      client.sendRawFrame(u32(total));
    }
    expect(concat(...received)).toEqual(data);
    expect(received.slice(0, -1).every((p) => p.length === 0x1000)).toBe(true);
    const [digest] = await client.frames(1);
    expect(Buffer.from(digest!).toString('hex')).toBe(createHash('md5').update(data).digest('hex'));
  });

  it('refuses END while bytes remain, and FLASH_DATA with a bad checksum', async () => {
    const { client } = await stubBoard();
    await client.command(Op.FLASH_BEGIN, u32(0x800, 1, 0x4000, 0x30000, 0), 2);
    client.sendData(Op.FLASH_DATA, 0, new Uint8Array(0x400).fill(3), 0);
    expect(decodeResponse((await client.frames(1))[0]!, 2).status).toEqual(Uint8Array.of(0xc1, 0));
    expect((await client.command(Op.FLASH_END, u32(1), 2)).status).toEqual(Uint8Array.of(0xc8, 0));
  });

  it('erases a region and the whole chip', async () => {
    const { client, flash } = await stubBoard();
    flash.write(0x40000, new Uint8Array(0x2000).fill(0));
    expect((await client.command(Op.ERASE_REGION, u32(0x40000, 0x1000), 2)).status).toEqual(Uint8Array.of(0, 0));
    expect(flash.read(0x40000, 0x1000).every((b) => b === 0xff)).toBe(true);
    expect(flash.read(0x41000, 0x1000).every((b) => b === 0)).toBe(true);
    expect((await client.command(Op.ERASE_REGION, u32(0x40001, 0x1000), 2)).status[0]).not.toBe(0);
    expect((await client.command(Op.ERASE_FLASH, new Uint8Array(0), 2)).status).toEqual(Uint8Array.of(0, 0));
    expect(flash.read(0, flash.sizeBytes).every((b) => b === 0xff)).toBe(true);
  });

  it('boots the new image after FLASH_DEFL_END with the reboot flag', async () => {
    const { client, board } = await stubBoard('esp32s3');
    const build = smallFirmware('esp32s3', 'v1.99.0');
    for (const part of build.parts) {
      const compressed = deflateSync(part.data);
      await client.command(Op.FLASH_DEFL_BEGIN, u32(part.data.length, Math.ceil(compressed.length / 0x4000), 0x4000, part.offset, 0), 2);
      for (let seq = 0; seq * 0x4000 < compressed.length; seq++) {
        const res = await (client.sendData(Op.FLASH_DEFL_DATA, seq, compressed.subarray(seq * 0x4000, (seq + 1) * 0x4000)), client.frames(1));
        expect(decodeResponse(res[0]!, 2).status).toEqual(Uint8Array.of(0, 0));
      }
      const last = part === build.parts.at(-1);
      expect((await client.command(Op.FLASH_DEFL_END, u32(last ? 0 : 1), 2)).status).toEqual(Uint8Array.of(0, 0));
    }
    await waitForState(board, 'app-running');
    expect(board.runningFirmware?.version).toBe('v1.99.0');
  });

  it('switches the UART baud rate after the CHANGE_BAUDRATE reply', async () => {
    const { client, board } = await stubBoard();
    expect((await client.command(Op.CHANGE_BAUDRATE, u32(921600, 115200), 2)).status).toEqual(Uint8Array.of(0, 0));
    const deadline = Date.now() + 1000;
    while (board.serialPort.baudRate !== 921600 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(board.serialPort.baudRate).toBe(921600);
  });
});
