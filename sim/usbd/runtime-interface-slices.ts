/**
 * Which parts of a runtime configuration descriptor go to `open_itf_cb` when the host selects the
 * configuration. TinyUSB's `process_set_config` walks the functions: it steps over an IAD and hands the
 * first interface descriptor to the class drivers' `open`; MicroPython's runtime driver claims every
 * function numbered from the built-in driver's `itf_max` on, up to the next interface or IAD of
 * another function (an IAD's interfaces and an interface's alternate settings belong to it). So for an
 * IAD function the slice starts at its first interface descriptor, as the micropython-lib core notes.
 */
import { DescriptorType } from '../../runner/usb/descriptors/usb-constants.ts';

/** A slice of `desc_cfg`: `memoryview(desc_cfg)[offset:offset + length]`. */
export interface DescriptorSlice {
  offset: number;
  length: number;
}

/** A function being collected: where it starts and which interface numbers are its own. */
interface OpenFunction {
  offset: number;
  firstInterface: number;
  lastInterface: number;
  runtime: boolean;
}

/**
 * The slices of every runtime function (interface number ≥ `builtinInterfaceCount`) in `configuration`,
 * in descriptor order. Stops quietly at a malformed descriptor (a host would have refused the device).
 */
export function runtimeInterfaceSlices(configuration: Uint8Array, builtinInterfaceCount: number): DescriptorSlice[] {
  const slices: DescriptorSlice[] = [];
  const end = configuration.length;
  let current: OpenFunction | null = null;
  let iad: { firstInterface: number; lastInterface: number } | null = null;
  const close = (at: number): void => {
    if (current?.runtime === true) slices.push({ offset: current.offset, length: at - current.offset });
    current = null;
  };
  let offset = configuration[0] ?? end;
  while (offset + 2 <= end) {
    const length = configuration[offset]!;
    if (length < 2 || offset + length > end) break;
    const type = configuration[offset + 1]!;
    if (type === DescriptorType.interfaceAssociation && length >= 4) {
      close(offset);
      const firstInterface = configuration[offset + 2]!;
      iad = { firstInterface, lastInterface: firstInterface + configuration[offset + 3]! - 1 };
    } else if (type === DescriptorType.interface && length >= 3) {
      const number = configuration[offset + 2]!;
      const own = current !== null && number >= current.firstInterface && number <= current.lastInterface;
      if (!own) {
        close(offset);
        const group = iad !== null && number >= iad.firstInterface && number <= iad.lastInterface ? iad : { firstInterface: number, lastInterface: number };
        iad = null;
        current = { offset, ...group, runtime: number >= builtinInterfaceCount };
      }
    }
    offset += length;
  }
  close(Math.min(offset, end));
  return slices;
}
