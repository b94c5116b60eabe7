/**
 * A USB device the host can talk to beyond control transfers: WebUSB's interface claiming and
 * bulk/interrupt transfers, on top of {@link UsbControlDevice}. The `usb` package's WebUSB devices
 * (physical benches) and the virtual lab's devices (in process or over its control endpoint) both
 * provide it, so the host-side USB view (usb-device-view.ts) is one piece of code for both.
 *
 * As in WebUSB, a transfer has no timeout of its own (a bulk IN waits until the device sends); callers
 * put a deadline around it. A claimed interface bound to a kernel driver (cdc_acm, usbhid) is refused.
 */
import type { UsbControlDevice, UsbInTransferResult, UsbOutTransferResult } from './usb-control-device.ts';

export interface UsbTransferDevice extends UsbControlDevice {
  /** Claims an interface for this program; rejects when the kernel (or another program) has it. */
  claimInterface(interfaceNumber: number): Promise<void>;
  releaseInterface(interfaceNumber: number): Promise<void>;
  /** Reads up to `length` bytes from IN endpoint `endpointNumber` (1–15, without the direction bit). */
  transferIn(endpointNumber: number, length: number): Promise<UsbInTransferResult>;
  /** Writes to OUT endpoint `endpointNumber` (1–15). */
  transferOut(endpointNumber: number, data: BufferSource): Promise<UsbOutTransferResult>;
}
