/**
 * How long an ESP-NOW frame exchange occupies the 2.4 GHz channel. The medium uses this when its time
 * model is `'air-time'`; the `'instant'` model skips it (benchmarks that must not be bound by the radio).
 *
 * Frame layout (ESP-IDF ESP-NOW guide, "Frame Format"): MAC header 24 B, category 1 B, organisation
 * identifier 3 B, random value 4 B, vendor-specific element header (element id, length, OUI, type,
 * version) 7 B, body (the payload), FCS 4 B. CCMP protection adds an 8-byte CCMP header and an 8-byte
 * MIC (IEEE 802.11-2012 §11.4.3). ESP-NOW's default PHY rate is 1 Mbps (ESP-IDF ESP-NOW guide).
 *
 * PHY/MAC timing (IEEE 802.11-2012 clauses 16/17/18, 2.4 GHz): DSSS/CCK rates (1, 2, 5.5, 11 Mbps) use
 * the long PLCP preamble + header of 192 µs, a 20 µs slot, SIFS 10 µs, DIFS = SIFS + 2 slots = 50 µs;
 * OFDM rates use a 20 µs preamble + SIGNAL. An ACK is 14 bytes, sent at 1 Mbps after DSSS data and at
 * 6 Mbps after OFDM data. Each attempt is preceded by DIFS and the mean random backoff of the minimum
 * contention window (CWmin 31 → 15.5 slots). The window's doubling on retries is left out on purpose:
 * with it, a failing 250-byte send would take ~50 ms, while the only public capture we found
 * (espressif/ESP8266_NONOS_SDK#190) shows retries for about 20 ms; without it the model gives ≈ 22 ms.
 * Espressif's long-range rates (250/500 kbps) are treated like DSSS (their preamble is undocumented —
 * unverified).
 */

/** Bytes an ESP-NOW action frame adds around its payload (see the layout above). */
export const ESPNOW_FRAME_OVERHEAD_BYTES = 24 + 1 + 3 + 4 + 7 + 4;
/** Bytes CCMP adds to a protected frame: CCMP header + MIC. */
export const CCMP_OVERHEAD_BYTES = 8 + 8;
/** Length of an 802.11 ACK frame. */
export const ACK_FRAME_BYTES = 14;
/** ESP-NOW's default PHY rate. */
export const DEFAULT_PHY_RATE_MBPS = 1;

const SIFS_US = 10;
const SLOT_US = 20;
const DIFS_US = SIFS_US + 2 * SLOT_US;
const MEAN_BACKOFF_US = (31 / 2) * SLOT_US;
const DSSS_PREAMBLE_US = 192;
const OFDM_PREAMBLE_US = 20;
const DSSS_RATES_MBPS = new Set([1, 2, 5.5, 11]);

/** True for rates sent with the DSSS/CCK PHY (and the long-range rates, see above). */
function isDsssRate(rateMbps: number): boolean {
  return DSSS_RATES_MBPS.has(rateMbps) || rateMbps < 1;
}

/** Microseconds a frame of `frameBytes` takes on air at `rateMbps`, preamble included. */
export function frameAirTimeUs(frameBytes: number, rateMbps: number): number {
  return (isDsssRate(rateMbps) ? DSSS_PREAMBLE_US : OFDM_PREAMBLE_US) + (frameBytes * 8) / rateMbps;
}

/** Bytes on air for an ESP-NOW frame carrying `payloadBytes`. */
export function espNowFrameBytes(payloadBytes: number, encrypted: boolean): number {
  return payloadBytes + ESPNOW_FRAME_OVERHEAD_BYTES + (encrypted ? CCMP_OVERHEAD_BYTES : 0);
}

/** Timing of one transmission attempt of an ESP-NOW frame, in microseconds from the attempt's start. */
export interface AttemptTiming {
  /** When the last bit of the data frame has reached the receiver (access delay + data). */
  dataArrivalUs: number;
  /**
   * The whole attempt: for unicast, until the ACK has arrived or the sender stops waiting for it
   * (modelled as the same length); for group-addressed frames, the data frame alone.
   */
  attemptUs: number;
}

/**
 * The timing of one attempt to send `payloadBytes` at `rateMbps`.
 * @param expectsAck unicast frames wait SIFS + ACK after the data; broadcast/multicast do not.
 */
export function attemptTiming(payloadBytes: number, encrypted: boolean, rateMbps: number, expectsAck: boolean): AttemptTiming {
  const dataArrivalUs = DIFS_US + MEAN_BACKOFF_US + frameAirTimeUs(espNowFrameBytes(payloadBytes, encrypted), rateMbps);
  if (!expectsAck) return { dataArrivalUs, attemptUs: dataArrivalUs };
  const ackRateMbps = isDsssRate(rateMbps) ? 1 : 6;
  return { dataArrivalUs, attemptUs: dataArrivalUs + SIFS_US + frameAirTimeUs(ACK_FRAME_BYTES, ackRateMbps) };
}
