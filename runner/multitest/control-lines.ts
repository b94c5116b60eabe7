/**
 * Reading the lines an instance prints: which are control lines of the multitest protocol, which are
 * known noise, and which show that the board rebooted
 * (/work/shared/reference/micropython-host-protocols.md §1.2, §6.4, §6.6).
 */

/**
 * Substrings of lines that ports print on their own and that run-multitests.py drops in both phases
 * (its `IGNORE_OUTPUT_MATCHES`): libusb/btstack noise of the unix port, an ESP-IDF Bluetooth warning
 * (espressif/esp-idf#5105) and ESP8266 debug output.
 */
export const IGNORED_OUTPUT = [
  'libusb: error ',
  'hci_transport_h2_libusb.c',
  'USB Path: ',
  'hci_number_completed_packet',
  'lld_pdu_get_tx_flush_nb HCI packet count mismatch (',
  ' ets_task(',
] as const;

/** True for a line the protocol drops as port noise. */
export function isIgnoredOutput(line: string): boolean {
  return IGNORED_OUTPUT.some((noise) => line.includes(noise));
}

/** The friendly banner a booting MicroPython prints; the pattern run-multitests.py waits for (§1.2). */
export const BOOT_BANNER = /^MicroPython v\d+\.\d+\.\d+.* on .*; .* with .*$/;

/**
 * Lines that only appear when the chip or the VM restarts: the friendly banner, the soft-reset notice,
 * the raw REPL banner, and the ESP32 ROM's first lines (`ets Jun  8 2016 00:22:57`,
 * `ESP-ROM:esp32s3-20210327`, `rst:0xc (SW_CPU_RESET),boot:0x13 (…)`).
 */
const REBOOT_MARKERS: readonly RegExp[] = [
  BOOT_BANNER,
  /^MPY: soft reboot$/,
  /^raw REPL; CTRL-B to exit$/,
  /^ets [A-Z][a-z]{2} [ \d]\d \d{4}/,
  /^ESP-ROM:/,
  /^rst:0x[0-9a-f]+ \(/,
];

/** True when `line` shows that the board restarted. */
export function isRebootMarker(line: string): boolean {
  return REBOOT_MARKERS.some((marker) => marker.test(line));
}

/** A `WAIT_FOR_REBOOT <resume> <delay_ms>` line (printed by `multitest.expect_reboot`). */
export interface RebootRequest {
  /** The function to call after the reboot, e.g. `instance0_resume`. */
  resume: string;
  /** How much longer than usual the reboot may take, in milliseconds. */
  delayMs: number;
}

/** Parses a `WAIT_FOR_REBOOT` line; undefined when it is malformed. */
export function parseRebootRequest(line: string): RebootRequest | undefined {
  const match = /^WAIT_FOR_REBOOT (\S+) (\S+)$/.exec(line);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  const delayMs = Number(match[2]);
  if (!Number.isFinite(delayMs) || delayMs < 0) return undefined;
  return { resume: match[1], delayMs };
}

/** The data of an `OUTPUT_METRIC <data>` line: everything after the first space. */
export function metricData(line: string): string {
  return line.slice(line.indexOf(' ') + 1);
}
