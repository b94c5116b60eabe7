/**
 * The host-side view of one USB device: what a host reads at enumeration (device and configuration
 * descriptors, strings) and the transfers a test drives (vendor/class control requests, bulk and
 * interrupt endpoints), over any {@link UsbTransferDevice} — a physical board through the `usb`
 * package or a virtual-lab board, in process or over the lab's control server. Written once so the
 * suites that check `machine.USBDevice` runtime interfaces see real and simulated boards alike.
 *
 * Every call has a deadline on the injected clock, because WebUSB transfers have none, and errors
 * name the device (port path) and the request or endpoint. A stall is an answer ({@link expectOk}
 * turns it into an error where success is required); descriptors that break USB 2.0 ch. 9 are
 * `USB_DESCRIPTOR_INVALID` with the byte offset.
 */
import { HilError } from '../errors.ts';
import { systemClock, type Clock } from '../repl/clock.ts';
import type { UsbConfigurationProblem } from './descriptors/configuration-problem.ts';
import type { UsbConfiguration } from './descriptors/configuration-tree.ts';
import { describeEndpointAddress } from './descriptors/descriptor-format.ts';
import { parseDeviceDescriptor, type UsbDeviceDescriptor } from './descriptors/device-descriptor.ts';
import { parseConfiguration } from './descriptors/parse-configuration.ts';
import { parseLanguageIds, parseStringDescriptor } from './descriptors/string-descriptors.ts';
import { readU16 } from './descriptors/descriptor-walk.ts';
import { DescriptorSize, DescriptorType, type TransferType, type UsbSpeed } from './descriptors/usb-constants.ts';
import { UsbDescriptorError } from './descriptors/usb-descriptor-error.ts';
import { usbNumbering } from './descriptors/usb-numbering.ts';
import { validateConfiguration } from './descriptors/validate-configuration.ts';
import { AbandonedInTransfers } from './abandoned-in-transfers.ts';
import { CONFIGURATION_HEADER_LENGTH, describeDescriptorRequest, getDescriptorSetup, STRING_REQUEST_LENGTH, type DescriptorKind } from './descriptor-requests.ts';
import type { UsbControlSetup, UsbInTransferResult, UsbTransferStatus } from './usb-control-device.ts';
import { summarizeUsbDevice, type UsbDeviceSummary } from './usb-device-summary.ts';
import { withUsbDeadline } from './usb-deadline.ts';
import { checkEndpointDescribed, endpointNumberOf } from './usb-endpoint-address.ts';
import { describeControlRequest, usbCallError, USB_TRANSFER_ERROR_CODE } from './usb-transfer-errors.ts';
import type { UsbTransferDevice } from './usb-transfer-device.ts';

export interface UsbDeviceViewOptions {
  /** The device's port path (`1-1.3`): names it in every error and in the evidence. */
  portPath: string;
  /** Time source of the deadlines. Default: the process clock. */
  clock?: Clock;
  /**
   * Deadline of open, claim/release and each control transfer (descriptor reads included), ms.
   * Default 5000: USB 2.0 §9.2.6.4 gives a device at most 5 s for a request with a data stage.
   */
  controlTimeoutMs?: number;
  /** Deadline of a bulk or interrupt transfer when the call gives none, ms. Default 5000. */
  transferTimeoutMs?: number;
  /** Bus speed the packet-size rules of {@link UsbDeviceView.problems} apply for. Default `full` (ESP32-S2/S3). */
  speed?: UsbSpeed;
}

/** Per-call deadline and cancellation. */
export interface UsbCallOptions {
  /** Overrides the view's default deadline, ms; for calls that make several requests (summary), of each. */
  timeoutMs?: number;
  /** Cancels the wait (HilError `ABORTED`); the transfer itself cannot be cancelled. */
  signal?: AbortSignal;
}

/** An IN transfer's answer. A stall is an answer, not an error. */
export interface UsbInOutcome {
  status: UsbTransferStatus;
  /** The bytes received; empty unless `status` is `ok`. */
  data: Uint8Array;
  /** The device, for {@link expectOk}'s message. */
  portPath: string;
  /** What was asked, for a person: `bulk IN 0x82 (EP 2 IN)`, `vendor request 0x01 to the device (...)`. */
  request: string;
}

