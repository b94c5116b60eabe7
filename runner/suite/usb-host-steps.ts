/**
 * Board steps carried out from the USB host's side: the board's device is opened by its port path
 * through the bench's discovery (physical `usb` or the virtual lab — the same WebUSB-shaped device)
 * and looked at with the host-side USB view: descriptors, vendor control round trips, bulk loopback.
 * A check that does not hold is a test failure; a device the host cannot reach is an infrastructure error.
 */
import { randomBytes } from 'node:crypto';
import type { BenchUsb } from '../bench/bench-usb.ts';
import type { BoardEndpoint } from '../bench/board-endpoint.ts';
import { HilError } from '../errors.ts';
import type { Clock } from '../repl/clock.ts';
import type { UsbDeviceSummary, UsbInterfaceSummary } from '../usb/usb-device-summary.ts';
import { expectOk, UsbDeviceView } from '../usb/usb-device-view.ts';
import { usbIdOf } from './enumeration-watch.ts';
import type { StepsResult } from './step-runner.ts';

type Failure = StepsResult['failure'];

/** One interface the suite expects (see suite-manifest.ts `usb-descriptors`). */
export interface UsbInterfaceExpectation {
  number: number;
  class: number;
  subclass?: number | undefined;
  protocol?: number | undefined;
  endpoints?: number[] | undefined;
  string?: string | undefined;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

/** `2:03/01/01[83]"HIL keyboard"`: an interface in one short token, for properties and messages. */
function interfaceToken(itf: UsbInterfaceSummary): string {
  const triple = [itf.interfaceClass, itf.interfaceSubClass, itf.interfaceProtocol].map((n) => n.toString(16).padStart(2, '0')).join('/');
  const endpoints = itf.endpoints.length === 0 ? '' : `[${itf.endpoints.map((e) => e.address.toString(16).padStart(2, '0')).join(',')}]`;
  return `${itf.number}:${triple}${endpoints}${itf.name === null ? '' : JSON.stringify(itf.name)}`;
}

function interfacesOf(summary: UsbDeviceSummary): UsbInterfaceSummary[] {
  return summary.functions.flatMap((f) => f.interfaces);
}

export class UsbHostSteps {
  constructor(private readonly usb: BenchUsb | undefined, private readonly clock: Clock) {}

  /** `usb-descriptors`: reads and checks the board's configuration as the host sees it. */
  async descriptors(board: BoardEndpoint, expect: { serialPort?: boolean | undefined; interfaces?: UsbInterfaceExpectation[] | undefined; timeoutMs: number },
    properties: Record<string, string>): Promise<Failure> {
    const summary = await this.#withView(board, expect.timeoutMs, async (view) => {
      const read = await view.summary({ timeoutMs: expect.timeoutMs });
      properties['usbProblems'] = String((await view.problems({ timeoutMs: expect.timeoutMs })).length);
      return read;
    });
    const interfaces = interfacesOf(summary);
    properties['usbId'] = usbIdOf(summary);
    properties['usbInterfaces'] = interfaces.map(interfaceToken).join(' ');
    const problems: string[] = [];
    if (expect.serialPort !== undefined) {
      const listed = (await this.#usb(board).discovery.list()).devices.find((d) => d.portPath === board.portPath);
      const hasSerial = listed?.serial !== null && listed?.serial !== undefined;
      properties['usbSerialPort'] = listed?.serial?.ttyPath ?? '';
      if (hasSerial !== expect.serialPort) {
        problems.push(expect.serialPort ? 'the host made no serial port for the board (no CDC interface it drives)' : `the host made a serial port (${listed?.serial?.ttyPath}) where none was expected`);
      }
    }
    if (expect.interfaces !== undefined) {
      const want = expect.interfaces;
      if (want.length !== interfaces.length || want.some((w, i) => w.number !== interfaces[i]?.number || w.class !== interfaces[i]?.interfaceClass)) {
        problems.push(`interfaces: expected ${want.map((w) => `${w.number}:${w.class.toString(16).padStart(2, '0')}`).join(' ')}, ` +
          `the host sees ${interfaces.map(interfaceToken).join(' ') || 'none'}`);
      } else {
        for (const [i, w] of want.entries()) {
          const got = interfaces[i]!;
          if (w.subclass !== undefined && w.subclass !== got.interfaceSubClass) problems.push(`interface ${w.number}: subclass ${hex(got.interfaceSubClass)}, expected ${hex(w.subclass)}`);
          if (w.protocol !== undefined && w.protocol !== got.interfaceProtocol) problems.push(`interface ${w.number}: protocol ${hex(got.interfaceProtocol)}, expected ${hex(w.protocol)}`);
          const endpoints = got.endpoints.map((e) => e.address);
          if (w.endpoints !== undefined && (w.endpoints.length !== endpoints.length || w.endpoints.some((a, j) => a !== endpoints[j]))) {
            problems.push(`interface ${w.number}: endpoints ${endpoints.map(hex).join(',') || 'none'}, expected ${w.endpoints.map(hex).join(',')}`);
          }
          if (w.string !== undefined && w.string !== got.name) problems.push(`interface ${w.number}: string ${JSON.stringify(got.name)}, expected ${JSON.stringify(w.string)}`);
        }
      }
    }
    if (problems.length === 0) return undefined;
    return { message: `${board.boardId} at ${board.portPath}: ${problems[0]}`, details: [...problems, '', `device ${usbIdOf(summary)}: ${properties['usbInterfaces']}`].join('\n') };
  }

