/**
 * Worker → host messages of the board's radio (part of `WorkerMessage`). They carry what the
 * board's Wi-Fi / ESP-NOW stack tells the medium; answers come back through shared memory
 * (`RadioMailbox`, `RadioReceiveRing`) and the input ring's doorbell, never by message, so they
 * reach a worker that is blocked in `Atomics.wait`.
 */

/** Wi-Fi state as the medium must see it (sent on every change). */
export interface RadioWifiMessage {
  type: 'radio-wifi';
  /** At least one interface is active. */
  active: boolean;
  /** MACs of the active interfaces, STA first. */
  addresses: Uint8Array[];
  channel: number;
  /** An active interface has Espressif's long-range mode (`WLAN.PROTOCOL_LR`) in its protocol set. */
  longRange: boolean;
}

/** ESP-NOW initialised (with its fresh receive buffer) or deinitialised. */
export type RadioEspNowMessage =
  | { type: 'radio-espnow'; active: true; ringBuffer: SharedArrayBuffer }
  | { type: 'radio-espnow'; active: false };

/** The PMK and the registered peers changed. */
export interface RadioKeysMessage {
  type: 'radio-keys';
  pmk: Uint8Array;
  /** [MAC hex, LMK or null], in registration order. */
  peers: [string, Uint8Array | null][];
}

/** One frame to transmit; its answer is counted in the mailbox. */
export interface RadioSendMessage {
  type: 'radio-send';
  src: Uint8Array;
  dst: Uint8Array;
  payload: Uint8Array;
  encrypt: boolean;
  /** `wifi_phy_rate_t` of the sending interface (`ESPNow.config(rate=…)`). */
  phyRate: number;
}

/** Every radio message of the worker. */
export type RadioWorkerMessage = RadioWifiMessage | RadioEspNowMessage | RadioKeysMessage | RadioSendMessage;

/** True for the radio's messages. */
export function isRadioWorkerMessage(message: { type: string }): message is RadioWorkerMessage {
  return message.type.startsWith('radio-');
}
