/**
 * IN transfers whose caller stopped waiting. A WebUSB transfer cannot be cancelled: one given up on
 * (a deadline passed, an HTTP client went away) stays queued at the endpoint and takes the next data
 * the device sends. Starting another transfer behind it would lose that data to nobody, so the next
 * read of the same endpoint adopts the abandoned transfer instead — the bytes arrive exactly once, in
 * order. An abandoned transfer that fails (the interface was released, the device went) is dropped:
 * there is nothing to hand on.
 */
export class AbandonedInTransfers<T> {
  /** Per endpoint number, oldest first. */
  readonly #byEndpoint = new Map<number, Promise<T>[]>();

  /**
   * The oldest abandoned transfer on `endpointNumber` (whatever length it asked for), else a new one
   * from `start`.
   */
  take(endpointNumber: number, start: () => Promise<T>): Promise<T> {
    const queue = this.#byEndpoint.get(endpointNumber);
    const adopted = queue?.shift();
    if (queue !== undefined && queue.length === 0) this.#byEndpoint.delete(endpointNumber);
    return adopted ?? start();
  }

  /** `transfer`'s caller stopped waiting: the next {@link take} on `endpointNumber` gets its result. */
  abandon(endpointNumber: number, transfer: Promise<T>): void {
    const queue = this.#byEndpoint.get(endpointNumber) ?? [];
    queue.push(transfer);
    this.#byEndpoint.set(endpointNumber, queue);
    transfer.catch(() => this.#drop(endpointNumber, transfer));
  }

  /** How many abandoned transfers wait on `endpointNumber`. */
  count(endpointNumber: number): number {
    return this.#byEndpoint.get(endpointNumber)?.length ?? 0;
  }

  /** Forgets every abandoned transfer (the device was closed: they end with it). */
  clear(): void {
    this.#byEndpoint.clear();
  }

  #drop(endpointNumber: number, transfer: Promise<T>): void {
    const queue = this.#byEndpoint.get(endpointNumber);
    if (queue === undefined) return;
    const at = queue.indexOf(transfer);
    if (at >= 0) queue.splice(at, 1);
    if (queue.length === 0) this.#byEndpoint.delete(endpointNumber);
  }
}
