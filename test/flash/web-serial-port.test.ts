import { describe, expect, it } from 'vitest';
import { isHilError } from '../../runner/errors.ts';
import { SerialLinkWebSerialPort } from '../../runner/flash/web-serial-port.ts';
import { RecordingLink } from './recording-link.ts';

async function readOne(port: SerialLinkWebSerialPort): Promise<Uint8Array | undefined> {
  const reader = port.readable!.getReader();
  try {
    return (await reader.read()).value;
  } finally {
    reader.releaseLock();
  }
}

describe('SerialLinkWebSerialPort', () => {
  it('reports USB ids as numbers only when given', () => {
    const link = new RecordingLink();
    expect(new SerialLinkWebSerialPort(link).getInfo()).toEqual({});
    expect(new SerialLinkWebSerialPort(link, { usbVendorId: 0x303a, usbProductId: 0x1001 }).getInfo()).toEqual({ usbVendorId: 0x303a, usbProductId: 0x1001 });
  });

  it('merges DTR/RTS and always sends both lines', async () => {
    const link = new RecordingLink();
    const port = new SerialLinkWebSerialPort(link);
    await port.open({ baudRate: 115200 });
    await port.setSignals({ dataTerminalReady: false, requestToSend: true });
    await port.setSignals({ dataTerminalReady: true });
    await port.setSignals({ requestToSend: false, break: undefined });
    expect(link.signalCalls).toEqual([
      { dtr: false, rts: true },
      { dtr: true, rts: true },
      { dtr: true, rts: false },
    ]);
  });

  it('starts from the link’s remembered signal state', async () => {
    const link = new RecordingLink();
    link.signals = { dtr: true, rts: true };
    const port = new SerialLinkWebSerialPort(link);
    await port.setSignals({ requestToSend: false });
    expect(link.signalCalls).toEqual([{ dtr: true, rts: false }]);
  });

  it('changes baud rate in place through the link, on open and on setBaudRate', async () => {
    const link = new RecordingLink();
    link.baudRate = 9600;
    const port = new SerialLinkWebSerialPort(link);
    await port.open({ baudRate: 115200, dataBits: undefined, parity: undefined });
    await port.setBaudRate(921600);
    expect(link.baudCalls).toEqual([115200, 921600]);
    expect(link.closeCalls).toBe(0);
  });

  it('delivers link bytes through readable and writes through writable', async () => {
    const link = new RecordingLink();
    const port = new SerialLinkWebSerialPort(link);
    await port.open({ baudRate: 115200 });
    link.push(Uint8Array.of(0xc0, 1, 2));
    expect(Array.from((await readOne(port)) ?? [])).toEqual([0xc0, 1, 2]);
    const writer = port.writable!.getWriter();
    await writer.write(Uint8Array.of(9, 8));
    writer.releaseLock();
    expect(link.writes.map((w) => Array.from(w))).toEqual([[9, 8]]);
  });

  it('close() nulls the streams, detaches, keeps the link open; reopen gives fresh streams', async () => {
    const link = new RecordingLink();
    const port = new SerialLinkWebSerialPort(link);
    await port.open({ baudRate: 115200 });
    const first = port.readable;
    await port.close();
    expect(port.readable).toBeNull();
    expect(port.writable).toBeNull();
    expect(link.isOpen).toBe(true);
    expect(link.closeCalls).toBe(0);
    expect(link.dataListenerCount).toBe(0);
    await port.open({ baudRate: 115200 });
    expect(port.readable).not.toBeNull();
    expect(port.readable).not.toBe(first);
    link.push(Uint8Array.of(7));
    expect(Array.from((await readOne(port)) ?? [])).toEqual([7]);
  });

  it('cancelling the readable detaches without closing the link', async () => {
    const link = new RecordingLink();
    const port = new SerialLinkWebSerialPort(link);
    await port.open({ baudRate: 115200 });
    const reader = port.readable!.getReader();
    await reader.cancel();
    expect(link.dataListenerCount).toBe(0);
    expect(link.isOpen).toBe(true);
    expect(link.closeCalls).toBe(0);
  });

  it('refuses a double open and errors the stream with LINK_GONE when the link vanishes', async () => {
    const link = new RecordingLink();
    const port = new SerialLinkWebSerialPort(link);
    await port.open({ baudRate: 115200 });
    await expect(port.open({ baudRate: 115200 })).rejects.toThrow(/already open/);
    const reader = port.readable!.getReader();
    const writer = port.writable!.getWriter();
    const pending = reader.read();
    link.vanish();
    const err: unknown = await pending.then(() => null, (e: unknown) => e);
    expect(isHilError(err, 'LINK_GONE')).toBe(true);
    // As in Web Serial, a lost device's streams are gone: a writer still holding its lock (esptool-js
    // after a failed write) does not leave the port looking locked.
    expect(port.readable).toBeNull();
    expect(port.writable).toBeNull();
    writer.releaseLock();
    await expect(port.setSignals({ dataTerminalReady: true })).rejects.toSatisfy((e: unknown) => isHilError(e, 'LINK_GONE'));
  });
});
