/**
 * One attachment of a native-USB board to the bus, from `tud_connect()` to `tud_disconnect()` (or the
 * interpreter stopping): the device side of endpoint 0 and of the runtime endpoints, routed as
 * TinyUSB's usbd.c routes them. Chapter 9 requests and the built-in CDC's class requests are answered
 * by the stack at once; class and vendor requests for runtime interfaces (and standard requests to
 * them that TinyUSB passes to class drivers) go to the firmware's `control_xfer_cb`. Endpoint 0 runs
 * one transfer at a time, in the order the host started them.
 */
import type { Logger } from 'pino';
import type { UsbConfiguration, UsbEndpoint } from '../../runner/usb/descriptors/configuration-tree.ts';
import type { BoardClock } from '../board/board-clock.ts';
import type { UsbBusDevice, UsbBusInResult, UsbBusOutResult } from '../usb/usb-port-device.ts';
import type { UsbdFirmwareEvent, UsbdFirmwareMessage } from './board-usb-port.ts';
import { BuiltinCdcState } from './builtin-cdc-requests.ts';
import { EndpointPipes, type PipeEndpoint } from './endpoint-pipes.ts';
import { FirmwareControlTransfer, type ControlOutcome } from './firmware-control-transfer.ts';
import type { PresentedDevice } from './presented-device.ts';
import { runtimeInterfaceSlices } from './runtime-interface-slices.ts';
import {
  answerStandardDeviceRequest,
  FeatureSelector,
  StandardRequest,
  STALL,
  type ControlAnswer,
  type SetupRequest,
  type StandardDeviceTarget,
} from './standard-requests.ts';

/** What a connection needs from its controller. */
export interface UsbdConnectionContext {
  readonly clock: BoardClock;
  /** Per firmware stage of a control transfer, ms. */
  readonly controlTimeoutMs: number;
  readonly logger: Logger | undefined;
  /** Delivers an event to the attached firmware. */
  toFirmware(event: UsbdFirmwareEvent): void;
  /** A control transfer id unique on the controller. */
  nextControlId(): number;
}

/** bmRequestType type bits 6..5. */
const RequestType = { standard: 0, class: 1, vendor: 2 } as const;
/** bmRequestType recipient bits 4..0. */
const Recipient = { device: 0, interface: 1, endpoint: 2 } as const;

const STALL_OUTCOME: ControlOutcome = { status: 'stall' };

/** One connection (see the module note). */
export class UsbdConnection implements UsbBusDevice, StandardDeviceTarget {
  readonly device: PresentedDevice;
  remoteWakeup = false;
  readonly #context: UsbdConnectionContext;
  readonly #firmware: FirmwareControlTransfer;
  readonly #cdc: BuiltinCdcState | null;
  readonly #alternates = new Map<number, number>();
  #configurationValue = 0;
  #pipes: EndpointPipes | null = null;
  #gone = false;
  #controlBusy = false;
  readonly #controlQueue: (() => void)[] = [];

