/**
 * Carries out bench steps (`usb-*`): host-side checks on a whole board set through the bench's USB
 * view — power-cycling hub ports and watching the boards enumerate, USB serial string uniqueness, and
 * finding each board's serial endpoint again by port path. A check the firmware fails is a test
 * failure; a board that never comes back is an infrastructure error naming its port; a bench that
 * cannot do the step (no USB view, no per-port power) skips it with the reason.
 */
import type { BoardEndpoint } from '../bench/board-endpoint.ts';
import type { BenchUsb, PortPowerSwitch } from '../bench/bench-usb.ts';
import type { DiscoveredUsbDevice } from '../bench/usb-discovery.ts';
import { HilError, isHilError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { sleep, type Clock } from '../repl/clock.ts';
import { BoardConnection, type LinkOpener } from './board-connection.ts';
import { EnumerationWatch, usbIdOf } from './enumeration-watch.ts';
import type { BenchStep } from './suite-manifest.ts';
import type { StepsResult } from './step-runner.ts';

/** A bench step's verdict: like board steps, plus "cannot run here". */
export interface BenchStepsResult extends StepsResult {
  skipped?: string;
}

export interface BenchStepContext {
  usb: BenchUsb | undefined;
  openLink: LinkOpener;
  logger: Logger;
  clock: Clock;
  signal?: AbortSignal;
}

export class BenchStepRunner {
  constructor(private readonly context: BenchStepContext) {}

  /** Runs `steps` in order on the board set, stopping at the first failure or skip. */
  async run(steps: readonly BenchStep[], boards: readonly BoardEndpoint[]): Promise<BenchStepsResult> {
    const result: BenchStepsResult = { properties: {} };
    const usb = this.context.usb;
    if (usb === undefined) return { ...result, skipped: 'this bench has no USB view (hub ports and enumeration cannot be observed)' };
    const snapshot = await usb.discovery.list();
    if (snapshot.problem !== undefined) return { ...result, skipped: snapshot.problem };
    for (const step of steps) {
      this.context.signal?.throwIfAborted();
      const outcome = await this.#runStep(step, usb, boards, result.properties);
      if (outcome && 'skipped' in outcome) return { ...result, skipped: outcome.skipped };
      if (outcome) return { ...result, failure: outcome };
    }
    return result;
  }

  async #runStep(step: BenchStep, usb: BenchUsb, boards: readonly BoardEndpoint[], properties: Record<string, string>):
    Promise<StepsResult['failure'] | { skipped: string }> {
    if ('usb-power-cycle' in step) return this.#powerCycle(step['usb-power-cycle'], usb, boards, properties);
    if ('usb-unique-serials' in step) return this.#uniqueSerials(step['usb-unique-serials'].requirePresent, usb, boards, properties);
    return this.#identify(usb, boards, properties);
  }

  async #powerCycle(options: { offMs: number; deadlineMs: number; settleMs: number }, usb: BenchUsb, boards: readonly BoardEndpoint[],
    properties: Record<string, string>): Promise<{ skipped: string } | undefined> {
    const { clock, signal } = this.context;
    const switches: PortPowerSwitch[] = [];
    try {
      for (const board of boards) switches.push(await usb.portPower(board.portPath));
    } catch (err: unknown) {
      if (isHilError(err, 'HUB_NO_PORT_POWER')) return { skipped: err.message };
      throw err;
    }
    const expected = new Map(boards.filter((b) => b.runtimeUsbId !== undefined).map((b) => [b.portPath, b.runtimeUsbId!]));
    const watch = new EnumerationWatch(boards.map((b) => b.portPath), clock, expected);
    const stop = usb.discovery.onHotplug(watch.onEvent);
    try {
      await Promise.all(switches.map((s) => s.setPower(false)));
      await sleep(clock, options.offMs, signal);
      // A hub that accepts the request but keeps VBUS on leaves the device enumerated.
      const stillThere = new Set((await usb.discovery.list()).devices.map((d) => d.portPath));
      const notOff = boards.filter((b) => stillThere.has(b.portPath));
      if (notOff.length > 0) {
        await Promise.all(switches.map((s) => s.setPower(true)));
        throw new HilError('HUB_REQUEST_FAILED', `hub port power off did not take effect: ${notOff.map((b) => `${b.boardId} at ${b.portPath}`).join(', ')} ` +
          `still enumerated ${options.offMs} ms later (the hub does not switch VBUS on these ports)`, { portPath: notOff[0]!.portPath, phase: 'power off' });
      }
      watch.start();
      await Promise.all(switches.map((s) => s.setPower(true)));
      const { settled, missing } = await watch.waitSettled(options.deadlineMs, options.settleMs, signal);
      for (const port of settled) {
        const board = boards.find((b) => b.portPath === port.portPath)!;
        properties[`${board.boardId}.enumerationMs`] = String(port.enumerationMs);
        properties[`${board.boardId}.enumerations`] = String(port.attaches);
        properties[`${board.boardId}.usbId`] = usbId(port.device);
        properties[`${board.boardId}.serialEndpoint`] = port.device.serial?.ttyPath ?? '';
      }
      if (missing.length > 0) {
        const names = missing.map((path) => {
          const board = boards.find((b) => b.portPath === path);
          const seen = watch.lastSeen(path);
          const as = board?.runtimeUsbId === undefined ? 'a serial device' : board.runtimeUsbId;
          return `${board?.boardId ?? '?'} at port ${path} (expected ${as}; ${seen === null ? 'nothing attached' : `last seen as ${usbId(seen)}`})`;
        });
        throw new HilError('BOARD_NOT_ENUMERATED', `${names.join(', ')}: not enumerated within ${options.deadlineMs} ms of power-on`,
          { portPath: missing[0]!, phase: 'enumeration', properties });
      }
      return undefined;
    } finally {
      stop();
    }
  }

  async #uniqueSerials(requirePresent: boolean, usb: BenchUsb, boards: readonly BoardEndpoint[], properties: Record<string, string>):
    Promise<StepsResult['failure']> {
    const devices = await devicesOf(usb, boards);
    const bySerial = new Map<string, BoardEndpoint[]>();
    const without: BoardEndpoint[] = [];
    for (const board of boards) {
      const device = devices.get(board.boardId)!;
      properties[`${board.boardId}.usbSerial`] = device.serialNumber ?? '';
      if (device.serialNumber === null || device.serialNumber === '') without.push(board);
      else bySerial.set(device.serialNumber, [...(bySerial.get(device.serialNumber) ?? []), board]);
    }
    const collisions = [...bySerial].filter(([, holders]) => holders.length > 1);
    const problems = collisions.map(([serial, holders]) =>
      `USB serial string "${serial}" is reported by ${holders.length} boards: ${holders.map((b) => `${b.boardId} (${b.portPath}, ${usbId(devices.get(b.boardId)!)})`).join(', ')}`);
    if (requirePresent && without.length > 0) problems.push(`no USB serial string on ${without.map((b) => `${b.boardId} (${b.portPath})`).join(', ')}`);
    if (problems.length === 0) return undefined;
    return {
      message: collisions.length > 0
        ? `colliding USB serial strings: ${collisions.map(([serial, holders]) => `"${serial}" × ${holders.length}`).join(', ')} — the firmware must give every board its own serial`
        : problems[0]!,
      details: [...problems,
        'A serial string shared by several boards makes Windows re-install and re-enumerate each extra board (seconds per board) and breaks',
        'identification by serial on every host. MicroPython up to v1.23 reports "123456" on ESP32-S2/S3; from v1.24 it derives the serial from the MAC.'].join('\n'),
    };
  }

  async #identify(usb: BenchUsb, boards: readonly BoardEndpoint[], properties: Record<string, string>): Promise<StepsResult['failure']> {
    const devices = await devicesOf(usb, boards);
    const macs = new Map<string, string[]>();
    for (const board of boards) {
      const device = devices.get(board.boardId)!;
      if (device.serial === null) {
        return { message: `${board.boardId} at ${board.portPath} (${usbId(device)}) has no serial endpoint`, details: '' };
      }
      properties[`${board.boardId}.serialEndpoint`] = device.serial.ttyPath;
      // The endpoint found now, by port path — not the one the bench started with.
      const found: BoardEndpoint = { ...board, linkUrl: device.serial.url };
      const connection = await BoardConnection.connect(found, this.context.openLink, this.context.logger, this.context.signal).catch((err: unknown) => {
        if (!(err instanceof HilError)) throw err;
        throw new HilError(err.code, `${board.boardId} at ${board.portPath} (${device.serial?.ttyPath}): ${err.message}`,
          { ...err.evidence, boardId: board.boardId, portPath: board.portPath }, { cause: err });
      });
      try {
        properties[`${board.boardId}.mac`] = connection.facts.mac;
        macs.set(connection.facts.mac, [...(macs.get(connection.facts.mac) ?? []), board.boardId]);
      } finally {
        await connection.close();
      }
    }
    const shared = [...macs].filter(([, ids]) => ids.length > 1);
    if (shared.length > 0) {
      return { message: `boards share a MAC: ${shared.map(([mac, ids]) => `${mac} (${ids.join(', ')})`).join('; ')}`, details: '' };
    }
    return undefined;
  }
}

/** The device enumerated at each board's port path; a missing one is an infrastructure error naming the port. */
async function devicesOf(usb: BenchUsb, boards: readonly BoardEndpoint[]): Promise<Map<string, DiscoveredUsbDevice>> {
  const snapshot = await usb.discovery.list();
  const byPath = new Map(snapshot.devices.map((d) => [d.portPath, d]));
  const result = new Map<string, DiscoveredUsbDevice>();
  const missing: BoardEndpoint[] = [];
  for (const board of boards) {
    const device = byPath.get(board.portPath);
    if (device === undefined) missing.push(board);
    else result.set(board.boardId, device);
  }
  if (missing.length > 0) {
    throw new HilError('BOARD_NOT_ENUMERATED', `no USB device at ${missing.map((b) => `${b.portPath} (${b.boardId})`).join(', ')}`,
      { portPath: missing[0]!.portPath, phase: 'discovery' });
  }
  return result;
}

const usbId = usbIdOf;

