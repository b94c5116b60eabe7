/**
 * What {@link validateConfiguration} reports: problems a host meets in a device's descriptors, each
 * with how bad it is, so the rig (and the simulated host) can make enumeration fail visibly.
 */

/**
 * - `refuse`: breaks a USB 2.0 chapter 9 (or IAD ECN) rule a host relies on to configure the device;
 *   the rig treats the device as not enumerable. Lenient hosts (Linux) enumerate some of these with a
 *   kernel warning and skip the broken part, which only hides the fault.
 * - `driver`: the device enumerates, but the class driver (usbhid, cdc-acm, usbser) will not bind the
 *   interface, so e.g. the serial port never appears.
 * - `warning`: off-spec, but common hosts accept or silently fix it (Linux clamps packet sizes).
 */
export type ProblemSeverity = 'refuse' | 'driver' | 'warning';

/** Stable problem codes; branch on these, never on the message. */
export type UsbProblemCode =
  // device descriptor
  | 'device-max-packet-size0'
  | 'device-no-configurations'
  // configuration descriptor
  | 'configuration-value-zero'
  | 'configuration-attributes-reserved'
  | 'configuration-power-over-limit'
  | 'num-interfaces-mismatch'
  | 'no-interfaces'
  // interfaces
  | 'interface-number-gap'
  | 'duplicate-interface'
  | 'missing-default-alternate'
  | 'alternate-gap'
  // endpoints
  | 'endpoint-count-mismatch'
  | 'endpoint-zero'
  | 'endpoint-address-reserved-bits'
  | 'endpoint-attributes-reserved-bits'
  | 'duplicate-endpoint'
  | 'endpoint-conflict'
  | 'max-packet-size-zero'
  | 'max-packet-size'
  | 'additional-transactions'
  | 'interval'
  | 'transfer-type-speed'
  // interface associations
  | 'iad-empty'
  | 'iad-past-interfaces'
  | 'iad-overlap'
  | 'iad-misplaced'
  | 'iad-function-class-zero'
  | 'iad-device-class'
  // class drivers
  | 'class-descriptor-malformed'
  | 'hid-descriptor-missing'
  | 'hid-report-descriptor-missing'
  | 'hid-interrupt-in-missing'
  | 'cdc-union-missing'
  | 'cdc-union-interface-missing'
  | 'cdc-call-management-interface-missing'
  | 'cdc-notification-endpoint-missing'
  | 'cdc-data-endpoints-missing';

/** One problem, located in the descriptor bytes. */
export interface UsbConfigurationProblem {
  code: UsbProblemCode;
  severity: ProblemSeverity;
  /** Which descriptor buffer `offset` points into. */
  descriptor: 'device' | 'configuration';
  /** Byte offset of the descriptor concerned within that buffer. */
  offset: number;
  /** One line for a person: what is wrong and where (interface, endpoint, IAD). */
  message: string;
}

/** The problems a host refuses to enumerate a device for (severity `refuse`). */
export function refusals(problems: readonly UsbConfigurationProblem[]): UsbConfigurationProblem[] {
  return problems.filter((problem) => problem.severity === 'refuse');
}

/** Where the validators put what they find (one sink per validation run). */
export type ProblemSink = (code: UsbProblemCode, severity: ProblemSeverity, offset: number, message: string) => void;

/** `interface 2 alt 0`: how messages name an alternate setting. */
export function alternateLabel(alternate: { interfaceNumber: number; alternateSetting: number }): string {
  return `interface ${alternate.interfaceNumber} alt ${alternate.alternateSetting}`;
}
