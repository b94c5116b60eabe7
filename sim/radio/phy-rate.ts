/**
 * ESP-IDF's `wifi_phy_rate_t` codes (components/esp_wifi/include/esp_wifi_types_generic.h), which
 * `ESPNow.config(rate=…)` passes to `esp_wifi_config_espnow_rate()` and MicroPython's `espnow.RATE_*`
 * constants name (micropython-host-protocols.md §7.2), as the data rates the medium times frames with.
 *
 * Codes 0x00–0x0F are the 802.11b/g rates (long- and short-preamble 802.11b variants have the same data
 * rate), 0x10–0x17 and 0x18–0x1F the 802.11n HT20 MCS 0–7 rates with long and short guard interval,
 * 0x29/0x2A Espressif's long-range rates. Codes that are not in the table have no known rate.
 */

/** Data rate in Mbps by `wifi_phy_rate_t`. */
const RATE_MBPS: ReadonlyMap<number, number> = new Map([
  [0x00, 1], // WIFI_PHY_RATE_1M_L
  [0x01, 2], // WIFI_PHY_RATE_2M_L
  [0x02, 5.5], // WIFI_PHY_RATE_5M_L
  [0x03, 11], // WIFI_PHY_RATE_11M_L
  [0x05, 2], // WIFI_PHY_RATE_2M_S
  [0x06, 5.5], // WIFI_PHY_RATE_5M_S
  [0x07, 11], // WIFI_PHY_RATE_11M_S
  [0x08, 48], // WIFI_PHY_RATE_48M
  [0x09, 24], // WIFI_PHY_RATE_24M
  [0x0a, 12], // WIFI_PHY_RATE_12M
  [0x0b, 6], // WIFI_PHY_RATE_6M
  [0x0c, 54], // WIFI_PHY_RATE_54M
  [0x0d, 36], // WIFI_PHY_RATE_36M
  [0x0e, 18], // WIFI_PHY_RATE_18M
  [0x0f, 9], // WIFI_PHY_RATE_9M
  ...[6.5, 13, 19.5, 26, 39, 52, 58.5, 65].map((mbps, mcs): [number, number] => [0x10 + mcs, mbps]), // MCSn_LGI
  ...[7.2, 14.4, 21.7, 28.9, 43.3, 57.8, 65, 72.2].map((mbps, mcs): [number, number] => [0x18 + mcs, mbps]), // MCSn_SGI
  [0x29, 0.25], // WIFI_PHY_RATE_LORA_250K
  [0x2a, 0.5], // WIFI_PHY_RATE_LORA_500K
]);

/** The data rate of a `wifi_phy_rate_t` in Mbps, or undefined for a code without a known rate. */
export function phyRateMbps(code: number): number | undefined {
  return RATE_MBPS.get(code);
}

/**
 * True for Espressif's long-range rates: the only rates below 1 Mbps (802.11's lowest is 1 Mbps).
 * Only radios with long-range mode enabled can receive such frames (ESP-IDF Wi-Fi guide, "Long Range").
 */
export function isLongRangeRate(rateMbps: number): boolean {
  return rateMbps < 1;
}
