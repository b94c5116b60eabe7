/**
 * Control transfers TinyUSB hands to the runtime device, run as MicroPython runs them: the firmware's
 * `control_xfer_cb` sees the SETUP stage (stage 1) and answers stall, continue, or a buffer for the
 * data stage; after a data stage it sees stage 2 (an OUT's bytes arrive with it); after the status
 * stage, stage 3 (ACK). Every stage waits for the firmware's `control-reply`; one that does not come
 * within the host's control timeout fails the host's transfer with a `TimeoutError`, as a host gives
 * up on a device that NAKs forever.
 */
import type { BoardClock } from '../board/board-clock.ts';
import type { UsbdFirmwareEvent, UsbdFirmwareMessage } from './board-usb-port.ts';
import type { SetupRequest } from './standard-requests.ts';

/** The firmware's answer to one stage. */
export type ControlReply = Extract<UsbdFirmwareMessage, { kind: 'control-reply' }>;

/** A transfer's outcome: IN data (cut to wLength) or how many OUT bytes the device took, or a stall. */
export type ControlOutcome = { status: 'ok'; data: Uint8Array; bytesWritten: number } | { status: 'stall' };

/** What the runner needs from its connection. */
export interface FirmwareControlContext {
  readonly clock: BoardClock;
  /** How long one stage may take, ms. */
  readonly timeoutMs: number;
  /** Delivers an event to the firmware. */
  send(event: UsbdFirmwareEvent): void;
  /** A transfer id unique on this controller. */
  nextId(): number;
}

interface PendingStage {
  stage: 1 | 2 | 3;
  resolve(reply: ControlReply): void;
  reject(reason: unknown): void;
}

/** The firmware-facing half of endpoint 0 for one connection. */
export class FirmwareControlTransfer {
  readonly #context: FirmwareControlContext;
  readonly #pending = new Map<number, PendingStage>();

  constructor(context: FirmwareControlContext) {
    this.#context = context;
  }

  /** Passes the firmware's reply on; false when nothing waits for it (late, unknown, wrong stage). */
  reply(message: ControlReply): boolean {
    const pending = this.#pending.get(message.id);
    if (pending === undefined || pending.stage !== message.stage) return false;
    pending.resolve(message);
    return true;
  }

  /** Fails every stage waiting (bus reset, device gone) with `reason`. */
  abortAll(reason: unknown): void {
    for (const pending of [...this.#pending.values()]) pending.reject(reason);
  }

  /** One whole transfer through `control_xfer_cb`; `hostData` is the OUT data stage (empty for IN). */
  async run(setupBytes: Uint8Array, setup: SetupRequest, hostData: Uint8Array, signal: AbortSignal | undefined): Promise<ControlOutcome> {
    const id = this.#context.nextId();
    const first = await this.#ask(id, 1, setupBytes, undefined, signal);
    if (first.action === 'stall') return { status: 'stall' };
    let data = new Uint8Array(0);
    let bytesWritten = 0;
    // `continue` (True) at SETUP goes straight to the status stage: no data stage, no stage 2.
    if (first.action === 'data' && setup.length > 0) {
      let received: Uint8Array | undefined;
      if (setup.direction === 'in') {
        data = (first.data ?? new Uint8Array(0)).slice(0, setup.length);
      } else {
        bytesWritten = Math.min(first.length ?? first.data?.length ?? 0, hostData.length);
        received = hostData.slice(0, bytesWritten);
      }
      const second = await this.#ask(id, 2, setupBytes, received, signal);
      if (second.action === 'stall') return { status: 'stall' };
    }
    // The status stage has completed on the wire; the ACK callback's answer changes nothing.
    await this.#ask(id, 3, setupBytes, undefined, signal);
    return { status: 'ok', data, bytesWritten };
  }

  /**
   * A standard request TinyUSB answers itself but still shows the class driver (CLEAR/SET_FEATURE
   * to an endpoint): SETUP stage only, its answer ignored.
   */
  async notify(setupBytes: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
    await this.#ask(this.#context.nextId(), 1, setupBytes, undefined, signal);
  }

  #ask(id: number, stage: 1 | 2 | 3, setupBytes: Uint8Array, data: Uint8Array | undefined, signal: AbortSignal | undefined): Promise<ControlReply> {
    const { clock, timeoutMs } = this.#context;
    return new Promise<ControlReply>((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(signal.reason);
        return;
      }
      const finish = (): void => {
        clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#pending.delete(id);
      };
      const onAbort = (): void => {
        finish();
        reject(signal?.reason);
      };
      const timer = clock.setTimeout(() => {
        finish();
        reject(new DOMException(`the device did not answer control transfer ${id} (stage ${stage}) within ${timeoutMs} ms`, 'TimeoutError'));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        stage,
        resolve: (reply) => {
          finish();
          resolve(reply);
        },
        reject: (reason) => {
          finish();
          reject(reason);
        },
      });
      // Registered first: a firmware may answer from inside `send`.
      this.#context.send({ kind: 'control', id, stage, setup: setupBytes.slice(), ...(data === undefined ? {} : { data }) });
    });
  }
}
