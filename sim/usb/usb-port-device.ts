/**
 * What a simulated hub port needs from the device plugged into it. `SimBoard` satisfies it as it is;
 * tests plug in small fakes. The port supplies the device's power (VBUS), and follows whatever the
 * device presents on every state change: an identity only (UART bridges, the ROM's USB-Serial-JTAG),
 * or full descriptors with a bus the host can run transfers on (a native-USB board's TinyUSB stack).
 */
import type { UsbTransferStatus } from '../../runner/usb/usb-control-device.ts';
import type { UsbDeviceIdentity } from '../board/usb-identity.ts';

/** Bus speed of a device; only low and high speed show in wPortStatus (bits 9 and 10). */
export type UsbSpeed = 'low' | 'full' | 'high';

/** A device on a hub port. */
export interface UsbPortDevice {
  /** What the device presents to the host now; null while it presents nothing (unpowered, detached). */
  readonly usbIdentity: UsbDeviceIdentity | null;
  /**
   * The full presentation, when the device has one (null: nothing on the bus). Absent: the port goes
   * by {@link usbIdentity} alone, as a device that always makes a tty when given a serial endpoint.
   */
  readonly usbPresentation?: UsbPresentation | null;
  /** The device's own state name (informational; the hub goes by what the device presents). */
  readonly state: string;
  /** Calls `listener` after every state change; the hub re-reads the presentation then. Returns unsubscribe. */
  onStateChange(listener: (state: string) => void): () => void;
  /**
   * Calls `listener` whenever the presentation changes without a state change (the firmware connects
   * or disconnects its USB stack). Returns unsubscribe. Optional: devices without it change only with state.
   */
  onUsbChange?(listener: () => void): () => void;
  /** VBUS came up. */
  powerOn(): void;
  /** VBUS went away. */
  powerOff(): void | Promise<void>;
  /** Default `full`: the ESP32-S3's USB and the CP2104 are full-speed devices. */
  readonly usbSpeed?: UsbSpeed;
}

/**
 * One attachment of a device to the bus, as the host sees it. Two presentations are the same
 * attachment only when generation and identity match: a device that disconnects and connects again
 * (`USBDevice.active(False)` / `active(True)`) presents a new generation even with identical
 * descriptors, and the host sees an unplug and a replug.
 */
export interface UsbPresentation {
  /** New on every connect. Devices that present an identity only keep one value (0). */
  readonly generation: number;
  /** VID/PID/strings, for bridges, listings and code that knows no descriptors. */
  readonly identity: UsbDeviceIdentity;
  /**
   * Whether the host makes a serial tty for the device: a USB-UART bridge, or a configuration with a
   * CDC-ACM function (the built-in CDC or a runtime one). False: no tty, no serial endpoint in listings.
   */
  readonly makesTty: boolean;
  /** The descriptors the host reads at enumeration; absent for identity-only devices. */
  readonly descriptors?: UsbDescriptorSet;
  /** Endpoint 0 and the data endpoints; absent for identity-only devices (the host cannot open them). */
  readonly bus?: UsbBusDevice;
}

/** The descriptors a device answers GET_DESCRIPTOR with, as the device holds them (not checked). */
export interface UsbDescriptorSet {
  /** The device descriptor (18 bytes when well formed). */
  readonly device: Uint8Array;
  /** The configuration descriptor with everything under it. */
  readonly configuration: Uint8Array;
  /** String descriptor `index` (1…255) as text, or null when the device has none (it stalls). */
  string(index: number): string | null;
}

/** An IN transfer's outcome on the wire. */
export interface UsbBusInResult {
  status: UsbTransferStatus;
  data: Uint8Array;
}

/** An OUT transfer's outcome on the wire. */
export interface UsbBusOutResult {
  status: UsbTransferStatus;
  bytesWritten: number;
}

/**
 * What the host controller does with a device on the wire. Transfers reject with a `NotFoundError`
 * DOMException once the device has left the bus, a `TimeoutError` DOMException when endpoint 0 gets
 * no answer within the host's control timeout, and `signal.reason` when the caller aborts.
 */
export interface UsbBusDevice {
  /** Bus reset (the port driving SE0): the device drops its configuration and its pending transfers. */
  reset(): void;
  /** A control transfer whose 8-byte `setup` has the IN bit set; wLength (in `setup`) bytes at most. */
  controlIn(setup: Uint8Array, signal?: AbortSignal): Promise<UsbBusInResult>;
  /** A control transfer with an OUT data stage of `data` (wLength in `setup` equals its length). */
  controlOut(setup: Uint8Array, data: Uint8Array, signal?: AbortSignal): Promise<UsbBusOutResult>;
  /** Bulk/interrupt IN on `endpointAddress` (bit 7 set): waits (the device NAKs) until it has data. */
  transferIn(endpointAddress: number, length: number, signal?: AbortSignal): Promise<UsbBusInResult>;
  /** Bulk/interrupt OUT on `endpointAddress`: waits (NAK) until the device has a buffer for it. */
  transferOut(endpointAddress: number, data: Uint8Array, signal?: AbortSignal): Promise<UsbBusOutResult>;
}

/** How the host reaches a device's serial port, given when the device is plugged in. */
export interface UsbPortAttachOptions {
  /** The device's serial endpoint (its RFC 2217 URL). Without it the device gets no tty. */
  url?: string;
  /**
   * Whether a host program has this device's serial port open right now (in the lab: an RFC 2217
   * client is connected). Asked when the device detaches: if true, its tty name stays taken, as a
   * Linux tty minor does while a process holds the old node open, until this returns false.
   */
  isSerialPortOpen?: () => boolean;
}

/** The presentation of a device that has none of its own: its identity, always making a tty. */
export function presentationOf(device: UsbPortDevice): UsbPresentation | null {
  if (device.usbPresentation !== undefined) return device.usbPresentation;
  const identity = device.usbIdentity;
  return identity === null ? null : { generation: 0, identity, makesTty: true };
}
