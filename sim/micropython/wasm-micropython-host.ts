/**
 * {@link MicroPythonHost} running the real MicroPython interpreter (compiled to WebAssembly) in a
 * worker thread, one worker per board.
 *
 * Threads and data paths:
 * - input: {@link input} writes the host's bytes into a shared ring the worker reads, so input
 *   reaches the worker even while Python runs; first each byte passes the simulated UART interrupt
 *   ({@link KeyboardInterruptLine}), which turns the armed interrupt character into a
 *   `KeyboardInterrupt` inside the running VM — busy loops included;
 * - output, filesystem images and reset requests come back as worker messages;
 * - the radio: the worker's Wi-Fi / ESP-NOW messages go to the board's `BoardRadioPort` and the
 *   medium's answers come back through shared memory ({@link RadioHostBridge});
 * - native USB: the firmware is attached to the board's `BoardUsbPort` for the worker's life; its
 *   messages go to the port in order and the controller's events come back through shared memory
 *   ({@link UsbdHostBridge});
 * - an idle board waits in `Atomics.wait` (worker) and on message events (here): no CPU, no timers.
 *
 * {@link stop} terminates the worker, so it works even when Python is stuck in a loop.
 */
import { Worker } from 'node:worker_threads';
import { HilError } from '../../runner/errors.ts';
import { ListenerSet } from '../board/listener-set.ts';
import { InputRing } from './input-ring.ts';
import { KeyboardInterruptLine } from './keyboard-interrupt-line.ts';
import type { MicroPythonHost, MicroPythonHostOptions, ResetCause } from './micropython-host.ts';
import { RadioHostBridge } from './radio-host-bridge.ts';
import { isRadioWorkerMessage } from './radio-messages.ts';
import { UsbdHostBridge } from './usbd-host-bridge.ts';
import { isUsbdWorkerMessage } from './usbd-messages.ts';
import type { WorkerInit, WorkerMessage } from './worker-protocol.ts';

/** Options of {@link WasmMicroPythonHost}: the contract's plus simulator extras. */
export interface WasmMicroPythonHostOptions extends MicroPythonHostOptions {
  /**
   * Extra Python modules (module name → source) importable on the board, installed after the
   * board modules on every boot. For simulator features built elsewhere (e.g. radio modules).
   */
  extraModules?: Readonly<Record<string, string>>;
  /**
   * {@link WasmMicroPythonHost.start} resolves at the REPL prompt, or this long after the VM came up
   * while `boot.py`/`main.py` still run (an endless `main.py` must not hang the board). Default 1000.
   */
  bootGraceMs?: number;
}

type Lifecycle =
  | { state: 'stopped' }
  | { state: 'running'; worker: Worker; ring: InputRing; radio: RadioHostBridge; usb: UsbdHostBridge; exited: Promise<void> };

interface PendingStart {
  resolve(): void;
  reject(err: unknown): void;
  graceTimer: NodeJS.Timeout | null;
}

/** See the module note. */
export class WasmMicroPythonHost implements MicroPythonHost {
  readonly #options: WasmMicroPythonHostOptions;
  readonly #outputListeners = new ListenerSet<[Uint8Array]>();
  readonly #resetListeners = new ListenerSet<['hard' | 'bootloader']>();
  readonly #crashListeners = new ListenerSet<[Error]>();
  #lifecycle: Lifecycle = { state: 'stopped' };
  #interruptLine: KeyboardInterruptLine | null = null;
  #pendingStart: PendingStart | null = null;
  /** Input that did not fit the ring yet, oldest first. */
  #backlog: Uint8Array[] = [];
  #drainingBacklog = false;

  constructor(options: WasmMicroPythonHostOptions) {
    this.#options = options;
  }

