/** Turning validation into the failure a host shows: the device does not enumerate. */
import { refusals } from './configuration-problem.ts';
import type { UsbConfiguration } from './configuration-tree.ts';
import { UsbDescriptorError } from './usb-descriptor-error.ts';
import { validateConfiguration, type ValidationOptions } from './validate-configuration.ts';

/**
 * Throws when a host would refuse `config` (any problem of severity `refuse`); `driver` and
 * `warning` problems do not stop enumeration.
 *
 * @throws UsbDescriptorError `not-enumerable`, offset of the first refusing problem, all of them in
 *   `problems` and in the message.
 */
export function assertEnumerable(config: UsbConfiguration, options: ValidationOptions = {}): void {
  const refused = refusals(validateConfiguration(config, options));
  if (refused.length === 0) return;
  const first = refused[0]!;
  const list = refused.map((problem) => `${problem.descriptor} byte ${problem.offset}: ${problem.message}`).join('; ');
  throw new UsbDescriptorError('not-enumerable', first.offset,
    `a host would not enumerate this device (${refused.length} problem${refused.length === 1 ? '' : 's'}): ${list}`, { problems: refused });
}
