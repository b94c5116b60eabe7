/**
 * `_board_hw.radio`: the functions through which the Python `network` and `_espnow` modules reach
 * the board's Wi-Fi state and its ESP-NOW endpoint. Runs in the interpreter's worker; the firmware's
 * rules (argument checks, error codes) live in the Python modules, this layer only moves data.
 *
 * Bytes cross the JavaScript/Python boundary as lower-case hex text (the WebAssembly build passes
 * Python `bytes` to JavaScript as opaque proxies).
 */
import type { EspNowEndpoint } from './radio-espnow-endpoint.ts';
import { wallClockMs } from './radio-receive-ring.ts';
import type { WifiInterface, WifiState } from './radio-wifi-state.ts';

/** The board's radio in the worker; survives soft resets (the worker resets ESP-NOW in between). */
export interface BoardRadio {
  wifi: WifiState;
  espnow: EspNowEndpoint;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));
const iface = (value: number): WifiInterface => (value === 1 ? 1 : 0);

/** A received packet as Python sees it. */
interface PythonPacket {
  src_hex: string;
  msg_hex: string;
  rssi: number;
  /** Milliseconds since the packet arrived. */
  age_ms: number;
}

/**
 * Builds the `radio` object of `_board_hw`.
 * @param beforeBlock runs before the worker blocks (flush console output, persist files)
 */
export function createRadioModule(radio: BoardRadio, beforeBlock: () => void): Record<string, unknown> {
  const { wifi, espnow } = radio;
  return {
    wifi_active: (which: number) => wifi.isActive(iface(which)),
    wifi_set_active: (which: number, on: boolean) => wifi.setActive(iface(which), on),
    wifi_started: () => wifi.started(),
    wifi_mac_hex: (which: number) => hex(wifi.mac(iface(which))),
    wifi_set_mac_hex: (which: number, mac: string) => wifi.setMac(iface(which), bytes(mac)),
    wifi_channel: () => wifi.channel(),
    wifi_set_channel: (channel: number) => wifi.setChannel(channel),
    wifi_ap_channel: () => wifi.apChannel(),
    wifi_set_ap_channel: (channel: number) => wifi.setApChannel(channel),
    wifi_pm: () => wifi.pm(),
    wifi_set_pm: (mode: number) => wifi.setPm(mode),
    wifi_protocol: (which: number) => wifi.protocol(iface(which)),
    wifi_set_protocol: (which: number, bitmap: number) => wifi.setProtocol(iface(which), bitmap),
    wifi_set_espnow_rate: (which: number, rate: number) => wifi.setEspNowRate(iface(which), rate),

    espnow_active: () => espnow.isActive(),
    espnow_init: (rxbufBytes: number) => espnow.init(rxbufBytes),
    espnow_deinit: () => espnow.deinit(),
    // peers: "mac_hex:lmk_hex" items joined by ",", lmk empty for an unencrypted peer.
    espnow_set_keys: (pmk: string, peers: string) =>
      espnow.setKeys(
        bytes(pmk),
        peers === '' ? [] : peers.split(',').map((item): [string, Uint8Array | null] => {
          const [mac = '', lmk = ''] = item.split(':');
          return [mac, lmk === '' ? null : bytes(lmk)];
        }),
      ),
    // The frame leaves from interface `which` (the peer's ifidx): its MAC and ESP-NOW rate.
    espnow_send: (which: number, dst: string, msg: string, encrypt: boolean) =>
      espnow.send(wifi.mac(iface(which)), bytes(dst), bytes(msg), encrypt, wifi.espNowRate(iface(which))),
    espnow_stats: () => {
      const s = espnow.stats();
      return `${s.txPackets},${s.txResponses},${s.txFailures},${s.rxPackets},${s.rxDropped}`;
    },
    espnow_failures: () => espnow.stats().txFailures,
    espnow_wait_responses: (ms: number) => espnow.waitUntil(() => !espnow.responsesPending(), ms, beforeBlock),
    espnow_any: () => espnow.hasPacket(),
    espnow_wait_packet: (ms: number) => espnow.waitUntil(() => espnow.hasPacket(), ms, beforeBlock),
    espnow_take: (): PythonPacket | null => {
      const packet = espnow.take();
      if (packet === null) return null;
      return { src_hex: hex(packet.src), msg_hex: hex(packet.payload), rssi: packet.rssi, age_ms: (wallClockMs() - packet.arrivalMs) >>> 0 };
    },
    espnow_set_irq: (handler: (() => void) | null) => espnow.setIrqHandler(typeof handler === 'function' ? handler : null),
    espnow_poll_irq: () => espnow.dispatchIrq(),
    espnow_irq_take: () => espnow.takeIrqCallbacks(),
  };
}
