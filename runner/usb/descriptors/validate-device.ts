/** Rules for the device descriptor alone (USB 2.0 §9.6.1, §5.5.3 for ep0 packet sizes). */
import type { UsbConfigurationProblem } from './configuration-problem.ts';
import type { UsbDeviceDescriptor } from './device-descriptor.ts';
import type { UsbSpeed } from './usb-constants.ts';

/** bMaxPacketSize0 values each speed allows (USB 2.0 §5.5.3). */
const EP0_SIZES: Record<UsbSpeed, readonly number[]> = { low: [8], full: [8, 16, 32, 64], high: [64] };

/** Problems a host has with `device` at `speed` (default full speed, as ESP32-S2/S3 native USB). */
export function validateDeviceDescriptor(device: UsbDeviceDescriptor, speed: UsbSpeed = 'full'): UsbConfigurationProblem[] {
  const problems: UsbConfigurationProblem[] = [];
  const allowed = EP0_SIZES[speed];
  if (!allowed.includes(device.maxPacketSize0)) {
    problems.push({
      code: 'device-max-packet-size0', severity: 'refuse', descriptor: 'device', offset: 7,
      message: `bMaxPacketSize0 ${device.maxPacketSize0} is not allowed at ${speed} speed (${allowed.join(', ')}): the host cannot talk to endpoint 0`,
    });
  }
  if (device.numConfigurations === 0) {
    problems.push({
      code: 'device-no-configurations', severity: 'refuse', descriptor: 'device', offset: 17,
      message: 'bNumConfigurations is 0: there is no configuration to select',
    });
  }
  return problems;
}
