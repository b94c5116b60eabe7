import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { releaseOnSignals, type SignalTarget } from '../../runner/lease/release-on-signals.ts';

/** A stand-in for `process`: emits signals on demand and records the ones raised again. */
class FakeProcess extends EventEmitter implements SignalTarget {
  readonly pid = 1234;
  readonly raised: Array<[number, NodeJS.Signals]> = [];
  kill(pid: number, signal: NodeJS.Signals): boolean {
    this.raised.push([pid, signal]);
    return true;
  }
}

/** Lets the helper's release chain (promise callbacks) run. */
const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('releaseOnSignals', () => {
  it('releases on a signal nobody else handles, then raises it again so the process still ends', async () => {
    const target = new FakeProcess();
    let releases = 0;
    releaseOnSignals(async () => { releases += 1; }, { target });
    target.emit('SIGHUP', 'SIGHUP');
    await settled();
    expect(releases).toBe(1);
    expect(target.raised).toEqual([[1234, 'SIGHUP']]);
    expect(target.listenerCount('SIGINT') + target.listenerCount('SIGTERM') + target.listenerCount('SIGHUP')).toBe(0);
  });

  it('releases but leaves ending the process to a program that handles the signal itself', async () => {
    const target = new FakeProcess();
    const order: string[] = [];
    // Like `hil`'s own handler: stops listening after the first signal and shuts down gracefully.
    const graceful = (): void => { order.push('graceful'); target.off('SIGINT', graceful); };
    target.on('SIGINT', graceful);
    releaseOnSignals(async () => { order.push('release'); }, { target });
    target.emit('SIGINT', 'SIGINT');
    await settled();
    expect(order).toEqual(['release', 'graceful']);
    expect(target.raised).toEqual([]);
  });

  it('uninstalls cleanly and releases only once', async () => {
    const target = new FakeProcess();
    let releases = 0;
    const uninstall = releaseOnSignals(async () => { releases += 1; }, { target, signals: ['SIGTERM'] });
    expect(target.listenerCount('SIGTERM')).toBe(1);
    uninstall();
    uninstall();
    expect(target.listenerCount('SIGTERM')).toBe(0);
    target.emit('SIGTERM', 'SIGTERM');
    await settled();
    expect(releases).toBe(0);
  });

  it('reports a failed release and still passes the signal on', async () => {
    const target = new FakeProcess();
    const errors: unknown[] = [];
    releaseOnSignals(async () => { throw new Error('store gone'); }, { target, signals: ['SIGTERM'], onError: (err) => errors.push(err) });
    target.emit('SIGTERM', 'SIGTERM');
    await settled();
    expect(errors.map((err) => (err as Error).message)).toEqual(['store gone']);
    expect(target.raised).toEqual([[1234, 'SIGTERM']]);
  });
});