  /** `usb-control-echo`: vendor OUT then IN to the first interface of a class, compared. */
  async controlEcho(board: BoardEndpoint, options: { interfaceClass: number; outRequest: number; inRequest: number; sizeBytes: number; timeoutMs: number },
    properties: Record<string, string>): Promise<Failure> {
    return this.#withView(board, options.timeoutMs, async (view) => {
      const itf = interfacesOf(await view.summary()).find((i) => i.interfaceClass === options.interfaceClass);
      if (itf === undefined) return { message: `${board.boardId}: no interface of class ${hex(options.interfaceClass)} on the device`, details: '' };
      await view.claimInterface(itf.number);
      const data = new Uint8Array(randomBytes(options.sizeBytes));
      const setup = (request: number) => ({ requestType: 'vendor' as const, recipient: 'interface' as const, request, value: 0, index: itf.number });
      const startedAt = this.clock.now();
      expectOk(await view.controlOut(setup(options.outRequest), data, { timeoutMs: options.timeoutMs }));
      const back = expectOk(await view.controlIn(setup(options.inRequest), options.sizeBytes, { timeoutMs: options.timeoutMs })).data;
      properties['controlEchoMs'] = String(this.clock.now() - startedAt);
      properties['controlEchoBytes'] = String(back.length);
      if (Buffer.compare(Buffer.from(back), Buffer.from(data)) === 0) return undefined;
      return { message: `${board.boardId}: vendor request ${hex(options.inRequest)} returned ${back.length} bytes that differ from the ${data.length} sent with ${hex(options.outRequest)}`,
        details: `sent     ${Buffer.from(data).toString('hex')}\nreceived ${Buffer.from(back).toString('hex')}` };
    });
  }

  /** `usb-bulk-loopback`: packets out on the interface's bulk OUT endpoint, each read back on its bulk IN. */
  async bulkLoopback(board: BoardEndpoint, options: { interfaceClass: number; sizeBytes: number; timeoutMs: number }, properties: Record<string, string>): Promise<Failure> {
    return this.#withView(board, options.timeoutMs, async (view) => {
      const itf = interfacesOf(await view.summary()).find((i) => i.interfaceClass === options.interfaceClass);
      const out = itf?.endpoints.find((e) => e.transferType === 'bulk' && e.direction === 'out');
      const inbound = itf?.endpoints.find((e) => e.transferType === 'bulk' && e.direction === 'in');
      if (itf === undefined || out === undefined || inbound === undefined) {
        return { message: `${board.boardId}: no interface of class ${hex(options.interfaceClass)} with a bulk OUT and a bulk IN endpoint`, details: '' };
      }
      await view.claimInterface(itf.number);
      const data = new Uint8Array(randomBytes(options.sizeBytes));
      const startedAt = this.clock.now();
      for (let offset = 0; offset < data.length; offset += out.maxPacketSize) {
        const packet = data.subarray(offset, offset + out.maxPacketSize);
        expectOk(await view.bulkOut(out.address, packet, { timeoutMs: options.timeoutMs }));
        const back = expectOk(await view.bulkIn(inbound.address, packet.length, { timeoutMs: options.timeoutMs })).data;
        if (Buffer.compare(Buffer.from(back), Buffer.from(packet)) !== 0) {
          return { message: `${board.boardId}: bulk loopback differs at byte ${offset} (${hex(out.address)} → ${hex(inbound.address)})`,
            details: `sent     ${Buffer.from(packet).toString('hex')}\nreceived ${Buffer.from(back).toString('hex')}` };
        }
      }
      const elapsedMs = Math.max(1, this.clock.now() - startedAt);
      properties['bulkLoopbackMs'] = String(elapsedMs);
      properties['bulkLoopbackBytesPerSecond'] = String(Math.round((data.length * 1000) / elapsedMs));
      return undefined;
    });
  }

  /** Waits until the board is back on the bus at its port path without a serial interface (REPL port gone). */
  async waitWithoutSerial(board: BoardEndpoint, timeoutMs: number, properties: Record<string, string>): Promise<Failure> {
    const usb = this.#usb(board);
    const deadline = this.clock.now() + timeoutMs;
    for (;;) {
      const listed = (await usb.discovery.list()).devices.find((d) => d.portPath === board.portPath);
      if (listed !== undefined && listed.serial === null) {
        properties['usbIdWithoutRepl'] = usbIdOf(listed);
        return undefined;
      }
      if (this.clock.now() >= deadline) {
        return { message: listed === undefined
          ? `${board.boardId}: nothing enumerated at ${board.portPath} within ${timeoutMs} ms after its REPL port went`
          : `${board.boardId}: the board came back with a serial port (${listed.serial?.ttyPath}); its REPL port was expected to be gone`, details: '' };
      }
      await new Promise<void>((resolve) => this.clock.setTimer(resolve, 20));
    }
  }

  #usb(board: BoardEndpoint): BenchUsb {
    if (this.usb === undefined) {
      throw new HilError('USB_UNAVAILABLE', `${board.boardId}: this bench has no USB view, so the host cannot look at the board's USB device`, { boardId: board.boardId, portPath: board.portPath });
    }
    return this.usb;
  }

  async #withView<T>(board: BoardEndpoint, timeoutMs: number, use: (view: UsbDeviceView) => Promise<T>): Promise<T> {
    const device = await this.#usb(board).discovery.openDevice(board.portPath);
    if (device === null) {
      throw new HilError('BOARD_NOT_ENUMERATED', `${board.boardId}: no USB device the host can open at ${board.portPath}`, { boardId: board.boardId, portPath: board.portPath });
    }
    const view = new UsbDeviceView(device, { portPath: board.portPath, clock: this.clock, controlTimeoutMs: timeoutMs, transferTimeoutMs: timeoutMs });
    try {
      await view.open();
      return await use(view);
    } finally {
      await view.close();
    }
  }
}
