/**
 * Carries out the steps of one test case on one board. A board-side exception is a test failure
 * (returned, with the traceback as evidence); a board that stops answering is an infrastructure error
 * (thrown as a HilError).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../repl/clock.ts';
import { sleep } from '../repl/clock.ts';
import type { BenchUsb } from '../bench/bench-usb.ts';
import { isHilError } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { recoverBoard, type RecoveryRung } from './recovery-ladder.ts';
import { UsbHostSteps } from './usb-host-steps.ts';
import type { BoardConnection, Reconnection } from './board-connection.ts';
import { parseProperties, tracebackSummary } from './board-script.ts';
import type { BoardStep } from './suite-manifest.ts';

/** The verdict of the steps run so far: no failure means passed. */
export interface StepsResult {
  failure?: { message: string; details: string };
  properties: Record<string, string>;
}

/** Hold EN low this long for a hard reset (esptool's hard reset uses 100 ms). */
const EN_PULSE_MS = 100;

/** What the host-side steps need from the bench. */
export interface StepRunnerBench {
  usb: BenchUsb | undefined;
  logger: Logger;
}

export class StepRunner {
  readonly #usbSteps: UsbHostSteps;
  readonly #bench: StepRunnerBench;

  constructor(private readonly scripts: ReadonlyMap<string, string>, private readonly clock: Clock,
    private readonly expectedFirmwareVersion?: string, bench: StepRunnerBench = { usb: undefined, logger: silentLogger() }) {
    this.#bench = bench;
    this.#usbSteps = new UsbHostSteps(bench.usb, clock);
  }

  /** Runs `steps` in order on `board`, stopping at the first failure. */
  async run(steps: readonly BoardStep[], board: BoardConnection, signal?: AbortSignal): Promise<StepsResult> {
    const result: StepsResult = { properties: {} };
    for (const step of steps) {
      signal?.throwIfAborted();
      const failure = await this.runStep(step, board, result.properties, signal);
      if (failure) {
        result.failure = failure;
        break;
      }
    }
    return result;
  }

  private async runStep(step: BoardStep, board: BoardConnection, properties: Record<string, string>, signal?: AbortSignal): Promise<StepsResult['failure']> {
    if ('exec' in step) {
      const code = this.scripts.get(step.exec) ?? '';
      const startedAt = this.clock.now();
      let result: { stdout: string; stderr: string };
      try {
        result = await board.repl.exec(code, { timeoutMs: step.timeoutMs, ...(signal ? { signal } : {}) });
      } catch (err: unknown) {
        if (step.expectReplPortGone && isHilError(err, 'LINK_GONE')) {
          properties[`${step.exec}.execMs`] = String(this.clock.now() - startedAt);
          return this.#usbSteps.waitWithoutSerial(board.endpoint, step.timeoutMs, properties);
        }
        if (!step.reconnect || !isHilError(err, 'LINK_GONE')) throw err;
        const reconnection = await board.reconnect({ deadlineMs: step.timeoutMs, ...(signal ? { signal } : {}) });
        properties[`${step.exec}.execMs`] = String(this.clock.now() - startedAt);
        recordReconnection(properties, reconnection);
        return undefined;
      }
      const { stdout, stderr } = result;
      properties[`${step.exec}.execMs`] = String(this.clock.now() - startedAt);
      if (step.expectReplPortGone && stderr === '') {
        return { message: `${step.exec}: the board's REPL port stayed up, but the script was expected to remove it`, details: stdout };
      }
      Object.assign(properties, parseProperties(stdout));
      if (stderr !== '') {
        return { message: `${step.exec}: ${tracebackSummary(stderr)}`, details: `${stderr}${stdout ? `\n--- stdout ---\n${stdout}` : ''}` };
      }
      return undefined;
    }
    if ('soft-reset' in step) {
      const { timeoutMs, via, expectReconnect } = step['soft-reset'];
      const outcome = await board.softReset({ timeoutMs, via, ...(signal ? { signal } : {}) });
      properties['softResetMs'] = String(outcome.softResetMs);
      if (outcome.reconnection) recordReconnection(properties, outcome.reconnection);
      if (expectReconnect !== undefined && expectReconnect !== (outcome.reconnection !== undefined)) {
        return {
          message: expectReconnect
            ? 'the serial port stayed up through the soft reset, but the board was expected to leave the USB bus (runtime USB device active)'
            : 'the board left the USB bus during the soft reset (its serial port vanished), but no runtime USB device was expected',
          details: board.consoleText().slice(-2000),
        };
      }
      return undefined;
    }
    if ('check-firmware-version' in step) {
      const booted = await board.repl.eval("__import__('os').uname().version.split(' ')[0]");
      properties['bootedFirmwareVersion'] = booted;
      properties['expectedFirmwareVersion'] = this.expectedFirmwareVersion ?? '';
      if (booted !== this.expectedFirmwareVersion) {
        return { message: `board runs MicroPython ${booted}, but the flashed image is ${this.expectedFirmwareVersion ?? '(none)'}`, details: '' };
      }
      return undefined;
    }
    if ('hard-reset' in step) {
      const startedAt = this.clock.now();
      const reconnection = await this.hardReset(board, step['hard-reset'].timeoutMs, signal);
      properties['bootMs'] = String(this.clock.now() - startedAt);
      if (reconnection) recordReconnection(properties, reconnection);
      return undefined;
    }
    if ('usb-descriptors' in step) return this.#usbSteps.descriptors(board.endpoint, step['usb-descriptors'], properties);
    if ('usb-control-echo' in step) return this.#usbSteps.controlEcho(board.endpoint, step['usb-control-echo'], properties);
    if ('usb-bulk-loopback' in step) return this.#usbSteps.bulkLoopback(board.endpoint, step['usb-bulk-loopback'], properties);
    if ('recover' in step) return this.recover(board, step.recover, properties, signal);
    return this.fileRoundTrip(step['file-roundtrip'], board, properties);
  }

