/**
 * What a simulated hub port needs from the device plugged into it. `SimBoard` satisfies it as it is;
 * tests plug in small fakes. The port supplies the device's power (VBUS), and follows whatever
 * identity the device presents on every state change.
 */
import type { UsbDeviceIdentity } from '../board/usb-identity.ts';

/** Bus speed of a device; only low and high speed show in wPortStatus (bits 9 and 10). */
export type UsbSpeed = 'low' | 'full' | 'high';

/** A device on a hub port. */
export interface UsbPortDevice {
  /** What the device presents to the host now; null while it presents nothing (unpowered, detached). */
  readonly usbIdentity: UsbDeviceIdentity | null;
  /** The device's own state name (informational; the hub goes by `usbIdentity`). */
  readonly state: string;
  /** Calls `listener` after every state change; the hub re-reads `usbIdentity` then. Returns unsubscribe. */
  onStateChange(listener: (state: string) => void): () => void;
  /** VBUS came up. */
  powerOn(): void;
  /** VBUS went away. */
  powerOff(): void | Promise<void>;
  /** Default `full`: the ESP32-S3's USB and the CP2104 are full-speed devices. */
  readonly usbSpeed?: UsbSpeed;
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