  /**
   * Boots a fresh interpreter (a new worker): it runs `boot.py` and `main.py`, then prints the banner
   * and `>>> `. Resolves at the prompt (or after `bootGraceMs` while boot scripts keep running).
   * A running interpreter is stopped first. Rejects with `SIM_START` when the VM cannot start.
   */
  async start(cause: ResetCause): Promise<void> {
    await this.stop();
    const ring = InputRing.create();
    const radio = new RadioHostBridge(this.#options.radio, () => ring.ringDoorbell());
    // Attached before the worker runs: the interpreter drives the USB stack from its first instruction.
    const usb = new UsbdHostBridge(this.#options.usb, () => ring.ringDoorbell());
    const init: WorkerInit = {
      boardId: this.#options.boardId,
      hardware: { ...this.#options.hardware, mac: this.#options.hardware.mac.slice() },
      firmware: { ...this.#options.firmware },
      cause,
      fsImage: this.#options.filesystem.read(),
      fsCapacityBytes: this.#options.filesystem.capacityBytes,
      ringBuffer: ring.buffer,
      radioMailboxBuffer: radio.mailbox.buffer,
      usbdEventBuffer: usb.events.buffer,
      usbPort: usb.attached,
      extraModules: { ...this.#options.extraModules },
    };
    let worker: Worker;
    try {
      worker = new Worker(workerEntry(), { workerData: init });
    } catch (err: unknown) {
      radio.dispose();
      usb.dispose();
      throw err;
    }
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    this.#lifecycle = { state: 'running', worker, ring, radio, usb, exited };
    this.#backlog = [];
    const started = new Promise<void>((resolve, reject) => {
      this.#pendingStart = { resolve, reject, graceTimer: null };
    });
    worker.on('message', (message: WorkerMessage) => this.#onMessage(worker, message));
    worker.on('error', (err) => this.#onFailure(worker, err));
    worker.on('exit', (code) => {
      if (this.#isCurrent(worker)) this.#onFailure(worker, new Error(`interpreter worker exited with code ${code}`));
    });
    return started;
  }

  /** Bytes from the serial host. Never blocks; input beyond the ring's space is queued in order. */
  input(data: Uint8Array): void {
    const lifecycle = this.#lifecycle;
    if (lifecycle.state !== 'running') return;
    const ring = lifecycle.ring;
    const line = this.#interruptLine;
    let runStart = 0;
    for (let i = 0; i < data.length; i++) {
      const byte = data[i] ?? 0;
      if (line === null || !line.receive(byte)) continue;
      // The interrupt character is consumed by the "ISR"; what came before it is received first.
      this.#enqueue(ring, data.subarray(runStart, i));
      runStart = i + 1;
      // TinyUSB CDC (the S3's native USB console) drops pending input on the interrupt character (§1.1).
      const discardPending = this.#options.hardware.chip === 'esp32s3';
      if (discardPending) this.#backlog = [];
      ring.recordInterrupt(discardPending);
    }
    this.#enqueue(ring, data.subarray(runStart));
  }

  onOutput(listener: (chunk: Uint8Array) => void): () => void {
    return this.#outputListeners.add(listener);
  }

  onResetRequest(listener: (kind: 'hard' | 'bootloader') => void): () => void {
    return this.#resetListeners.add(listener);
  }

  /**
   * Subscribes to interpreter failures after start (the worker crashed). The host then also requests
   * a hard reset, as a panicking ESP32 reboots. Returns unsubscribe.
   */
  onCrash(listener: (err: Error) => void): () => void {
    return this.#crashListeners.add(listener);
  }

  /** Terminates the interpreter at once, even in a busy loop. Resolves when the worker is gone. */
  async stop(): Promise<void> {
    const lifecycle = this.#lifecycle;
    if (lifecycle.state !== 'running') return;
    this.#lifecycle = { state: 'stopped' };
    this.#interruptLine = null;
    this.#backlog = [];
    lifecycle.radio.dispose();
    lifecycle.usb.dispose();
    this.#settleStart(null);
    await lifecycle.worker.terminate();
    await lifecycle.exited;
  }

  #enqueue(ring: InputRing, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.#backlog.length === 0) {
      const written = ring.write(bytes);
      ring.ringDoorbell();
      if (written === bytes.length) return;
      bytes = bytes.subarray(written);
    }
    this.#backlog.push(bytes.slice());
    void this.#drainBacklog(ring);
  }

  async #drainBacklog(ring: InputRing): Promise<void> {
    if (this.#drainingBacklog) return;
    this.#drainingBacklog = true;
    try {
      while (this.#backlog.length > 0 && this.#lifecycle.state === 'running' && this.#lifecycle.ring === ring) {
        await ring.waitForSpace();
        const head = this.#backlog[0];
        if (head === undefined) break;
        const written = ring.write(head);
        ring.ringDoorbell();
        if (written === head.length) this.#backlog.shift();
        else this.#backlog[0] = head.subarray(written);
      }
    } finally {
      this.#drainingBacklog = false;
    }
  }

  #onMessage(worker: Worker, message: WorkerMessage): void {
    const lifecycle = this.#lifecycle;
    if (lifecycle.state !== 'running' || lifecycle.worker !== worker) return;
    if (isRadioWorkerMessage(message)) {
      lifecycle.radio.handle(message);
      return;
    }
    if (isUsbdWorkerMessage(message)) {
      lifecycle.usb.handle(message);
      return;
    }
    switch (message.type) {
      case 'output':
        this.#outputListeners.emit(message.chunk);
        break;
      case 'interrupt-wiring':
        try {
          this.#interruptLine = new KeyboardInterruptLine(message);
        } catch (err: unknown) {
          this.#onFailure(worker, err instanceof Error ? err : new Error(String(err)));
        }
        break;
      case 'booting': {
        const pending = this.#pendingStart;
        if (pending !== null && pending.graceTimer === null) {
          pending.graceTimer = setTimeout(() => this.#settleStart(null), this.#options.bootGraceMs ?? 1000);
          pending.graceTimer.unref();
        }
        break;
      }
      case 'ready':
        this.#settleStart(null);
        break;
      case 'fs-image':
        try {
          this.#options.filesystem.write(message.image);
        } catch (err: unknown) {
          this.#crashListeners.emit(new Error(`board ${this.#options.boardId}: filesystem image not stored`, { cause: err }));
        }
        break;
      case 'reset-request':
        this.#resetListeners.emit(message.kind);
        break;
      case 'fatal':
        this.#onFailure(worker, new Error(message.message));
        break;
    }
  }

  #onFailure(worker: Worker, err: Error): void {
    const lifecycle = this.#lifecycle;
    if (lifecycle.state !== 'running' || lifecycle.worker !== worker) return;
    const starting = this.#pendingStart !== null;
    lifecycle.radio.dispose();
    lifecycle.usb.dispose();
    this.#lifecycle = { state: 'stopped' };
    this.#interruptLine = null;
    void worker.terminate();
    const failure = new HilError('SIM_START', `MicroPython interpreter of board ${this.#options.boardId} failed: ${err.message}`, {
      boardId: this.#options.boardId,
      phase: starting ? 'start' : 'run',
    }, { cause: err });
    if (starting) {
      this.#settleStart(failure);
      return;
    }
    this.#crashListeners.emit(failure);
    // Like a firmware panic: the chip reboots (ESP-IDF's default panic handler resets).
    this.#resetListeners.emit('hard');
  }

  #settleStart(err: unknown): void {
    const pending = this.#pendingStart;
    if (pending === null) return;
    this.#pendingStart = null;
    if (pending.graceTimer !== null) clearTimeout(pending.graceTimer);
    if (err === null) pending.resolve();
    else pending.reject(err);
  }

  #isCurrent(worker: Worker): boolean {
    return this.#lifecycle.state === 'running' && this.#lifecycle.worker === worker;
  }
}

/** The worker's entry file (a plain ES module that also works when running from TypeScript sources). */
function workerEntry(): URL {
  return new URL('./micropython-worker-bootstrap.mjs', import.meta.url);
}
