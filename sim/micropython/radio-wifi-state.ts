/**
 * The board's Wi-Fi driver state in the interpreter's worker: which interfaces are active, their
 * MACs, 802.11 protocol sets and ESP-NOW PHY rates, the radio's channel and power-save mode. It
 * belongs to the chip, not to the VM, so it survives soft resets (micropython-host-protocols.md §2.3)
 * and is lost with the worker on a hard reset. The Python `network` module applies the firmware's
 * rules; this only stores the state and tells the medium (through `notify`) whenever what the medium
 * sees changes.
 */
import type { RadioWifiMessage } from './radio-messages.ts';

/** `network.STA_IF` / `WLAN.IF_STA`. */
export const WIFI_IF_STA = 0;
/** `network.AP_IF` / `WLAN.IF_AP`. */
export const WIFI_IF_AP = 1;
/** Interface index as the firmware numbers them (`WIFI_IF_STA`, `WIFI_IF_AP`). */
export type WifiInterface = typeof WIFI_IF_STA | typeof WIFI_IF_AP;

/** Channel the radio uses after power-on (ESP-IDF's default). */
export const DEFAULT_WIFI_CHANNEL = 1;
/** `WLAN.PM_PERFORMANCE` (WIFI_PS_MIN_MODEM), ESP-IDF's default power-save mode. */
export const DEFAULT_WIFI_PM = 1;
/**
 * ESP-IDF's default protocol bitmap on chips without 802.11ax (esp32, esp32s3): WIFI_PROTOCOL_11B |
 * 11G | 11N (`esp_wifi_set_protocol()` documentation).
 */
export const DEFAULT_WIFI_PROTOCOLS = 0x07;
/** WIFI_PROTOCOL_LR: Espressif's long-range mode (`WLAN.PROTOCOL_LR`). */
export const WIFI_PROTOCOL_LR = 0x08;
/** WIFI_PHY_RATE_1M_L (`wifi_phy_rate_t`): ESP-NOW's default rate, 1 Mbps. */
export const DEFAULT_ESPNOW_PHY_RATE = 0x00;

/** See the module note. */
export class WifiState {
  readonly #notify: (message: RadioWifiMessage) => void;
  readonly #active: [boolean, boolean] = [false, false];
  readonly #macs: [Uint8Array, Uint8Array];
  #channel = DEFAULT_WIFI_CHANNEL;
  #apChannel = DEFAULT_WIFI_CHANNEL;
  #pm = DEFAULT_WIFI_PM;
  readonly #protocols: [number, number] = [DEFAULT_WIFI_PROTOCOLS, DEFAULT_WIFI_PROTOCOLS];
  readonly #espNowRates: [number, number] = [DEFAULT_ESPNOW_PHY_RATE, DEFAULT_ESPNOW_PHY_RATE];

  /**
   * @param baseMac the factory MAC: the STA interface uses it, the AP interface the same address
   *   with the last byte plus one (ESP-IDF's universal MAC scheme).
   */
  constructor(baseMac: Uint8Array, notify: (message: RadioWifiMessage) => void) {
    this.#notify = notify;
    const ap = baseMac.slice(0, 6);
    ap[5] = ((ap[5] ?? 0) + 1) & 0xff;
    this.#macs = [baseMac.slice(0, 6), ap];
  }

  isActive(iface: WifiInterface): boolean {
    return this.#active[iface];
  }

  /** Any interface active (`esp_wifi_start()` has run). */
  started(): boolean {
    return this.#active[WIFI_IF_STA] || this.#active[WIFI_IF_AP];
  }

  /** Activates or deactivates an interface; an AP coming up moves the radio to the AP's channel. */
  setActive(iface: WifiInterface, on: boolean): void {
    if (this.#active[iface] === on) return;
    this.#active[iface] = on;
    if (on && iface === WIFI_IF_AP) this.#channel = this.#apChannel;
    this.#announce();
  }

  mac(iface: WifiInterface): Uint8Array {
    return this.#macs[iface].slice();
  }

  setMac(iface: WifiInterface, mac: Uint8Array): void {
    this.#macs[iface] = mac.slice(0, 6);
    this.#announce();
  }

  /** The radio's primary channel. */
  channel(): number {
    return this.#channel;
  }

  setChannel(channel: number): void {
    this.#channel = channel;
    this.#announce();
  }

  /** The AP's configured channel (the radio's channel while the AP is active). */
  apChannel(): number {
    return this.#apChannel;
  }

  setApChannel(channel: number): void {
    this.#apChannel = channel;
    if (this.#active[WIFI_IF_AP]) this.setChannel(channel);
  }

  pm(): number {
    return this.#pm;
  }

  setPm(mode: number): void {
    this.#pm = mode;
  }

  /** The interface's 802.11 protocol bitmap (`esp_wifi_get_protocol()`). */
  protocol(iface: WifiInterface): number {
    return this.#protocols[iface];
  }

  setProtocol(iface: WifiInterface, bitmap: number): void {
    this.#protocols[iface] = bitmap & 0xff;
    this.#announce();
  }

  /** The `wifi_phy_rate_t` ESP-NOW frames from this interface go out at (`esp_wifi_config_espnow_rate()`). */
  espNowRate(iface: WifiInterface): number {
    return this.#espNowRates[iface];
  }

  setEspNowRate(iface: WifiInterface, rate: number): void {
    this.#espNowRates[iface] = rate;
  }

  /** What the medium sees now. */
  snapshot(): RadioWifiMessage {
    const active = ([WIFI_IF_STA, WIFI_IF_AP] as const).filter((iface) => this.#active[iface]);
    return {
      type: 'radio-wifi',
      active: this.started(),
      addresses: active.map((iface) => this.#macs[iface].slice()),
      channel: this.#channel,
      longRange: active.some((iface) => (this.#protocols[iface] & WIFI_PROTOCOL_LR) !== 0),
    };
  }

  #announce(): void {
    this.#notify(this.snapshot());
  }
}
