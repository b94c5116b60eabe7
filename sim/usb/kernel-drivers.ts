/**
 * Which Linux kernel driver binds an interface when the host configures a device, so a program asking
 * for that interface (libusb `claim_interface`, WebUSB `claimInterface`) is refused as on a real host
 * until the driver is detached. Vendor-specific interfaces have no driver and are free.
 */
import type { UsbConfiguration, UsbInterface } from '../../runner/usb/descriptors/configuration-tree.ts';
import { CDC_SUBCLASS_ACM, UsbClass } from '../../runner/usb/descriptors/usb-constants.ts';

/** Driver names as `lsusb -t` / sysfs show them. */
export type KernelDriverName = 'cdc_acm' | 'usbhid' | 'snd-usb-audio' | 'usb-storage';

/**
 * The driver that binds `itf` of `configuration` (by its default alternate setting), or null.
 * cdc_acm takes an ACM control interface and, through its union, the CDC data interface; usbhid every
 * HID interface; snd-usb-audio audio and MIDI; usb-storage mass storage.
 */
export function kernelDriverOf(itf: UsbInterface, configuration: UsbConfiguration): KernelDriverName | null {
  const setting = itf.alternates.find((alternate) => alternate.alternateSetting === 0) ?? itf.alternates[0];
  if (setting === undefined) return null;
  switch (setting.interfaceClass) {
    case UsbClass.cdc:
      return setting.interfaceSubClass === CDC_SUBCLASS_ACM ? 'cdc_acm' : null;
    case UsbClass.cdcData:
      return hasAcmControl(configuration) ? 'cdc_acm' : null;
    case UsbClass.hid:
      return 'usbhid';
    case UsbClass.audio:
      return 'snd-usb-audio';
    case UsbClass.massStorage:
      return 'usb-storage';
    default:
      return null;
  }
}

/** Whether `configuration` has a CDC-ACM function: the host makes a tty (ttyACM) for it. */
export function hasAcmControl(configuration: UsbConfiguration): boolean {
  return configuration.interfaces.some((itf) =>
    itf.alternates.some((alternate) => alternate.interfaceClass === UsbClass.cdc && alternate.interfaceSubClass === CDC_SUBCLASS_ACM));
}
