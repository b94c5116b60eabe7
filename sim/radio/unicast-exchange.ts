/**
 * The outcome of one unicast frame under 802.11 MAC retries, decided by loss draws. Each attempt sends
 * the data frame; if it arrives, the receiver's hardware ACKs it; if the ACK arrives too, the exchange
 * succeeds. A lost ACK makes the sender retry although the data got through: the receiver then discards
 * the duplicate by its sequence number (802.11 duplicate detection), so the application sees it once,
 * while the sender may still end up reporting failure. With per-frame loss p both ways and n attempts,
 * failure ≈ (1 − (1 − p)²)ⁿ, i.e. ≈ (2p)ⁿ for small p.
 */
import type { SeededRandom } from './seeded-random.ts';

/**
 * Retries after the first attempt. 802.11's default short retry limit (dot11ShortRetryLimit) is 7
 * transmission attempts; ESP-IDF hard-codes its own value and offers no API for it
 * (espressif/esp-idf#1872, #9383), so 7 attempts is an assumption — unverified for ESP-NOW.
 */
export const DEFAULT_UNICAST_RETRIES = 6;

/** What the exchange depends on, evaluated when the frame goes on air. */
export interface UnicastExchangeInput {
  /** 1 + retries. */
  maxAttempts: number;
  /** The destination listens (exists, Wi-Fi active, same channel), is in range and the sender is not muted. */
  dataCanArrive: boolean;
  /** Chance, 0–1, that one data frame is lost. */
  dataLossProbability: number;
  /** The destination can answer (not muted) and its ACK is in range of the sender. */
  ackCanArrive: boolean;
  /** Chance, 0–1, that one ACK is lost. */
  ackLossProbability: number;
}

/** How the exchange went. */
export interface UnicastExchangeOutcome {
  /** Attempts made (1 … maxAttempts). */
  attempts: number;
  /** The attempt (1-based) whose data frame first reached the receiver, or null if none did. */
  firstArrivalAttempt: number | null;
  /** The sender heard an ACK. */
  acked: boolean;
}

/** Runs the attempts, drawing only the losses that are not certain. */
export function runUnicastExchange(input: UnicastExchangeInput, random: SeededRandom): UnicastExchangeOutcome {
  let firstArrivalAttempt: number | null = null;
  for (let attempt = 1; attempt <= input.maxAttempts; attempt++) {
    if (!input.dataCanArrive || random.chance(input.dataLossProbability)) continue;
    firstArrivalAttempt ??= attempt;
    if (input.ackCanArrive && !random.chance(input.ackLossProbability)) return { attempts: attempt, firstArrivalAttempt, acked: true };
  }
  return { attempts: input.maxAttempts, firstArrivalAttempt, acked: false };
}