  /** The recovery ladder as a step: which rung brought the REPL back. */
  private async recover(board: BoardConnection, options: { expectRung?: RecoveryRung | undefined; timeoutMs: number }, properties: Record<string, string>,
    signal?: AbortSignal): Promise<StepsResult['failure']> {
    const rung = await recoverBoard(board, {
      usb: this.#bench.usb, clock: this.clock, logger: this.#bench.logger, bootTimeoutMs: options.timeoutMs, reconnectTimeoutMs: 1000, powerOffMs: 500,
      ...(signal ? { signal } : {}),
    });
    properties['recoveredBy'] = rung;
    if (options.expectRung !== undefined && rung !== options.expectRung) {
      return { message: `the board came back at the ${rung} rung, expected ${options.expectRung}`, details: '' };
    }
    return undefined;
  }

  /**
   * Bridge boards: pulse EN through the auto-reset circuit (RTS asserted, DTR released) with GPIO0 high.
   * Native-USB boards have no such circuit under MicroPython, so they reset themselves — and leave the
   * bus while they do: their serial port is then found again by port path (the result says how).
   */
  private async hardReset(board: BoardConnection, timeoutMs: number, signal?: AbortSignal): Promise<Reconnection | undefined> {
    const startedAt = this.clock.now();
    if (board.endpoint.usb === 'uart-bridge') {
      await board.link.setSignals({ dtr: false, rts: true });
      await sleep(this.clock, EN_PULSE_MS, signal);
      await board.link.setSignals({ dtr: false, rts: false });
    } else {
      await board.repl.execNoFollow('import machine\nmachine.reset()');
    }
    try {
      await board.repl.waitForBoot({ timeoutMs, ...(signal ? { signal } : {}) });
    } catch (err: unknown) {
      if (!isHilError(err, 'LINK_GONE')) throw err;
      return board.reconnect({ deadlineMs: Math.max(1, timeoutMs - (this.clock.now() - startedAt)), ...(signal ? { signal } : {}) });
    }
    await board.repl.enterRawRepl({ softReset: false, timeoutMs });
    return undefined;
  }

  private async fileRoundTrip(options: { path: string; sizeBytes: number; timeoutMs: number }, board: BoardConnection,
    properties: Record<string, string>): Promise<StepsResult['failure']> {
    const data = new Uint8Array(randomBytes(options.sizeBytes));
    const expectedHash = createHash('sha256').update(data).digest('hex');
    const io = { timeoutMs: options.timeoutMs };
    let startedAt = this.clock.now();
    await board.repl.putFile(options.path, data, io);
    properties['fileWriteMs'] = String(this.clock.now() - startedAt);
    const boardHash = await board.repl.fileHash(options.path, io);
    if (boardHash !== expectedHash) {
      return { message: `${options.path}: the board's SHA-256 of the written file differs`, details: `expected ${expectedHash}\ngot      ${boardHash}` };
    }
    startedAt = this.clock.now();
    const readBack = await board.repl.getFile(options.path, io);
    properties['fileReadMs'] = String(this.clock.now() - startedAt);
    if (Buffer.compare(Buffer.from(readBack), Buffer.from(data)) !== 0) {
      return { message: `${options.path}: read back ${readBack.length} bytes that differ from the ${data.length} written`, details: '' };
    }
    await board.repl.removeFile(options.path, io);
    const name = options.path.slice(options.path.lastIndexOf('/') + 1);
    const dir = options.path.slice(0, options.path.lastIndexOf('/')) || '/';
    const remaining = await board.repl.listDir(dir, io);
    if (remaining.some((entry) => entry.name === name)) {
      return { message: `${options.path} is still listed after it was deleted`, details: remaining.map((entry) => entry.name).join('\n') };
    }
    return undefined;
  }
}

/** JUnit properties of a reconnection by port path. */
function recordReconnection(properties: Record<string, string>, reconnection: Reconnection): void {
  properties['reconnectMs'] = String(reconnection.reconnectMs);
  properties['reconnectWaitForDeviceMs'] = String(reconnection.waitedForDeviceMs);
  properties['reconnectAttempts'] = String(reconnection.attempts);
  if (reconnection.ttyPath !== null) properties['reconnectTty'] = reconnection.ttyPath;
}
