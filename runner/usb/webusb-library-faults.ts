/**
 * What went wrong in a call to the `usb` package (3.1.0), read from its error message — the package
 * rejects with plain Errors whose text is `<method> error: <reason>`, where the reason is nusb's
 * TransferError printed with Display (`endpoint stalled`, `transfer was cancelled`, `device
 * disconnected`) for control transfers and with Debug (`Stall`, `Cancelled`, `Disconnected`) for
 * bulk/interrupt ones, or the package's own `invalid state`, `endpoint not found`, `not claimed`.
 * Read from node-usb-rs `src/webusb_device.rs` (v3.1.0) and nusb 0.2 `src/transfer/mod.rs`, not
 * observed on hardware. Matching text is the only way the package leaves; it happens here only.
 */

export type WebUsbLibraryFault =
  /** The device answered with STALL: WebUSB reports that as a transfer status. */
  | 'stall'
  /** The package's own timeout ran out and nusb cancelled the transfer. */
  | 'cancelled'
  | 'disconnected'
  /** Not opened, or (interface/endpoint/"other" requests) no claimed interface to send through. */
  | 'invalid-state'
  /** A bulk/interrupt endpoint that is in no claimed interface (or does not exist). */
  | 'endpoint-not-found'
  /** releaseInterface of an interface that is not claimed. */
  | 'not-claimed'
  | 'other';

const PATTERNS: readonly [WebUsbLibraryFault, RegExp][] = [
  ['stall', /endpoint stalled|error: Stall\b/],
  ['cancelled', /transfer was cancelled|error: Cancelled\b/],
  ['disconnected', /device disconnected|error: Disconnected\b|No such device/],
  ['invalid-state', /invalid state/],
  ['endpoint-not-found', /endpoint not found/],
  ['not-claimed', /not claimed/],
];

export function webUsbLibraryFault(err: unknown): WebUsbLibraryFault {
  const message = err instanceof Error ? err.message : String(err);
  return PATTERNS.find(([, pattern]) => pattern.test(message))?.[0] ?? 'other';
}

/** A WebUSB-style rejection: a DOMException whose `name` callers branch on. */
export function webUsbError(name: 'NotFoundError' | 'InvalidStateError' | 'NetworkError' | 'AbortError' | 'TimeoutError', message: string): DOMException {
  return new DOMException(message, name);
}

/** The WebUSB rejection for a package error of `what` (a call such as `controlTransferIn`). */
export function translateLibraryError(what: string, err: unknown): Error {
  if (err instanceof DOMException || err instanceof TypeError) return err;
  const message = err instanceof Error ? err.message : String(err);
  switch (webUsbLibraryFault(err)) {
    case 'disconnected':
      return webUsbError('NotFoundError', `${what}: the device was disconnected (${message})`);
    case 'invalid-state':
    case 'endpoint-not-found':
      return webUsbError('InvalidStateError',
        `${what}: ${message} (the usb package needs the device open, and transfers, and requests to an interface or endpoint, need a claimed interface)`);
    default:
      return webUsbError('NetworkError', `${what}: ${message}`);
  }
}
