/**
 * USB 2.0 hub class facts the simulated hub answers with (USB 2.0 specification chapter 11; see
 * reference/usb-hub-power.md): request codes, feature selectors, status bits, and the hub descriptor.
 */

/** Standard request codes reused by the hub class (USB 2.0 Table 9-4 / 11-16). */
export const HubRequest = {
  GET_STATUS: 0,
  CLEAR_FEATURE: 1,
  SET_FEATURE: 3,
  GET_DESCRIPTOR: 6,
} as const;

/** Descriptor type of a USB 2.0 hub descriptor (§11.23.2.1). */
export const HUB_DESCRIPTOR_TYPE = 0x29;

/** Hub feature selectors (USB 2.0 Table 11-17). */
export const HubFeature = {
  C_HUB_LOCAL_POWER: 0,
  C_HUB_OVER_CURRENT: 1,
} as const;

/** Port feature selectors (USB 2.0 Table 11-17). */
export const PortFeature = {
  PORT_CONNECTION: 0,
  PORT_ENABLE: 1,
  PORT_SUSPEND: 2,
  PORT_OVER_CURRENT: 3,
  PORT_RESET: 4,
  PORT_POWER: 8,
  PORT_LOW_SPEED: 9,
  C_PORT_CONNECTION: 16,
  C_PORT_ENABLE: 17,
  C_PORT_SUSPEND: 18,
  C_PORT_OVER_CURRENT: 19,
  C_PORT_RESET: 20,
  PORT_TEST: 21,
  PORT_INDICATOR: 22,
} as const;

/** wPortStatus bits (USB 2.0 Table 11-21). */
export const PortStatusBit = {
  CONNECTION: 1 << 0,
  ENABLE: 1 << 1,
  SUSPEND: 1 << 2,
  OVER_CURRENT: 1 << 3,
  RESET: 1 << 4,
  POWER: 1 << 8,
  LOW_SPEED: 1 << 9,
  HIGH_SPEED: 1 << 10,
} as const;

/** wPortChange bits (USB 2.0 Table 11-22): the change feature selector minus 16. */
export const PortChangeBit = {
  C_CONNECTION: 1 << 0,
  C_ENABLE: 1 << 1,
  C_SUSPEND: 1 << 2,
  C_OVER_CURRENT: 1 << 3,
  C_RESET: 1 << 4,
} as const;

/**
 * How a hub switches port power, as wHubCharacteristics bits 1:0 say: `ganged` (00) all ports
 * together, `individual` (01) port by port, `none` (10) not at all (ports always powered).
 */
export type PowerSwitching = 'individual' | 'ganged' | 'none';

/** What goes into the hub descriptor. */
export interface HubDescriptorFields {
  /** Downstream ports, 1..15 (the simulated hub keeps DeviceRemovable to what fits its ports). */
  ports: number;
  powerSwitching: PowerSwitching;
  /** Power-on to power-good time; encoded in 2 ms units, rounded up, at most 510 ms. */
  powerOnToPowerGoodMs: number;
  /** Current the hub controller draws, mA (bHubContrCurrent). */
  controllerCurrentMa: number;
}

const SWITCHING_BITS: Readonly<Record<PowerSwitching, number>> = { ganged: 0b00, individual: 0b01, none: 0b10 };

/**
 * The USB 2.0 hub descriptor (§11.23.2.1): bDescLength, 0x29, bNbrPorts, wHubCharacteristics (LE),
 * bPwrOn2PwrGood, bHubContrCurrent, DeviceRemovable (one bit per port, bit 0 reserved; all ports
 * removable → zeros), PortPwrCtrlMask (legacy, all ones). Over-current reporting (bits 4:3) follows
 * the switching: per port on an individually switched hub, global otherwise. No compound device,
 * TT think time 8 FS bit times, no port indicators.
 */
export function hubDescriptor(fields: HubDescriptorFields): Uint8Array {
  const bitmapBytes = Math.ceil((fields.ports + 1) / 8);
  const bytes = new Uint8Array(7 + 2 * bitmapBytes);
  const overCurrentBits = fields.powerSwitching === 'individual' ? 0b01 : 0b00;
  const characteristics = SWITCHING_BITS[fields.powerSwitching] | (overCurrentBits << 3);
  bytes[0] = bytes.length;
  bytes[1] = HUB_DESCRIPTOR_TYPE;
  bytes[2] = fields.ports;
  bytes[3] = characteristics & 0xff;
  bytes[4] = characteristics >> 8;
  bytes[5] = Math.min(255, Math.ceil(fields.powerOnToPowerGoodMs / 2));
  bytes[6] = fields.controllerCurrentMa;
  bytes.fill(0xff, 7 + bitmapBytes);
  return bytes;
}
