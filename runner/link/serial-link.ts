/**
 * A byte stream to one board's serial console, with modem lines and baud rate. Implemented by
 * `Rfc2217Link` (network and virtual-lab boards) and `SerialportLink` (local ttys). Everything above
 * this interface (REPL client, flasher, suites) is the same code for real and simulated boards.
 */
export interface SerialLink {
  /** Where this link goes, e.g. `rfc2217://127.0.0.1:40001` or `/dev/ttyUSB0`. */
  readonly url: string;
  /** Current baud rate in bits per second. */
  readonly baudRate: number;
  /** False once closed or gone. */
  readonly isOpen: boolean;

  /**
   * Sends bytes to the board. Resolves when handed to the OS/socket (not when the board has read them).
   * Rejects with `LINK_GONE` when the link is closed or vanished.
   */
  write(data: Uint8Array): Promise<void>;

  /** Subscribes to bytes from the board, in order. Returns the unsubscribe function. */
  onData(listener: (chunk: Uint8Array) => void): () => void;

  /**
   * Subscribes to the link vanishing (socket closed by the peer, tty unplugged). Not called for
   * {@link close}. Returns the unsubscribe function.
   */
  onGone(listener: (err: Error) => void): () => void;

  /**
   * Sets DTR and/or RTS (logical: true = asserted). The link remembers both lines and always applies
   * both together, so setting one never changes the other (see the serialport `set()` pitfall).
   * Resolves once the remote end acknowledged (RFC 2217) or the ioctl returned (tty).
   */
  setSignals(signals: { dtr?: boolean; rts?: boolean }): Promise<void>;

  /** The remembered modem-line state. */
  readonly signals: { readonly dtr: boolean; readonly rts: boolean };

  /** Changes the baud rate without closing the link. Resolves once applied. */
  setBaudRate(baudRate: number): Promise<void>;

  /** Drops bytes received but not yet delivered (best effort; RFC 2217 PURGE_DATA on the server side). */
  purgeInput(): Promise<void>;

  /** Closes the link. Idempotent. */
  close(): Promise<void>;
}

/** Options common to every way of opening a link. */
export interface OpenLinkOptions {
  /** Initial baud rate; default 115200. */
  baudRate?: number;
  /** Give up opening after this long; default 5000 ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
}
