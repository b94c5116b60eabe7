/**
 * The board end of a simulated serial port (the UART behind a CP2104 bridge, or the S3's USB CDC), as
 * seen by whatever serves it to hosts — the RFC 2217 server. One host may be attached at a time.
 */
export interface SimSerialPort {
  /** Board id this port belongs to, for messages. */
  readonly boardId: string;
  /** Current UART baud rate (bits per second). */
  readonly baudRate: number;

  /** Bytes from the host to the board, in order. */
  receiveFromHost(data: Uint8Array): void;

  /** Subscribes to bytes from the board to the host (already paced at the wire rate). Returns unsubscribe. */
  onTransmit(listener: (chunk: Uint8Array) => void): () => void;

  /** Applies a host baud-rate change (RFC 2217 SET_BAUDRATE). */
  setBaudRate(baudRate: number): void;

  /**
   * Applies the host's modem lines (logical: true = asserted). On boards with an auto-reset circuit
   * DTR/RTS drive EN and GPIO0 (reference §8.1); redundant writes are ignored by the board.
   */
  setModemLines(lines: { dtr: boolean; rts: boolean }): void;

  /** Drops board → host bytes not yet sent (RFC 2217 PURGE_DATA, receive side of the host). */
  purgeTransmit(): void;

  /** Tells the board whether a host holds the port open (TinyUSB CDC only delivers output while DTR/open). */
  setHostAttached(attached: boolean): void;
}
