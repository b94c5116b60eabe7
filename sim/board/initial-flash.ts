/**
 * Gives a brand-new simulated board a stock firmware, as boards arrive from a vendor with a
 * pre-flashed image. Existing flash files are left alone, so whatever a test or user flashed survives
 * restarts of the lab.
 */
import type { FlashStore } from './flash-store.ts';

/** Something with parts at flash offsets, such as a `FirmwareBuild`. */
export interface FlashableImage {
  parts: readonly { offset: number; data: Uint8Array }[];
}

/**
 * Writes `image` when `flash` was just created (a new flash file or an in-memory store). `image` may
 * be a function so the (costly) build only happens when needed. Returns true when it wrote.
 * Throws RangeError when a part does not fit the flash.
 */
export function provisionStockFirmware(flash: FlashStore, image: FlashableImage | (() => FlashableImage)): boolean {
  if (!flash.created) return false;
  const resolved = typeof image === 'function' ? image() : image;
  for (const part of resolved.parts) flash.write(part.offset, part.data);
  flash.flush();
  return true;
}