/** An OUT transfer's answer. */
export interface UsbOutOutcome {
  status: UsbTransferStatus;
  bytesWritten: number;
  portPath: string;
  request: string;
}

/**
 * `outcome` when its status is `ok`.
 * @throws HilError (USB_TRANSFER_ERROR_CODE) naming the device and request when it stalled or babbled.
 */
export function expectOk<T extends UsbInOutcome | UsbOutOutcome>(outcome: T): T {
  if (outcome.status === 'ok') return outcome;
  const why = outcome.status === 'stall' ? 'stalled (the device refused it)' : 'babbled (the device sent more than asked)';
  throw new HilError(USB_TRANSFER_ERROR_CODE, `${outcome.portPath}: ${outcome.request} ${why}`,
    { portPath: outcome.portPath, phase: 'usb-transfer', request: outcome.request, status: outcome.status });
}

export class UsbDeviceView {
  readonly portPath: string;
  readonly #device: UsbTransferDevice;
  readonly #clock: Clock;
  readonly #controlTimeoutMs: number;
  readonly #transferTimeoutMs: number;
  readonly #speed: UsbSpeed;
  readonly #claimed = new Set<number>();
  readonly #abandoned = new AbandonedInTransfers<UsbInTransferResult>();
  #openedHere = false;
  #opening: Promise<void> | undefined;
  #deviceDescriptor: UsbDeviceDescriptor | undefined;
  #configuration: UsbConfiguration | undefined;
  #languageIds: number[] | undefined;

  constructor(device: UsbTransferDevice, options: UsbDeviceViewOptions) {
    this.#device = device;
    this.portPath = options.portPath;
    this.#clock = options.clock ?? systemClock;
    this.#controlTimeoutMs = options.controlTimeoutMs ?? 5000;
    this.#transferTimeoutMs = options.transferTimeoutMs ?? 5000;
    this.#speed = options.speed ?? 'full';
  }

  /** Whether the device is open (by this view or its owner). */
  get opened(): boolean {
    return this.#device.opened;
  }

  /**
   * Opens the device unless it already is (then {@link close} leaves it open for its owner). Every
   * other call opens it first, so calling this is optional.
   * @throws HilError (USB_TRANSFER_ERROR_CODE) when it cannot be opened — on Linux usually no write
   *   access to its `/dev/bus/usb` node — or has gone; `TIMEOUT`; `ABORTED`.
   */
  async open(options: UsbCallOptions = {}): Promise<void> {
    if (this.#device.opened) return;
    // Calls made together share one open: WebUSB refuses a second open() while one is under way.
    this.#opening ??= Promise.resolve().then(() => this.#device.open()).finally(() => { this.#opening = undefined; });
    const opening = this.#opening;
    await this.#race('open', {}, options, this.#controlTimeoutMs, () => opening,
      ' (on Linux this needs write access to the device\'s /dev/bus/usb node: a udev rule or root)');
    this.#openedHere = true;
  }

