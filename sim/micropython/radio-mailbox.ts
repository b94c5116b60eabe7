/**
 * The counters ESP-NOW's send and receive callbacks keep (ports/esp32/modespnow.c: `tx_responses`,
 * `tx_failures`, `rx_packets`, `dropped_rx_pkts`). On a board those callbacks run in the Wi-Fi task;
 * here they run on the host thread (the radio medium answers there), so the counters live in a
 * SharedArrayBuffer the interpreter's worker reads. One mailbox per interpreter worker; the counters
 * only ever grow (the worker keeps its own baselines).
 */

const TX_RESPONSES = 0;
const TX_FAILURES = 1;
const RX_PACKETS = 2;
const RX_DROPPED = 3;
const WORDS = 4;

/** A snapshot of the counters. */
export interface RadioCounters {
  txResponses: number;
  txFailures: number;
  rxPackets: number;
  rxDropped: number;
}

/** Both ends of the counters; the host thread writes, the worker reads. */
export class RadioMailbox {
  /** The shared buffer (post it to the worker and {@link RadioMailbox.attach} it there). */
  readonly buffer: SharedArrayBuffer;
  readonly #words: Int32Array;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#words = new Int32Array(buffer, 0, WORDS);
  }

  static create(): RadioMailbox {
    return new RadioMailbox(new SharedArrayBuffer(WORDS * 4));
  }

  static attach(buffer: SharedArrayBuffer): RadioMailbox {
    return new RadioMailbox(buffer);
  }

  /** Host thread: one transmitted frame got its answer. */
  recordResponse(delivered: boolean): void {
    // Failures first, so a reader that sees the response also sees its failure.
    if (!delivered) Atomics.add(this.#words, TX_FAILURES, 1);
    Atomics.add(this.#words, TX_RESPONSES, 1);
  }

  /** Host thread: one received frame was buffered (`stored`) or dropped because the buffer was full. */
  recordReception(stored: boolean): void {
    Atomics.add(this.#words, stored ? RX_PACKETS : RX_DROPPED, 1);
  }

  /** Packets buffered so far: the one counter read at every safe point (no snapshot object). */
  rxPackets(): number {
    return Atomics.load(this.#words, RX_PACKETS);
  }

  counters(): RadioCounters {
    return {
      txResponses: Atomics.load(this.#words, TX_RESPONSES),
      txFailures: Atomics.load(this.#words, TX_FAILURES),
      rxPackets: Atomics.load(this.#words, RX_PACKETS),
      rxDropped: Atomics.load(this.#words, RX_DROPPED),
    };
  }
}
