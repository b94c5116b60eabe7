/**
 * Received signal strength from a 2-D placement: the log-distance path-loss model
 *   RSSI = txPower − PL(d0) − 10·n·log10(d / d0)
 * with d0 = 1 m. Defaults: txPower 20 dBm (about the ESP32's maximum, which MicroPython uses by
 * default), PL(1 m) = 40 dB (free-space loss at 2.44 GHz: 20·log10(4π·1 m / 0.123 m) ≈ 40.2 dB),
 * exponent n = 3 (a typical indoor value; free space is 2). Distances under d0 count as d0.
 */

/** A board's position on the lab floor plan, in metres. */
export interface Placement {
  xM: number;
  yM: number;
}

/** Parameters of the log-distance model. */
export interface PathLossModel {
  /** Transmit power, dBm. */
  txPowerDbm: number;
  /** Path loss at the 1 m reference distance, dB. */
  referenceLossDb: number;
  /** Path-loss exponent (2 = free space, 2.7–3.5 indoors). */
  exponent: number;
}

/** The defaults described above. */
export const DEFAULT_PATH_LOSS: Readonly<PathLossModel> = Object.freeze({ txPowerDbm: 20, referenceLossDb: 40, exponent: 3 });

/** The RSSI range ESP-NOW reports (`peers_table` rssi: −127…0 dBm). */
export const MIN_RSSI_DBM = -127;
export const MAX_RSSI_DBM = 0;

/** Clamps to the reportable range and rounds to whole dBm, as the radio reports it. */
export function reportableRssi(dbm: number): number {
  return Math.round(Math.min(MAX_RSSI_DBM, Math.max(MIN_RSSI_DBM, dbm)));
}

/** RSSI in dBm (not yet rounded or clamped) at the receiver placed at `to` from a sender at `from`. */
export function rssiFromPlacement(from: Placement, to: Placement, model: PathLossModel = DEFAULT_PATH_LOSS): number {
  const distanceM = Math.max(1, Math.hypot(to.xM - from.xM, to.yM - from.yM));
  return model.txPowerDbm - model.referenceLossDb - 10 * model.exponent * Math.log10(distanceM);
}