  /**
   * The device descriptor (GET_DESCRIPTOR, 18 bytes), read once: a re-enumerated device is a new
   * device object, so it cannot change under a view.
   * @throws HilError `USB_DESCRIPTOR_INVALID` when it is malformed or the device stalls the request.
   */
  async readDeviceDescriptor(options: UsbCallOptions = {}): Promise<UsbDeviceDescriptor> {
    if (this.#deviceDescriptor !== undefined) return this.#deviceDescriptor;
    const bytes = await this.#requiredDescriptor('device', DescriptorSize.device, options);
    this.#deviceDescriptor = this.#parsed('device', () => parseDeviceDescriptor(bytes));
    return this.#deviceDescriptor;
  }

  /**
   * Configuration 0 with its whole tree, read as a host does: the 9-byte header first, then
   * wTotalLength bytes. Read once.
   * @throws HilError `USB_DESCRIPTOR_INVALID` naming the byte offset when it is malformed (wTotalLength
   *   disagreeing with what the device sends included), or when the device stalls the request.
   */
  async readConfiguration(options: UsbCallOptions = {}): Promise<UsbConfiguration> {
    if (this.#configuration !== undefined) return this.#configuration;
    const header = await this.#requiredDescriptor('configuration', CONFIGURATION_HEADER_LENGTH, options);
    let bytes = header;
    // Fewer than 4 bytes, a wrong type or a short wTotalLength: the parser names the fault of the header itself.
    const totalLength = header.length >= 4 && header[1] === DescriptorType.configuration ? readU16(header, 2) : 0;
    if (totalLength > header.length) bytes = await this.#requiredDescriptor('configuration', totalLength, options);
    this.#configuration = this.#parsed('configuration', () => parseConfiguration(bytes));
    return this.#configuration;
  }

  /** The LANGIDs of string descriptor 0; empty when the device stalls it (it has no strings). */
  async readLanguageIds(options: UsbCallOptions = {}): Promise<number[]> {
    if (this.#languageIds !== undefined) return this.#languageIds;
    const bytes = await this.#descriptor('string', 0, 0, STRING_REQUEST_LENGTH, options);
    this.#languageIds = bytes === null ? [] : this.#parsed('string 0', () => parseLanguageIds(bytes));
    return this.#languageIds;
  }

  /**
   * String descriptor `index` as text, in `languageId` (default: the device's first language).
   * Null when the device has no languages or stalls the request — a host then shows no string.
   * @throws HilError `USAGE` for index 0 (the language list, see {@link readLanguageIds}) or one
   *   outside 1–255; `USB_DESCRIPTOR_INVALID` for a malformed string descriptor.
   */
  async readString(index: number, options: UsbCallOptions & { languageId?: number } = {}): Promise<string | null> {
    if (!Number.isInteger(index) || index < 1 || index > 255) {
      throw new HilError('USAGE', `${this.portPath}: string index must be 1–255 (0 is the language list), got ${index}`, { portPath: this.portPath });
    }
    const languageId = options.languageId ?? (await this.readLanguageIds(options))[0];
    if (languageId === undefined) return null;
    const bytes = await this.#descriptor('string', index, languageId, STRING_REQUEST_LENGTH, options);
    return bytes === null ? null : this.#parsed(`string ${index}`, () => parseStringDescriptor(bytes));
  }

  /** Identity, strings, and functions → interfaces → endpoints, for reports (usb-device-summary.ts). */
  async summary(options: UsbCallOptions = {}): Promise<UsbDeviceSummary> {
    const device = await this.readDeviceDescriptor(options);
    const config = await this.readConfiguration(options);
    const strings = new Map<number, string | null>();
    for (const index of usbNumbering(config, device).stringIndexes) strings.set(index, await this.readString(index, options));
    return summarizeUsbDevice(this.portPath, device, config, (index) => strings.get(index) ?? null);
  }

  /**
   * Everything a host has against the descriptors (validateConfiguration: device descriptor and
   * configuration, USB 2.0 ch. 9, the IAD ECN, class drivers), each located by byte offset.
   */
  async problems(options: UsbCallOptions = {}): Promise<UsbConfigurationProblem[]> {
    const device = await this.readDeviceDescriptor(options);
    return validateConfiguration(await this.readConfiguration(options), { device, speed: this.#speed });
  }

  /**
   * A device-to-host control transfer (vendor or class request, to the device or an interface).
   * Requests to an interface need it claimed first.
   */
  async controlIn(setup: UsbControlSetup, length: number, options: UsbCallOptions = {}): Promise<UsbInOutcome> {
    return this.#controlIn(setup, length, describeControlRequest(setup), options);
  }

  /** A host-to-device control transfer; `data` is the data stage (none when absent). */
  async controlOut(setup: UsbControlSetup, data?: BufferSource, options: UsbCallOptions = {}): Promise<UsbOutOutcome> {
    const request = describeControlRequest(setup);
    const result = await this.#run(request, {}, options, this.#controlTimeoutMs, () => this.#device.controlTransferOut(setup, data ?? new Uint8Array(0)));
    return { status: result.status, bytesWritten: result.bytesWritten, portPath: this.portPath, request };
  }

  /**
   * Claims interface `interfaceNumber` for this program; needed before its endpoints (and requests to
   * it) can be used. Released again by {@link close}.
   * @throws HilError (USB_TRANSFER_ERROR_CODE) when it is refused — on a physical host usually because
   *   a kernel driver (cdc_acm, usbhid) owns the interface.
   */
  async claimInterface(interfaceNumber: number, options: UsbCallOptions = {}): Promise<void> {
    await this.#run(`claim interface ${interfaceNumber}`, { interfaceNumber }, options, this.#controlTimeoutMs,
      () => this.#device.claimInterface(interfaceNumber), ' (a kernel driver such as cdc_acm may own it)');
    this.#claimed.add(interfaceNumber);
  }

  /** Releases a claimed interface; its pending transfers end (WebUSB rejects them). */
  async releaseInterface(interfaceNumber: number, options: UsbCallOptions = {}): Promise<void> {
    await this.#run(`release interface ${interfaceNumber}`, { interfaceNumber }, options, this.#controlTimeoutMs,
      () => this.#device.releaseInterface(interfaceNumber));
    this.#claimed.delete(interfaceNumber);
  }

  /**
   * Writes `data` to bulk OUT endpoint `address` (`0x02`).
   * @throws HilError `USAGE` for an IN or malformed address, or (once the configuration has been read)
   *   an endpoint the device does not describe as bulk; `TIMEOUT` naming the endpoint; `ABORTED`.
   */
  async bulkOut(address: number, data: BufferSource, options: UsbCallOptions = {}): Promise<UsbOutOutcome> {
    const number = this.#endpoint(address, 'out', 'bulk');
    const request = `bulk OUT ${describeEndpointAddress(address)}`;
    const result = await this.#run(request, { endpoint: address }, options, this.#transferTimeoutMs, () => this.#device.transferOut(number, data));
    return { status: result.status, bytesWritten: result.bytesWritten, portPath: this.portPath, request };
  }

  /**
   * Reads up to `length` bytes from bulk IN endpoint `address` (`0x82`). A read whose deadline passed
   * stays queued at the device (WebUSB cannot cancel it); the next read of the same endpoint takes
   * its bytes, so nothing the device sends is lost.
   * @throws as {@link bulkOut}.
   */
  async bulkIn(address: number, length: number, options: UsbCallOptions = {}): Promise<UsbInOutcome> {
    return this.#transferIn(address, length, 'bulk', options);
  }

  /** Reads one report from interrupt IN endpoint `address` (`0x81`); as {@link bulkIn}. */
  async interruptIn(address: number, length: number, options: UsbCallOptions = {}): Promise<UsbInOutcome> {
    return this.#transferIn(address, length, 'interrupt', options);
  }

  /**
   * Releases the interfaces this view claimed and closes the device if this view opened it.
   * Idempotent; never throws for a device that has gone.
   */
  async close(): Promise<void> {
    for (const interfaceNumber of [...this.#claimed]) {
      this.#claimed.delete(interfaceNumber);
      await withUsbDeadline(this.#device.releaseInterface(interfaceNumber), this.#deadline({}, this.#controlTimeoutMs, `release interface ${interfaceNumber}`))
        .catch(() => undefined);
    }
    this.#abandoned.clear();
    if (!this.#openedHere) return;
    this.#openedHere = false;
    if (this.#device.opened) await this.#device.close().catch(() => undefined);
  }

  async #transferIn(address: number, length: number, transferType: 'bulk' | 'interrupt', options: UsbCallOptions): Promise<UsbInOutcome> {
    const number = this.#endpoint(address, 'in', transferType);
    const request = `${transferType} IN ${describeEndpointAddress(address)}`;
    await this.open(options);
    const transfer = this.#abandoned.take(number, () => this.#device.transferIn(number, length));
    let result: UsbInTransferResult;
    try {
      result = await withUsbDeadline(transfer, this.#deadline(options, this.#transferTimeoutMs, request, { endpoint: address }));
    } catch (err: unknown) {
      if (err instanceof HilError && (err.code === 'TIMEOUT' || err.code === 'ABORTED')) this.#abandoned.abandon(number, transfer);
      throw usbCallError(this.portPath, request, err, { endpoint: address });
    }
    return this.#inOutcome(result, request);
  }

  async #controlIn(setup: UsbControlSetup, length: number, request: string, options: UsbCallOptions): Promise<UsbInOutcome> {
    const result = await this.#run(request, {}, options, this.#controlTimeoutMs, () => this.#device.controlTransferIn(setup, length));
    return this.#inOutcome(result, request);
  }

  /** Opens the device if needed, then {@link #race}s `call`. */
  async #run<T>(request: string, evidence: Record<string, unknown>, options: UsbCallOptions, defaultTimeoutMs: number, call: () => Promise<T>, hint = ''): Promise<T> {
    await this.open(options);
    return this.#race(request, evidence, options, defaultTimeoutMs, call, hint);
  }

  /** Races `call` against the deadline, translating its rejection (usb-transfer-errors.ts); `hint` says what usually causes a refusal. */
  async #race<T>(request: string, evidence: Record<string, unknown>, options: UsbCallOptions, defaultTimeoutMs: number, call: () => Promise<T>, hint = ''): Promise<T> {
    try {
      // Promise.resolve().then: a device that throws synchronously is treated like one that rejects.
      return await withUsbDeadline(Promise.resolve().then(call), this.#deadline(options, defaultTimeoutMs, request, evidence));
    } catch (err: unknown) {
      const error = usbCallError(this.portPath, request, err, evidence);
      if (hint !== '' && error.code === USB_TRANSFER_ERROR_CODE) error.message += hint;
      throw error;
    }
  }

  #deadline(options: UsbCallOptions, defaultTimeoutMs: number, request: string, evidence: Record<string, unknown> = {}) {
    const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    const fullEvidence = { portPath: this.portPath, phase: 'usb-transfer', request, timeoutMs, ...evidence };
    return {
      clock: this.#clock,
      timeoutMs,
      signal: options.signal,
      evidence: fullEvidence,
      timeoutError: () => new HilError('TIMEOUT', `${this.portPath}: ${request}: no answer within ${timeoutMs} ms`, fullEvidence),
    };
  }

  #inOutcome(result: UsbInTransferResult, request: string): UsbInOutcome {
    const view = result.status === 'ok' ? result.data : undefined;
    const data = view === undefined ? new Uint8Array(0) : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    return { status: result.status, data, portPath: this.portPath, request };
  }

  /** The endpoint number of `address`, checked for direction and (when known) against the configuration. */
  #endpoint(address: number, direction: 'in' | 'out', transferType: TransferType): number {
    const number = endpointNumberOf(this.portPath, address, direction);
    if (this.#configuration !== undefined) checkEndpointDescribed(this.portPath, this.#configuration, address, transferType);
    return number;
  }

  /** A descriptor's bytes, or null when the device stalls the request. */
  async #descriptor(kind: DescriptorKind, index: number, languageId: number, length: number, options: UsbCallOptions): Promise<Uint8Array | null> {
    const outcome = await this.#controlIn(getDescriptorSetup(kind, index, languageId), length, describeDescriptorRequest(kind, index, length), options);
    return outcome.status === 'ok' ? outcome.data : null;
  }

  /** A descriptor every device must give; a stall means no host could enumerate it. */
  async #requiredDescriptor(kind: 'device' | 'configuration', length: number, options: UsbCallOptions): Promise<Uint8Array> {
    const outcome = await this.#controlIn(getDescriptorSetup(kind), length, describeDescriptorRequest(kind, 0, length), options);
    if (outcome.status === 'ok') return outcome.data;
    throw new HilError('USB_DESCRIPTOR_INVALID',
      `${this.portPath}: ${outcome.request} answered ${outcome.status}: a host cannot enumerate a device that does not give its ${kind} descriptor`,
      { portPath: this.portPath, phase: 'usb-descriptors', descriptor: kind, status: outcome.status });
  }

  /** Runs a parser, adding the device and descriptor to a descriptor error's evidence. */
  #parsed<T>(descriptor: string, parse: () => T): T {
    try {
      return parse();
    } catch (err: unknown) {
      if (err instanceof UsbDescriptorError) Object.assign(err.evidence, { portPath: this.portPath, descriptor });
      throw err;
    }
  }
}
