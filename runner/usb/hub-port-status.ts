/**
 * GetPortStatus's answer, wPortStatus and wPortChange (USB 2.0 §11.24.2.7, Tables 11-21 and 11-22),
 * as named booleans. The power bit is how the rig checks that a power switch took effect.
 * SuperSpeed hubs use another layout (USB 3.x Table 10-10) and are not parsed here.
 */
import { HilError } from '../errors.ts';
import { PORT_STATUS_LENGTH } from './hub-requests.ts';

export interface HubPortStatus {
  connected: boolean;
  enabled: boolean;
  suspended: boolean;
  overCurrent: boolean;
  resetting: boolean;
  /** PORT_POWER: the hub's power switch for this port is on (not proof that VBUS is, see uhubctl's caveats). */
  powered: boolean;
  lowSpeed: boolean;
  highSpeed: boolean;
  testMode: boolean;
  /** Port indicator under software control. */
  indicatorControl: boolean;
  /** wPortChange: which of the states above changed since the host last cleared them. */
  changed: { connection: boolean; enable: boolean; suspend: boolean; overCurrent: boolean; reset: boolean };
  /** The two words as received, for logs. */
  raw: { portStatus: number; portChange: number };
}

const bit = (word: number, n: number): boolean => ((word >> n) & 1) === 1;

/**
 * Parses the 4 bytes of GetPortStatus (little-endian wPortStatus, wPortChange).
 * @throws HilError `HUB_REQUEST_FAILED` when fewer than 4 bytes came back.
 */
export function parsePortStatus(data: Uint8Array, where = 'hub port'): HubPortStatus {
  if (data.length < PORT_STATUS_LENGTH) {
    throw new HilError('HUB_REQUEST_FAILED', `${where}: GetPortStatus answered ${data.length} byte(s), expected ${PORT_STATUS_LENGTH}`);
  }
  const status = data[0]! | (data[1]! << 8);
  const change = data[2]! | (data[3]! << 8);
  return {
    connected: bit(status, 0),
    enabled: bit(status, 1),
    suspended: bit(status, 2),
    overCurrent: bit(status, 3),
    resetting: bit(status, 4),
    powered: bit(status, 8),
    lowSpeed: bit(status, 9),
    highSpeed: bit(status, 10),
    testMode: bit(status, 11),
    indicatorControl: bit(status, 12),
    changed: { connection: bit(change, 0), enable: bit(change, 1), suspend: bit(change, 2), overCurrent: bit(change, 3), reset: bit(change, 4) },
    raw: { portStatus: status, portChange: change },
  };
}
