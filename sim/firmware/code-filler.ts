/**
 * Deterministic filler that compresses like real firmware, so simulated images have realistic
 * flash times (esptool and esptool-js send zlib-compressed data). Measured with zlib level 9:
 * code-like content ≈ 0.61 of its size, rodata-like content less; a MicroPython-sized image built
 * from both lands at ≈ 0.55–0.65, close to what esptool reports for real MicroPython builds.
 */

/** A small, fast, seedable PRNG (mulberry32) returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Probability of repeating an earlier byte run (inlined helpers, prologues): tunes the ratio. */
const CODE_REPEAT_PROBABILITY = 0.12;

/**
 * Machine-code-like bytes: 2/3-byte "instructions" with a skewed opcode set, small register fields,
 * mixed operands and occasional repeats of earlier sequences.
 */
export function fillCodeLike(lengthBytes: number, seed: number): Uint8Array {
  const rnd = seededRandom(seed);
  const out = new Uint8Array(lengthBytes);
  const opcodes = Array.from({ length: 48 }, () => Math.floor(rnd() * 256));
  let i = 0;
  while (i < lengthBytes) {
    if (i > 64 && rnd() < CODE_REPEAT_PROBABILITY) {
      const runBytes = 4 + Math.floor(rnd() * 20);
      const distance = 1 + Math.floor(rnd() * Math.min(i - 1, 8192));
      for (let k = 0; k < runBytes && i < lengthBytes; k++, i++) out[i] = out[i - distance] ?? 0;
      continue;
    }
    out[i++] = opcodes[Math.floor(rnd() * rnd() * opcodes.length)] ?? 0;
    if (i < lengthBytes) out[i++] = (Math.floor(rnd() * 16) << 4) | Math.floor(rnd() * rnd() * 16);
    if (i < lengthBytes && rnd() < 0.6) {
      out[i++] = rnd() < 0.4 ? Math.floor(rnd() * 256) : Math.floor(rnd() * rnd() * 32);
    }
  }
  return out;
}

const SYLLABLES = ['mp', 'obj', 'str', 'qstr', 'int', 'len', 'gc', 'esp', 'wifi', 'uart', 'pin', 'irq', 'buf', 'get', 'set', 'new', 'init', 'read', 'write', 'type', 'err', 'map', 'dict', 'list', 'net', 'now', 'task', 'time', 'sys', 'call', 'fun', 'arg', 'vfs', 'fat', 'spi', 'i2c'];

/**
 * Read-only-data-like bytes: NUL-terminated identifier and message strings interleaved with
 * pointer-sized words, as in the DROM segment of a real build.
 */
export function fillRodataLike(lengthBytes: number, seed: number): Uint8Array {
  const rnd = seededRandom(seed);
  const out = new Uint8Array(lengthBytes);
  const encoder = new TextEncoder();
  let i = 0;
  while (i < lengthBytes) {
    if (rnd() < 0.35) {
      // A pointer into DROM/IROM-ish space: a few fixed high bytes, varying low bytes.
      const word = [Math.floor(rnd() * 256), Math.floor(rnd() * 64), 0x40 + Math.floor(rnd() * 4), 0x3f];
      for (const b of word) if (i < lengthBytes) out[i++] = b;
      continue;
    }
    const parts = 1 + Math.floor(rnd() * 3);
    let text = '';
    for (let p = 0; p < parts; p++) text += (p ? '_' : '') + (SYLLABLES[Math.floor(rnd() * SYLLABLES.length)] ?? 'x');
    if (rnd() < 0.2) text += ` ${Math.floor(rnd() * 10000)}`;
    for (const b of encoder.encode(text)) if (i < lengthBytes) out[i++] = b;
    if (i < lengthBytes) out[i++] = 0;
  }
  return out;
}
