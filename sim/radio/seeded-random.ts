/**
 * A small seedable pseudo-random source for the medium's loss draws, so a lab run with the same seed,
 * the same clock and the same sends loses the same frames (tests depend on this). Marsaglia's
 * xorshift32: statistically modest but plenty for Bernoulli loss draws, and four lines.
 */
export class SeededRandom {
  #state: number;

  /** @param seed any integer; 0 is remapped because xorshift has a fixed point there. */
  constructor(seed: number) {
    // Scramble the seed once (a multiplicative hash) so nearby seeds do not start with nearby states.
    const mixed = Math.imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
    this.#state = mixed === 0 ? 0x6d2b79f5 : mixed;
  }

  /** The next number in [0, 1). */
  next(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state / 0x1_0000_0000;
  }

  /**
   * True with probability `p` (0–1). Certain outcomes (p ≤ 0 or p ≥ 1) draw nothing, so switching a
   * lossless link on or off does not shift the sequence every other link sees.
   */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.next() < p;
  }
}
