/**
 * What a simulated board's Wi-Fi / ESP-NOW stack asks of the shared 2.4 GHz medium, and how the
 * medium hands it frames. One port per board; the lab implements it on top of its radio medium and
 * passes it to the board's MicroPython host (`MicroPythonHostOptions.radio`).
 *
 * All calls come from the host's (main) thread. The state setters describe the board as the medium
 * must see it; they are called whenever that state changes (and once with everything off when an
 * interpreter starts or stops), and may repeat a value. The medium decides, from this state alone:
 * - acknowledgement of a unicast frame: the destination's radio is on, on the sender's channel, and
 *   one of its {@link BoardRadioPort.setAddresses addresses} is the frame's destination — ESP-NOW need
 *   not be running there (micropython-host-protocols.md §7.3);
 * - delivery to the board: as for acknowledgement (or a broadcast/multicast destination), ESP-NOW is
 *   active, and, for an encrypted frame, the receiver registered the sender with the same LMK and
 *   both use the same PMK (§7.5). A delivered frame the board cannot buffer is still acknowledged.
 */

/** One ESP-NOW frame the board transmits. */
export interface RadioTransmission {
  /** Sender: the MAC of the interface the peer is registered on (STA or AP), 6 bytes. */
  src: Uint8Array;
  /** Destination MAC, 6 bytes; `ff:ff:ff:ff:ff:ff` or another group address for broadcast/multicast. */
  dst: Uint8Array;
  /** 1–250 bytes. */
  payload: Uint8Array;
  /** Encrypted with the peer's LMK (and the sender's PMK). */
  encrypt: boolean;
}

/** One ESP-NOW frame the medium hands to the board. */
export interface RadioReception {
  /** Sender MAC, 6 bytes. */
  src: Uint8Array;
  payload: Uint8Array;
  /** Received signal strength, dBm (−127…0). */
  rssi: number;
}

/** Result of {@link BoardRadioPort.send}. */
export interface RadioSendResult {
  /** The destination acknowledged the frame at the MAC layer (ignored for group destinations). */
  acked: boolean;
}

/** The board's side of the radio medium (see the module note). */
export interface BoardRadioPort {
  /** Radio on (at least one Wi-Fi interface active) or off: off, the board neither acknowledges nor receives. */
  setWifiActive(on: boolean): void;
  /** Primary channel, 1–14 (kept while the radio is off). */
  setChannel(channel: number): void;
  /** Unicast addresses the board answers to: the MACs of its active interfaces (STA first, then AP), 6 bytes each. */
  setAddresses(addresses: readonly Uint8Array[]): void;
  /** ESP-NOW initialised on the board (`ESPNow().active(True)`): only then are frames delivered to it. */
  setEspNowActive(on: boolean): void;
  /**
   * Keys for encrypted frames: the board's primary master key (16 bytes) and its registered peers,
   * keyed by lower-case MAC hex (`"aabbccddeeff"`), each with its 16-byte LMK or null (unencrypted peer).
   */
  setKeys(pmk: Uint8Array, peers: ReadonlyMap<string, Uint8Array | null>): void;
  /**
   * Transmits one frame on the current channel. Resolves once the medium knows whether the
   * destination acknowledged it (for group destinations the result is not used: ESP-NOW always
   * reports success). A rejection counts as "not acknowledged".
   */
  send(frame: RadioTransmission): Promise<RadioSendResult>;
  /**
   * Registers the board's receiver, called for every frame delivered to the board (the moment of the
   * call is the moment of reception). Returns unsubscribe. The host registers while its interpreter runs.
   */
  onReceive(receiver: (frame: RadioReception) => void): () => void;
}
