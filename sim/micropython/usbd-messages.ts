/**
 * Worker → host messages of the board's USB device stack (part of `WorkerMessage`): each carries one
 * {@link UsbdFirmwareMessage} for the board's USB device controller, in the order the firmware sent
 * them. Answers come back through shared memory (`UsbdEventRing`), never by message.
 */
import type { UsbdFirmwareMessage } from '../usbd/board-usb-port.ts';

/** One message of the firmware to the controller. */
export interface UsbdWorkerMessage {
  type: 'usbd';
  message: UsbdFirmwareMessage;
}

/** True for the USB device stack's messages. */
export function isUsbdWorkerMessage(message: { type: string }): message is UsbdWorkerMessage {
  return message.type === 'usbd';
}