  constructor(context: UsbdConnectionContext, device: PresentedDevice) {
    this.#context = context;
    this.device = device;
    this.#cdc = device.builtinCdc ? new BuiltinCdcState(0) : null;
    this.#firmware = new FirmwareControlTransfer({
      clock: context.clock,
      timeoutMs: context.controlTimeoutMs,
      send: (event) => context.toFirmware(event),
      nextId: () => context.nextControlId(),
    });
  }

  // ---- what the stack's standard requests read ----

  get deviceDescriptor(): Uint8Array {
    return this.device.deviceDescriptor;
  }

  get configurationDescriptor(): Uint8Array {
    return this.device.configurationDescriptor;
  }

  string(index: number): string | null {
    return this.device.string(index);
  }

  get configurationValue(): number {
    return this.#configurationValue;
  }

  get selfPowered(): boolean {
    return ((this.device.configurationDescriptor[7] ?? 0) & 0x40) !== 0;
  }

  /** The built-in CDC's line state (for tests and logs); null without the built-in driver. */
  get builtinCdc(): BuiltinCdcState | null {
    return this.#cdc;
  }

  /**
   * SET_CONFIGURATION: 0 or the configuration's own value. A change closes every endpoint (pending
   * transfers dropped); a runtime device hears `configured` with the slices `open_itf_cb` gets.
   */
  selectConfiguration(value: number): boolean {
    const own = this.device.configurationDescriptor[5] ?? 0;
    if (value !== 0 && value !== own) return false;
    if (value === this.#configurationValue) return true;
    this.#closePipes(new DOMException('The transfer was cancelled: the configuration changed.', 'NetworkError'));
    this.#configurationValue = value;
    this.#alternates.clear();
    if (value !== 0) this.#pipes = this.#openPipes();
    if (this.device.runtime) {
      const openInterfaces = value === 0 ? [] : runtimeInterfaceSlices(this.device.configurationDescriptor, this.device.builtinInterfaceCount);
      this.#context.toFirmware({ kind: 'configured', configured: value !== 0, openInterfaces });
    }
    return true;
  }

  // ---- the bus (host side) ----

  reset(): void {
    if (this.#gone) return;
    const reason = new DOMException('The transfer was cancelled by a bus reset.', 'NetworkError');
    this.#firmware.abortAll(reason);
    this.#closePipes(reason);
    this.#configurationValue = 0;
    this.#alternates.clear();
    this.remoteWakeup = false;
    if (this.device.runtime) this.#context.toFirmware({ kind: 'bus-reset' });
  }

  controlIn(setup: Uint8Array, signal?: AbortSignal): Promise<UsbBusInResult> {
    return this.#queueControl(signal, async () => {
      const request = decodeSetup(setup);
      const outcome = request.direction === 'in' ? await this.#dispatch(setup, request, new Uint8Array(0), signal) : STALL_OUTCOME;
      return outcome.status === 'stall' ? { status: 'stall', data: new Uint8Array(0) } : { status: 'ok', data: outcome.data.slice(0, request.length) };
    });
  }

  controlOut(setup: Uint8Array, data: Uint8Array, signal?: AbortSignal): Promise<UsbBusOutResult> {
    return this.#queueControl(signal, async () => {
      const request = decodeSetup(setup);
      const valid = request.direction === 'out' && request.length === data.length;
      const outcome = valid ? await this.#dispatch(setup, request, data, signal) : STALL_OUTCOME;
      return outcome.status === 'stall' ? { status: 'stall', bytesWritten: 0 } : { status: 'ok', bytesWritten: outcome.bytesWritten };
    });
  }

  transferIn(endpointAddress: number, length: number, signal?: AbortSignal): Promise<UsbBusInResult> {
    const pipes = this.#openPipe(endpointAddress);
    return pipes instanceof EndpointPipes ? pipes.hostIn(endpointAddress, length, signal) : Promise.reject(pipes);
  }

  transferOut(endpointAddress: number, data: Uint8Array, signal?: AbortSignal): Promise<UsbBusOutResult> {
    const pipes = this.#openPipe(endpointAddress);
    return pipes instanceof EndpointPipes ? pipes.hostOut(endpointAddress, data, signal) : Promise.reject(pipes);
  }

  // ---- the firmware side ----

  /** One firmware message for this connection (`connect`/`disconnect` are the controller's). */
  fromFirmware(message: Exclude<UsbdFirmwareMessage, { kind: 'connect' | 'disconnect' }>): void {
    if (this.#gone) return;
    switch (message.kind) {
      case 'submit':
        if (this.#pipes?.submit(message.endpoint, message.data, message.length) !== true) {
          this.#context.logger?.debug({ endpoint: message.endpoint }, 'submit_xfer ignored: endpoint not open or already busy');
        }
        break;
      case 'stall':
        this.#pipes?.setStall(message.endpoint, message.stall);
        break;
      case 'control-reply':
        if (!this.#firmware.reply(message)) this.#context.logger?.debug({ id: message.id, stage: message.stage }, 'late or unexpected control reply ignored');
        break;
    }
  }

  /** The device left the bus: every pending and later host transfer fails with `NotFoundError`. */
  end(): void {
    if (this.#gone) return;
    this.#gone = true;
    const reason = gone();
    this.#firmware.abortAll(reason);
    this.#closePipes(reason);
  }

  // ---- routing ----

  async #dispatch(setupBytes: Uint8Array, setup: SetupRequest, hostData: Uint8Array, signal: AbortSignal | undefined): Promise<ControlOutcome> {
    const type = (setupBytes[0]! >> 5) & 0x03;
    const recipient = setupBytes[0]! & 0x1f;
    switch (recipient) {
      case Recipient.device:
        if (type === RequestType.standard) return answered(answerStandardDeviceRequest(this, setup), hostData);
        // TinyUSB routes a class request to the device by the interface in wIndex's low byte.
        if (type === RequestType.class) return this.#interfaceRequest(type, setupBytes, setup, hostData, signal);
        if (type === RequestType.vendor && this.device.runtime) return this.#firmware.run(setupBytes, setup, hostData, signal);
        return STALL_OUTCOME;
      case Recipient.interface:
        return type <= RequestType.vendor ? this.#interfaceRequest(type, setupBytes, setup, hostData, signal) : STALL_OUTCOME;
      case Recipient.endpoint:
        return type <= RequestType.vendor ? this.#endpointRequest(type, setupBytes, setup, hostData, signal) : STALL_OUTCOME;
      default:
        return STALL_OUTCOME;
    }
  }

  async #interfaceRequest(type: number, setupBytes: Uint8Array, setup: SetupRequest, hostData: Uint8Array,
    signal: AbortSignal | undefined): Promise<ControlOutcome> {
    const number = setup.index & 0xff;
    const configuration = this.#selected();
    if (configuration === null || !configuration.interfaces.some((itf) => itf.number === number)) return STALL_OUTCOME;
    if (number < this.device.builtinInterfaceCount) {
      if (type === RequestType.standard) return answered(this.#alternateRequest(number, setup), hostData);
      if (type === RequestType.class && this.#cdc !== null) return answered(this.#cdc.answer(setup, hostData), hostData);
      return STALL_OUTCOME;
    }
    if (!this.device.runtime) return STALL_OUTCOME;
    const outcome = await this.#firmware.run(setupBytes, setup, hostData, signal);
    if (type !== RequestType.standard) return outcome;
    // A driver that does not handle GET/SET_INTERFACE still gets the mandatory answer from usbd.c.
    if (outcome.status === 'stall') return answered(this.#alternateRequest(number, setup), hostData);
    if (setup.request === StandardRequest.SET_INTERFACE) this.#alternates.set(number, setup.value);
    return outcome;
  }

  /** GET_INTERFACE / SET_INTERFACE as usbd.c answers them for a driver without alternate settings. */
  #alternateRequest(number: number, setup: SetupRequest): ControlAnswer {
    if (setup.request === StandardRequest.GET_INTERFACE && setup.direction === 'in') {
      return { status: 'ok', data: Uint8Array.of(this.#alternates.get(number) ?? 0) };
    }
    if (setup.request === StandardRequest.SET_INTERFACE && setup.direction === 'out') {
      this.#alternates.set(number, setup.value);
      return { status: 'ok', data: new Uint8Array(0) };
    }
    return STALL;
  }

  async #endpointRequest(type: number, setupBytes: Uint8Array, setup: SetupRequest, hostData: Uint8Array,
    signal: AbortSignal | undefined): Promise<ControlOutcome> {
    const address = setup.index & 0x8f;
    const owner = this.#interfaceOfEndpoint(address);
    if (owner === undefined) return STALL_OUTCOME;
    const runtime = this.device.runtime && owner >= this.device.builtinInterfaceCount;
    if (type !== RequestType.standard) return runtime ? this.#firmware.run(setupBytes, setup, hostData, signal) : STALL_OUTCOME;
    if (setup.request === StandardRequest.GET_STATUS && setup.direction === 'in') {
      return answered({ status: 'ok', data: Uint8Array.of(this.#pipes?.isStalled(address) === true ? 1 : 0, 0) }, hostData);
    }
    const feature = setup.request === StandardRequest.SET_FEATURE || setup.request === StandardRequest.CLEAR_FEATURE;
    if (!feature || setup.direction !== 'out') return STALL_OUTCOME;
    if (setup.value === FeatureSelector.ENDPOINT_HALT) this.#pipes?.setStall(address, setup.request === StandardRequest.SET_FEATURE);
    // usbd.c shows the request to the endpoint's driver too, then ACKs whatever it says.
    if (runtime) await this.#firmware.notify(setupBytes, signal);
    return { status: 'ok', data: new Uint8Array(0), bytesWritten: hostData.length };
  }

  // ---- helpers ----

  /** The configuration when selected and well formed (TinyUSB's itf2drv/ep2drv tables exist only then). */
  #selected(): UsbConfiguration | null {
    return this.#configurationValue === 0 ? null : this.device.configuration;
  }

  #interfaceOfEndpoint(address: number): number | undefined {
    const configuration = this.#selected();
    return configuration?.interfaces.find((itf) => itf.alternates.some((alternate) => alternate.endpoints.some((ep) => ep.address === address)))?.number;
  }

  /** Pipes for every endpoint of the runtime interfaces, in any of their alternate settings. */
  #openPipes(): EndpointPipes | null {
    const configuration = this.device.configuration;
    if (!this.device.runtime || configuration === null) return null;
    const endpoints = new Map<number, PipeEndpoint>();
    for (const itf of configuration.interfaces) {
      if (itf.number < this.device.builtinInterfaceCount) continue;
      for (const endpoint of itf.alternates.flatMap((alternate): UsbEndpoint[] => alternate.endpoints)) {
        if (!endpoints.has(endpoint.address)) endpoints.set(endpoint.address, { address: endpoint.address, maxPacketSize: endpoint.maxPacketSize });
      }
    }
    return new EndpointPipes([...endpoints.values()], (completion) => {
      this.#context.toFirmware({ kind: 'xfer-complete', ...completion });
    });
  }

  #closePipes(reason: unknown): void {
    this.#pipes?.close(reason);
    this.#pipes = null;
  }

  /** The pipes when `address` is an open runtime endpoint, else the error the host's transfer fails with. */
  #openPipe(address: number): EndpointPipes | DOMException {
    if (this.#gone) return gone();
    if (this.#pipes?.has(address) === true) return this.#pipes;
    return new DOMException(`A transfer error has occurred: endpoint 0x${address.toString(16)} is not open on the device.`, 'NetworkError');
  }

  #queueControl<R>(signal: AbortSignal | undefined, job: () => Promise<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const start = (): void => {
        if (this.#gone || signal?.aborted === true) {
          reject(this.#gone ? gone() : signal?.reason);
          this.#nextControl();
          return;
        }
        job().then(resolve, reject).finally(() => this.#nextControl());
      };
      if (this.#controlBusy) {
        this.#controlQueue.push(start);
      } else {
        this.#controlBusy = true;
        start();
      }
    });
  }

  #nextControl(): void {
    const next = this.#controlQueue.shift();
    if (next === undefined) this.#controlBusy = false;
    else next();
  }
}

function decodeSetup(setup: Uint8Array): SetupRequest {
  if (setup.length !== 8) throw new TypeError(`a setup packet has 8 bytes, got ${setup.length}`);
  return {
    direction: (setup[0]! & 0x80) !== 0 ? 'in' : 'out',
    request: setup[1]!,
    value: setup[2]! | (setup[3]! << 8),
    index: setup[4]! | (setup[5]! << 8),
    length: setup[6]! | (setup[7]! << 8),
  };
}

/** A stack answer as a transfer outcome: OUT requests the stack takes consume all the host's data. */
function answered(answer: ControlAnswer, hostData: Uint8Array): ControlOutcome {
  return answer.status === 'stall' ? STALL_OUTCOME : { status: 'ok', data: answer.data, bytesWritten: hostData.length };
}

function gone(): DOMException {
  return new DOMException('The device was disconnected.', 'NotFoundError');
}
