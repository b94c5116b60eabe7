/**
 * A serial link that follows a board across USB re-enumerations: when the underlying link vanishes
 * (a native-USB ESP32-S3 leaves the bus when reset into its ROM bootloader, and again when reset back
 * into its firmware) it opens the board's serial port again — found by port path, see
 * board-link-reopener.ts — and carries on. For code that cannot be told about reconnections, such as
 * esptool-js's connect loop: writes made while the board is away wait for it (until the reopen
 * deadline), reads simply resume with the new port's bytes, and the baud rate is applied again.
 * Modem lines are not replayed: on a native-USB board they are the reset circuit, and a new port
 * starts from the host driver's defaults, as it does on hardware.
 *
 * `onGone` fires only when the board does not come back in time.
 */
import { HilError, isHilError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { LinkListeners } from './link-listeners.ts';
import type { SerialLink } from './serial-link.ts';

/** Opens the board's port again; rejects when it does not come back in time. */
export type LinkReopen = () => Promise<SerialLink>;

export class FollowingLink implements SerialLink {
  readonly #listeners = new LinkListeners();
  readonly #reopen: LinkReopen;
  readonly #logger: Logger | undefined;
  #inner: SerialLink;
  #unsubscribe: (() => void)[] = [];
  /** Set while the board is away: resolves with the new link (or rejects when it is not back in time). */
  #reopening: Promise<SerialLink> | null = null;
  #baudRate: number;
  #closed = false;
  #gone = false;
  /** How many times the board was followed to a new port. */
  reopenCount = 0;

  constructor(inner: SerialLink, reopen: LinkReopen, logger?: Logger) {
    this.#inner = inner;
    this.#reopen = reopen;
    this.#logger = logger;
    this.#baudRate = inner.baudRate;
    this.#attach(inner);
  }

  get url(): string {
    return this.#inner.url;
  }

  get baudRate(): number {
    return this.#baudRate;
  }

  get isOpen(): boolean {
    return !this.#closed && !this.#gone;
  }

  get signals(): { readonly dtr: boolean; readonly rts: boolean } {
    return this.#inner.signals;
  }

  write(data: Uint8Array): Promise<void> {
    return this.#onCurrent((link) => link.write(data));
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.#listeners.onData(listener);
  }

  onGone(listener: (err: Error) => void): () => void {
    return this.#listeners.onGone(listener);
  }

  setSignals(signals: { dtr?: boolean; rts?: boolean }): Promise<void> {
    return this.#onCurrent((link) => link.setSignals(signals));
  }

  setBaudRate(baudRate: number): Promise<void> {
    this.#baudRate = baudRate;
    return this.#onCurrent((link) => link.setBaudRate(baudRate));
  }

  purgeInput(): Promise<void> {
    return this.#onCurrent((link) => link.purgeInput());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#detach();
    const reopening = this.#reopening;
    this.#listeners.dispose();
    await this.#inner.close();
    // A port opened after close() was called is closed too.
    if (reopening !== null) await reopening.then((link) => link.close(), () => undefined);
  }

  /**
   * Runs `operation` on the current link. An operation may notice the vanished port before the link's
   * gone event does: then the board is followed and the operation repeated on its new port.
   */
  async #onCurrent(operation: (link: SerialLink) => Promise<void>): Promise<void> {
    const link = await this.#current();
    try {
      await operation(link);
    } catch (err: unknown) {
      if (this.#closed || !isHilError(err, 'LINK_GONE')) throw err;
      this.#follow(err as Error);
      const next = await this.#current();
      if (next === link) throw err;
      await operation(next);
    }
  }

  /** The link to use now: waits while the board is away. */
  async #current(): Promise<SerialLink> {
    if (this.#closed || this.#gone) throw new HilError('LINK_GONE', `${this.url}: link ${this.#closed ? 'closed' : 'gone'}`, { portPath: this.url });
    return this.#reopening ?? this.#inner;
  }

  #attach(link: SerialLink): void {
    this.#unsubscribe = [
      link.onData((chunk) => this.#listeners.data.emit(chunk)),
      link.onGone((err) => this.#follow(err)),
    ];
  }

  #detach(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe = [];
  }

  #follow(cause: Error): void {
    if (this.#closed || this.#gone || this.#reopening !== null) return;
    this.#detach();
    this.#logger?.info({ url: this.#inner.url, reason: cause.message }, 'serial port vanished; following the board to its new port');
    const reopening = (async (): Promise<SerialLink> => {
      const link = await this.#reopen();
      if (this.#closed) {
        await link.close();
        throw new HilError('LINK_GONE', `${link.url}: link closed`, { portPath: link.url });
      }
      if (link.baudRate !== this.#baudRate) await link.setBaudRate(this.#baudRate);
      return link;
    })();
    this.#reopening = reopening;
    reopening.then((link) => {
      if (this.#closed) return;
      this.#inner = link;
      this.#reopening = null;
      this.reopenCount++;
      this.#attach(link);
    }, (err: unknown) => {
      this.#reopening = null;
      if (this.#closed) return;
      this.#gone = true;
      this.#listeners.emitGone(err instanceof Error ? err : new Error(String(err)));
    });
  }
}
