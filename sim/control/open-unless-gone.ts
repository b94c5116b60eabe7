/**
 * Opens a WebUSB-shaped device the lab's discovery just looked up; null when there was none, or when
 * it went away between the lookup and the open (WebUSB's `NotFoundError`).
 */
export async function openUnlessGone<T extends { open(): Promise<void> }>(device: T | null): Promise<T | null> {
  if (device === null) return null;
  try {
    await device.open();
  } catch (err: unknown) {
    if (err instanceof DOMException && err.name === 'NotFoundError') return null;
    throw err;
  }
  return device;
}
