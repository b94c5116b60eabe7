/** Test helper: run `parse` and return the UsbDescriptorError it throws (fails the test otherwise). */
import { UsbDescriptorError } from '../../../runner/usb/descriptors/usb-descriptor-error.ts';

export function descriptorError(parse: () => unknown): UsbDescriptorError {
  try {
    parse();
  } catch (err: unknown) {
    if (err instanceof UsbDescriptorError) return err;
    throw err;
  }
  throw new Error('expected a UsbDescriptorError, nothing was thrown');
}
