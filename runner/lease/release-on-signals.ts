/**
 * Frees leases when the process is told to stop by a signal nobody else handles. Without it a killed
 * run's boards are freed only when the next acquirer sees the process gone (same host) or the TTL runs
 * out (other hosts, Redis). Where the program already stops gracefully on a signal (`hil run` aborts
 * and releases in `finally`), that path releases and this helper stays out of the way: it then only
 * releases early, it never ends the process.
 */

/** The part of `process` the helper uses; injected so tests need not send real signals. */
export interface SignalTarget {
  readonly pid: number;
  prependListener(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  removeListener(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  listenerCount(event: NodeJS.Signals): number;
  kill(pid: number, signal: NodeJS.Signals): unknown;
}

export interface ReleaseOnSignalsOptions {
  /** Default: SIGINT, SIGTERM, SIGHUP. */
  signals?: readonly NodeJS.Signals[];
  /** Default: `process`. */
  target?: SignalTarget;
  /** Told when `release` fails (the signal is still passed on). */
  onError?: (err: unknown) => void;
}

/**
 * On the first of `signals`, removes itself, awaits `release`, and — if no other listener handled that
 * signal — raises it again, so the process ends as it would have without the helper (Node stops
 * applying a signal's default action while anyone listens). Returns a function that uninstalls it;
 * call that after releasing normally.
 */
export function releaseOnSignals(release: () => Promise<void>, options: ReleaseOnSignalsOptions = {}): () => void {
  const target = options.target ?? process;
  const signals = options.signals ?? ['SIGINT', 'SIGTERM', 'SIGHUP'];
  let installed = true;
  const uninstall = (): void => {
    if (!installed) return;
    installed = false;
    for (const signal of signals) target.removeListener(signal, onSignal);
  };
  function onSignal(signal: NodeJS.Signals): void {
    // Prepended, so this runs before other listeners can remove themselves: the count is honest.
    const handledElsewhere = target.listenerCount(signal) > 1;
    uninstall();
    void release()
      .catch((err: unknown) => options.onError?.(err))
      .finally(() => {
        if (!handledElsewhere && target.listenerCount(signal) === 0) target.kill(target.pid, signal);
      });
  }
  for (const signal of signals) target.prependListener(signal, onSignal);
  return uninstall;
}
