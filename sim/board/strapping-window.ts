/**
 * EN / GPIO0 strapping with a window, not edge sampling (reference esptool-protocol.md §8.3): after
 * EN rises, the chip boots into download mode if GPIO0 was low at any moment within the window (at
 * once, when it is seen low), otherwise from flash when the window has passed. A window is needed because esptool.py over RFC 2217 changes DTR and RTS in
 * separate, acknowledged requests ≥ 50 ms apart, so GPIO0 goes low only after EN was released.
 */
import type { BoardClock, TimerHandle } from './board-clock.ts';
import type { BootMode, ChipResetCause } from './boot-rom.ts';
import type { ChipPins } from './reset-circuits.ts';

/** Default window; 200 ms lets all three clients connect over RFC 2217 (§8.3, §14). */
export const DEFAULT_STRAPPING_WINDOW_MS = 200;

/** Callbacks of {@link StrappingWindow}. */
export interface StrappingWindowEvents {
  /** EN went low: the chip is held in reset from now on. */
  onResetAsserted(cause: ChipResetCause): void;
  /** The window after EN rose has closed: boot in `mode`, with the cause of the last reset. */
  onWindowClosed(mode: BootMode, cause: ChipResetCause): void;
}

/** The EN/GPIO0 state machine of one chip. */
export class StrappingWindow {
  readonly #clock: BoardClock;
  readonly #windowMs: number;
  readonly #events: StrappingWindowEvents;
  #enLow = false;
  #io0Low = false;
  #sawIo0Low = false;
  #cause: ChipResetCause = 'power-on';
  #generation = 0;
  #timer: TimerHandle | null = null;

  constructor(clock: BoardClock, windowMs: number, events: StrappingWindowEvents) {
    if (!(windowMs >= 0)) throw new RangeError(`strapping window must be ≥ 0 ms, got ${windowMs}`);
    this.#clock = clock;
    this.#windowMs = windowMs;
    this.#events = events;
  }

  /** True while EN is held low. */
  get inReset(): boolean {
    return this.#enLow;
  }

  /** Power came up with these pins: start a window unless EN is held low. */
  powerOn(pins: ChipPins): void {
    this.cancel();
    this.#cause = 'power-on';
    this.#enLow = pins.enLow;
    this.#io0Low = pins.io0Low;
    if (!pins.enLow) this.#release(pins.io0Low);
  }

  /**
   * Applies the pins after a line change. `cause` is what a reset asserted by this change is
   * reported as (EN: power-on; USB-Serial-JTAG: its own reset reason).
   */
  apply(pins: ChipPins, cause: ChipResetCause): void {
    const wasLow = this.#enLow;
    this.#io0Low = pins.io0Low;
    if (pins.enLow && !wasLow) {
      this.#assert(cause);
    } else if (!pins.enLow && wasLow) {
      this.#release(pins.io0Low);
    } else if (!pins.enLow && pins.io0Low) {
      this.#sawIo0Low = true;
      // GPIO0 low inside an open window decides the outcome: no need to wait for the window's end.
      if (this.#timer !== null) this.#schedule(0);
    }
  }

  /**
   * A momentary EN pulse (reset button, lab control) with GPIO0 at `io0Low`: no effect while EN is
   * held low by the lines.
   */
  pulse(cause: ChipResetCause, io0Low: boolean): void {
    if (this.#enLow) return;
    this.#assert(cause);
    this.#io0Low = io0Low;
    this.#release(io0Low);
  }

  /** Forgets any pending window (power off). */
  cancel(): void {
    this.#generation++;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#enLow = false;
    this.#sawIo0Low = false;
  }

  #assert(cause: ChipResetCause): void {
    this.#generation++;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#enLow = true;
    this.#cause = cause;
    this.#events.onResetAsserted(cause);
  }

  #release(io0Low: boolean): void {
    this.#enLow = false;
    this.#generation++;
    this.#sawIo0Low = io0Low;
    // Download mode is certain as soon as GPIO0 is seen low; a normal boot only once the window passed
    // without it (the chip itself samples right after EN rises; the window is for clients whose line
    // changes arrive one by one, ≥ 50 ms apart over RFC 2217).
    this.#schedule(io0Low ? 0 : this.#windowMs);
  }

  #schedule(delayMs: number): void {
    const generation = this.#generation;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(() => this.#close(generation), delayMs);
  }

  #close(generation: number): void {
    if (generation !== this.#generation || this.#enLow) return;
    this.#timer = null;
    const mode: BootMode = this.#sawIo0Low || this.#io0Low ? 'download' : 'normal';
    this.#sawIo0Low = false;
    this.#events.onWindowClosed(mode, this.#cause);
  }
}
