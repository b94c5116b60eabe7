/**
 * The PHY side of a board's radio that {@link BoardRadioPort} leaves out: the rate each ESP-NOW frame
 * goes out at (`ESPNow.config(rate=…)`, ESP-IDF `esp_wifi_config_espnow_rate()`) and whether the board
 * listens for Espressif's long-range frames (`WLAN.config(protocol=…)` with `WLAN.PROTOCOL_LR`).
 *
 * A port opts in by implementing {@link RadioPhyControl}; frames always carry their rate as
 * {@link RatedTransmission}, which ports without PHY control simply ignore (every frame then counts as
 * sent at 1 Mbps and heard by every listening board).
 */
import type { BoardRadioPort, RadioTransmission } from './board-radio-port.ts';

/** A frame with the `wifi_phy_rate_t` of the interface that sends it. */
export interface RatedTransmission extends RadioTransmission {
  phyRate: number;
}

/** Optional capability of a {@link BoardRadioPort}. */
export interface RadioPhyControl {
  /** The board hears long-range frames (an active interface has `WLAN.PROTOCOL_LR`); default off. */
  setLongRange(on: boolean): void;
}

/** WIFI_PHY_RATE_1M_L: what a frame without a rate was sent at (ESP-NOW's default). */
const DEFAULT_PHY_RATE = 0x00;

/** The `wifi_phy_rate_t` a transmission was sent at. */
export function transmissionPhyRate(frame: RadioTransmission): number {
  const rate = (frame as Partial<RatedTransmission>).phyRate;
  return typeof rate === 'number' ? rate : DEFAULT_PHY_RATE;
}

/** True when the port takes PHY settings. */
export function hasPhyControl(port: BoardRadioPort): port is BoardRadioPort & RadioPhyControl {
  return typeof (port as Partial<RadioPhyControl>).setLongRange === 'function';
}
