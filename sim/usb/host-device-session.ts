/**
 * The host's record of one enumeration of a device that presents descriptors: what it read, which
 * configuration and alternate settings are selected, which interfaces kernel drivers hold and which
 * program handles have claimed the rest. It ends when the device leaves (or is refused), and every
 * handle on it fails from then on, as a `usbfs` file does after a disconnect.
 */
import type { UsbConfiguration, UsbInterface } from '../../runner/usb/descriptors/configuration-tree.ts';
import type { UsbDeviceDescriptor } from '../../runner/usb/descriptors/device-descriptor.ts';
import { kernelDriverOf, type KernelDriverName } from './kernel-drivers.ts';
import type { UsbBusDevice } from './usb-port-device.ts';

/** Who holds a claim: one open handle. */
export type ClaimOwner = object;

/** One enumeration of one device (see the module note). */
export class HostDeviceSession {
  readonly bus: UsbBusDevice;
  readonly device: UsbDeviceDescriptor;
  readonly configuration: UsbConfiguration;
  readonly #gone = new AbortController();
  readonly #claims = new Map<number, ClaimOwner>();
  readonly #alternates = new Map<number, number>();
  /** bConfigurationValue selected; 0 = unconfigured (address state). */
  #configurationValue = 0;

  constructor(bus: UsbBusDevice, device: UsbDeviceDescriptor, configuration: UsbConfiguration) {
    this.bus = bus;
    this.device = device;
    this.configuration = configuration;
  }

  /** False once the device has left (or the host dropped it). */
  get present(): boolean {
    return !this.#gone.signal.aborted;
  }

  /** Aborted, with a `NotFoundError` DOMException as reason, when the device goes. */
  get signal(): AbortSignal {
    return this.#gone.signal;
  }

  get configurationValue(): number {
    return this.#configurationValue;
  }

  /** The device went: pending transfers of every handle reject with `NotFoundError`. Idempotent. */
  end(): void {
    if (!this.present) return;
    this.#claims.clear();
    this.#gone.abort(new DOMException('The device was disconnected.', 'NotFoundError'));
  }

  /** SET_CONFIGURATION succeeded: alternate settings return to 0; claims do not survive a change. */
  configurationSelected(value: number): void {
    if (value !== this.#configurationValue) this.#claims.clear();
    this.#configurationValue = value;
    this.#alternates.clear();
  }

  /** SET_INTERFACE succeeded. */
  alternateSelected(interfaceNumber: number, alternateSetting: number): void {
    this.#alternates.set(interfaceNumber, alternateSetting);
  }

  /** The interface `number` of the selected configuration, or undefined. */
  interface(number: number): UsbInterface | undefined {
    if (this.#configurationValue === 0) return undefined;
    return this.configuration.interfaces.find((itf) => itf.number === number);
  }

  /** The kernel driver bound to interface `number`, or null. */
  kernelDriver(number: number): KernelDriverName | null {
    const itf = this.interface(number);
    return itf === undefined ? null : kernelDriverOf(itf, this.configuration);
  }

  /**
   * Claims interface `number` for `owner`.
   * @throws DOMException `InvalidStateError` (unconfigured), `NotFoundError` (no such interface),
   *   `NetworkError` (a kernel driver or another handle holds it; the message names which).
   */
  claim(number: number, owner: ClaimOwner): void {
    if (this.#configurationValue === 0) throw new DOMException('The device must have a configuration selected.', 'InvalidStateError');
    if (this.interface(number) === undefined) {
      throw new DOMException(`The device has no interface ${number} in configuration ${this.#configurationValue}.`, 'NotFoundError');
    }
    const driver = this.kernelDriver(number);
    if (driver !== null) {
      throw new DOMException(`Unable to claim interface ${number}: the kernel driver ${driver} is bound to it (LIBUSB_ERROR_BUSY).`, 'NetworkError');
    }
    const holder = this.#claims.get(number);
    if (holder !== undefined && holder !== owner) {
      throw new DOMException(`Unable to claim interface ${number}: another program has claimed it (LIBUSB_ERROR_BUSY).`, 'NetworkError');
    }
    this.#claims.set(number, owner);
  }

  /** Releases `owner`'s claim on interface `number`; false when it held none. */
  release(number: number, owner: ClaimOwner): boolean {
    if (this.#claims.get(number) !== owner) return false;
    this.#claims.delete(number);
    return true;
  }

  /** Whether `owner` holds interface `number`. */
  holds(number: number, owner: ClaimOwner): boolean {
    return this.#claims.get(number) === owner;
  }

  /** Interfaces `owner` holds. */
  claimedBy(owner: ClaimOwner): number[] {
    return [...this.#claims].filter(([, holder]) => holder === owner).map(([number]) => number);
  }

  /** The interface whose selected alternate setting has endpoint `address`, or undefined. */
  interfaceOfEndpoint(address: number): number | undefined {
    if (this.#configurationValue === 0) return undefined;
    for (const itf of this.configuration.interfaces) {
      const selected = this.#alternates.get(itf.number) ?? 0;
      const setting = itf.alternates.find((alternate) => alternate.alternateSetting === selected);
      if (setting?.endpoints.some((endpoint) => endpoint.address === address)) return itf.number;
    }
    return undefined;
  }
}
