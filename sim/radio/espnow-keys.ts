/**
 * ESP-NOW encryption as the medium models it. A board's key table says what it encrypts with and what
 * it can decrypt: the primary master key (PMK, `set_pmk`) and, per registered peer, a local master key
 * (LMK, `add_peer(mac, lmk)`). CCMP's key is derived from both, so a protected frame is readable only
 * when the receiver holds the same PMK and the same LMK for the sender.
 *
 * Rules (what real boards are reported to do; the MAC-layer ACK is sent by the receiver's hardware
 * before ESP-NOW looks at the frame, so none of these failures withholds the ACK):
 * - A unicast frame is protected exactly when the sender registered the destination with an LMK.
 * - A protected frame is delivered only if the receiver registered the sender with the same LMK and
 *   both hold the same PMK; otherwise it is dropped silently, yet the sender sees `send()` succeed
 *   (espressif/esp-idf#9545 and #8577, ESP8266_NONOS_SDK#114: "acknowledged but ignored"; an Espressif
 *   engineer saw a send error in one local test of #9545, so this is reported-by-users, not documented).
 * - A plaintext unicast frame from a sender the receiver registered with an LMK is dropped (ESP-IDF
 *   changed this after #8577, and ESP32 users report the check works — unverified against a datasheet).
 * - Broadcast/multicast frames cannot be protected and are always readable (espressif/esp-idf#8574).
 * - `pmk: null` stands for the firmware's built-in default PMK: two boards that never called
 *   `set_pmk` match each other, and never match a board with an explicit PMK.
 */
import { macHex } from './mac-address.ts';

/** ESP-NOW `KEY_LEN`. */
export const KEY_LENGTH = 16;

/** One registered peer as far as encryption goes. */
export interface PeerKey {
  /** The LMK this side uses with that peer, or null for an unencrypted peer. */
  lmk: Uint8Array | null;
}

/** What one board encrypts with and can decrypt. */
export interface EspNowKeys {
  /** The PMK set with `set_pmk`, or null for the firmware default. */
  pmk: Uint8Array | null;
  /** Registered peers by {@link macHex} key. Unregistered senders can only send plaintext to this board. */
  peers: ReadonlyMap<string, PeerKey>;
}

/** A board with no PMK set and no peers: what a fresh `ESPNow()` has. */
export function noKeys(): EspNowKeys {
  return { pmk: null, peers: new Map() };
}

/**
 * A validated deep copy of `keys` (the caller may keep changing its own buffers).
 * @throws RangeError on a key that is not 16 bytes or a peer key that is not a MAC hex string.
 */
export function copyKeys(keys: EspNowKeys): EspNowKeys {
  const peers = new Map<string, PeerKey>();
  for (const [mac, peer] of keys.peers) {
    if (!/^[0-9a-f]{12}$/.test(mac)) throw new RangeError(`peer key must be 12 lowercase hex digits (macHex), got ${JSON.stringify(mac)}`);
    peers.set(mac, { lmk: peer.lmk === null ? null : checkedKey(peer.lmk, `LMK of ${mac}`) });
  }
  return { pmk: keys.pmk === null ? null : checkedKey(keys.pmk, 'PMK'), peers };
}

/** How a frame is protected on air. */
export type FrameProtection = { encrypted: false } | { encrypted: true; pmk: Uint8Array | null; lmk: Uint8Array };

/** The protection the sender applies to a unicast frame to `dst`: CCMP when it holds an LMK for `dst`. */
export function protectionFor(senderKeys: EspNowKeys, dst: Uint8Array): FrameProtection {
  const lmk = senderKeys.peers.get(macHex(dst))?.lmk ?? null;
  return lmk === null ? { encrypted: false } : { encrypted: true, pmk: senderKeys.pmk, lmk };
}

/** Whether ESP-NOW on the receiver passes a frame from `srcMacHex` up to the application (rules above). */
export function receiverAccepts(protection: FrameProtection, srcMacHex: string, groupAddressed: boolean, receiverKeys: EspNowKeys): boolean {
  if (groupAddressed) return true;
  const receiverLmk = receiverKeys.peers.get(srcMacHex)?.lmk ?? null;
  if (!protection.encrypted) return receiverLmk === null;
  return receiverLmk !== null && bytesEqual(receiverLmk, protection.lmk) && pmkEqual(receiverKeys.pmk, protection.pmk);
}

function pmkEqual(a: Uint8Array | null, b: Uint8Array | null): boolean {
  return a === null || b === null ? a === b : bytesEqual(a, b);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function checkedKey(key: Uint8Array, what: string): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== KEY_LENGTH) throw new RangeError(`${what} must be ${KEY_LENGTH} bytes`);
  return key.slice();
}
