/**
 * How late the host's timers fire for the radio medium: the medium delivers each frame with a
 * {@link TrackedTimers} timer on the system clock at its modelled time (air time + link latency), so
 * every delivery on a round trip's critical path arrives that much after the model. Measured here with
 * the medium's own timer class and clock, for the ESP-NOW benchmark's "where the time goes".
 */
import { systemClock } from '../../sim/board/board-clock.ts';
import { TrackedTimers } from '../../sim/radio/tracked-timers.ts';

/** Lateness in ms of `samples` timers, each due `delayMs` after it is set, one after another. */
export async function timerLatenessMs(delayMs: number, samples: number): Promise<number[]> {
  const timers = new TrackedTimers(systemClock);
  const lateness: number[] = [];
  for (let i = 0; i < samples; i++) {
    const dueMs = systemClock.now() + delayMs;
    await new Promise<void>((resolve) => timers.at(dueMs, () => {
      lateness.push(systemClock.now() - dueMs);
      resolve();
    }));
  }
  return lateness;
}
