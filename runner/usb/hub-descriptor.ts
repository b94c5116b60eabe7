/**
 * The USB 2.0 hub descriptor (§11.23.2.1, type 0x29): how many ports a hub has and, above all,
 * whether it can switch their power one by one — which a rig must know before it offers per-port power
 * (reference/usb-hub-power.md "Hub descriptor").
 */
import { HilError } from '../errors.ts';
import { HUB_DESCRIPTOR_TYPE } from './hub-requests.ts';

/** wHubCharacteristics bits 1:0 — `ganged`: all ports switch together; `none`: USB 1.x hubs without switching. */
export type PowerSwitchingMode = 'ganged' | 'individual' | 'none';
/** wHubCharacteristics bits 4:3 — over-current reported for the hub as a whole, per port, or not at all. */
export type OverCurrentMode = 'global' | 'individual' | 'none';

export interface HubDescriptor {
  /** bNbrPorts: downstream ports, numbered 1..ports. */
  ports: number;
  powerSwitching: PowerSwitchingMode;
  overCurrent: OverCurrentMode;
  /** The hub is part of a compound device (bit 2). */
  compound: boolean;
  /** Port indicator LEDs supported (bit 7). */
  indicators: boolean;
  /** bPwrOn2PwrGood × 2 ms: how long after power-on a port's power is good. */
  powerOnToPowerGoodMs: number;
  /** bHubContrCurrent, mA. */
  controllerCurrentMa: number;
  /** DeviceRemovable per port: `removable[port - 1]` (a cleared bit means removable). */
  removable: readonly boolean[];
}

/** Bytes before the variable-length DeviceRemovable bitmap. */
const FIXED_LENGTH = 7;
const LPSM_MASK = 0x0003;
const COMPOUND_BIT = 0x0004;
const OCPM_MASK = 0x0018;
const INDICATOR_BIT = 0x0080;

/**
 * Parses a hub descriptor as GetHubDescriptor returned it (extra bytes past bDescLength are ignored).
 * `hubPath` only labels errors.
 *
 * @throws HilError `HUB_REQUEST_FAILED` when the answer is too short, truncated, not a USB 2.0 hub
 *   descriptor (a SuperSpeed hub's 0x2A is named as such), or reports no ports — the hub answered
 *   something the rig cannot trust.
 */
export function parseHubDescriptor(data: Uint8Array, hubPath = 'hub'): HubDescriptor {
  const fail = (why: string): never => {
    throw new HilError('HUB_REQUEST_FAILED', `${hubPath}: malformed hub descriptor: ${why}`, { hubPath, descriptor: hex(data) });
  };
  if (data.length < 2) fail(`${data.length} byte(s), a hub descriptor has at least ${FIXED_LENGTH + 1}`);
  const length = data[0]!;
  const type = data[1]!;
  if (type !== HUB_DESCRIPTOR_TYPE) {
    fail(`descriptor type 0x${type.toString(16).padStart(2, '0')}, expected 0x29${type === 0x2a ? ' (0x2a is a SuperSpeed hub descriptor; switch the hub\'s USB 2.0 part)' : ''}`);
  }
  if (data.length < FIXED_LENGTH) fail(`${data.length} bytes, the fixed part alone has ${FIXED_LENGTH}`);
  const ports = data[2]!;
  if (ports === 0) fail('bNbrPorts is 0');
  // DeviceRemovable has one bit per port plus reserved bit 0, rounded up to whole bytes.
  const removableBytes = Math.ceil((ports + 1) / 8);
  const needed = FIXED_LENGTH + removableBytes;
  if (length < needed) fail(`bDescLength ${length} is too small for ${ports} ports (needs ${needed})`);
  if (data.length < needed) fail(`truncated at ${data.length} bytes, ${ports} ports need ${needed}`);

  const characteristics = data[3]! | (data[4]! << 8);
  const lpsm = characteristics & LPSM_MASK;
  const ocpm = (characteristics & OCPM_MASK) >> 3;
  const removable: boolean[] = [];
  for (let port = 1; port <= ports; port++) {
    removable.push(((data[FIXED_LENGTH + (port >> 3)]! >> (port & 7)) & 1) === 0);
  }
  return {
    ports,
    powerSwitching: lpsm === 0 ? 'ganged' : lpsm === 1 ? 'individual' : 'none',
    overCurrent: ocpm === 0 ? 'global' : ocpm === 1 ? 'individual' : 'none',
    compound: (characteristics & COMPOUND_BIT) !== 0,
    indicators: (characteristics & INDICATOR_BIT) !== 0,
    powerOnToPowerGoodMs: data[5]! * 2,
    controllerCurrentMa: data[6]!,
    removable,
  };
}

function hex(data: Uint8Array): string {
  return Array.from(data, (b) => b.toString(16).padStart(2, '0')).join(' ');
}
