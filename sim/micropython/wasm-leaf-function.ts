/**
 * Runs a tiny WebAssembly *leaf* function — no parameters, no locals, no calls — against a shared
 * linear memory from another thread. The simulator uses it to execute MicroPython's own
 * `mp_hal_get_interrupt_char` and `mp_sched_keyboard_interrupt` on the host's thread while the
 * interpreter keeps running on its worker, exactly as the UART interrupt handler of a real board does
 * (ports/esp32/uart.c calls `mp_sched_keyboard_interrupt()` when the interrupt character arrives).
 *
 * Only the handful of opcodes such functions compile to are accepted (constants, 32/16/8-bit loads
 * and stores, add/sub, comparisons, `block`/`br_if`/`br`/`end`/`return`); anything else is rejected
 * when the function is compiled, never at run time. Opcode numbers: WebAssembly Core Specification
 * 2.0, §5.4 "Instructions" (https://webassembly.github.io/spec/core/binary/instructions.html).
 */
import { WasmReader } from './wasm-binary.ts';

type Instruction =
  | { op: 'const'; value: number }
  | { op: 'load'; bits: 8 | 16 | 32; signed: boolean; offset: number }
  | { op: 'store'; bits: 8 | 16 | 32; offset: number }
  | { op: 'binary'; fn: (a: number, b: number) => number }
  | { op: 'eqz' }
  | { op: 'block' }
  | { op: 'end' }
  | { op: 'br'; depth: number; conditional: boolean }
  | { op: 'return' };

const BINARY_OPS: Readonly<Record<number, (a: number, b: number) => number>> = {
  0x46: (a, b) => (a === b ? 1 : 0), // i32.eq
  0x47: (a, b) => (a !== b ? 1 : 0), // i32.ne
  0x6a: (a, b) => (a + b) | 0, // i32.add
  0x6b: (a, b) => (a - b) | 0, // i32.sub
  0x71: (a, b) => a & b, // i32.and
  0x72: (a, b) => a | b, // i32.or
};

const LOADS: Readonly<Record<number, { bits: 8 | 16 | 32; signed: boolean }>> = {
  0x28: { bits: 32, signed: true }, // i32.load
  0x2c: { bits: 8, signed: true }, // i32.load8_s
  0x2d: { bits: 8, signed: false }, // i32.load8_u
  0x2e: { bits: 16, signed: true }, // i32.load16_s
  0x2f: { bits: 16, signed: false }, // i32.load16_u
};

const STORES: Readonly<Record<number, 8 | 16 | 32>> = { 0x36: 32, 0x3a: 8, 0x3b: 16 };

interface MemoryViews {
  buffer: ArrayBufferLike;
  i32: Int32Array;
  i16: Int16Array;
  u16: Uint16Array;
  i8: Int8Array;
  u8: Uint8Array;
}

/** A compiled leaf function. */
export class WasmLeafFunction {
  readonly #code: readonly Instruction[];
  /** For each `block` index, the index of its matching `end`. */
  readonly #blockEnds: ReadonlyMap<number, number>;
  /** Views of the last memory buffer used (the host thread runs this for every received byte). */
  #views: MemoryViews | null = null;

  private constructor(code: Instruction[], blockEnds: Map<number, number>) {
    this.#code = code;
    this.#blockEnds = blockEnds;
  }

  /**
   * Compiles a function body (as found in the code section: locals vector, then the expression).
   * Throws RangeError when the body declares locals or uses an unsupported instruction.
   */
  static compile(body: Uint8Array): WasmLeafFunction {
    const reader = new WasmReader(body);
    if (reader.u32() !== 0) throw new RangeError('leaf function declares locals');
    const code: Instruction[] = [];
    const open: number[] = [];
    const blockEnds = new Map<number, number>();
    let depth = 1; // the function body itself is the outermost block
    while (depth > 0) {
      const opcode = reader.byte();
      const load = LOADS[opcode];
      const storeBits = STORES[opcode];
      const binary = BINARY_OPS[opcode];
      if (opcode === 0x41) {
        code.push({ op: 'const', value: reader.s32() });
      } else if (load !== undefined) {
        reader.u32(); // alignment hint
        code.push({ op: 'load', ...load, offset: reader.u32() });
      } else if (storeBits !== undefined) {
        reader.u32();
        code.push({ op: 'store', bits: storeBits, offset: reader.u32() });
      } else if (binary !== undefined) {
        code.push({ op: 'binary', fn: binary });
      } else if (opcode === 0x45) {
        code.push({ op: 'eqz' });
      } else if (opcode === 0x02) {
        if (reader.byte() !== 0x40) throw new RangeError('only empty block types are supported');
        open.push(code.length);
        code.push({ op: 'block' });
        depth++;
      } else if (opcode === 0x0b) {
        depth--;
        const start = open.pop();
        if (start !== undefined) blockEnds.set(start, code.length);
        code.push({ op: 'end' });
      } else if (opcode === 0x0c || opcode === 0x0d) {
        code.push({ op: 'br', depth: reader.u32(), conditional: opcode === 0x0d });
      } else if (opcode === 0x0f) {
        code.push({ op: 'return' });
      } else {
        throw new RangeError(`unsupported opcode 0x${opcode.toString(16)} in leaf function`);
      }
    }
    return new WasmLeafFunction(code, blockEnds);
  }

  /**
   * Executes the function on `memory` with atomic accesses (so the worker's non-atomic loads see the
   * stores). Returns the value left on the stack (the function's i32 result), or undefined.
   */
  run(memory: WebAssembly.Memory): number | undefined {
    const { i32, i16, u16, i8, u8 } = this.#viewsOf(memory);
    const stack: number[] = [];
    const blocks: number[] = [];
    const pop = (): number => {
      const value = stack.pop();
      if (value === undefined) throw new RangeError('leaf function stack underflow');
      return value;
    };
    const branch = (depthIndex: number): number | 'return' => {
      // Branching to a block label continues after its `end`; the outermost label is the function.
      const target = blocks[blocks.length - 1 - depthIndex];
      if (target === undefined) return 'return';
      blocks.length = blocks.length - 1 - depthIndex;
      return this.#blockEnds.get(target) ?? this.#code.length;
    };
    let pc = 0;
    while (pc < this.#code.length) {
      const ins = this.#code[pc];
      if (ins === undefined) break;
      pc++;
      switch (ins.op) {
        case 'const':
          stack.push(ins.value);
          break;
        case 'load': {
          const address = (pop() >>> 0) + ins.offset;
          if (ins.bits === 32) stack.push(Atomics.load(i32, address >> 2));
          else if (ins.bits === 16) stack.push(ins.signed ? Atomics.load(i16, address >> 1) : Atomics.load(u16, address >> 1));
          else stack.push(ins.signed ? Atomics.load(i8, address) : Atomics.load(u8, address));
          break;
        }
        case 'store': {
          const value = pop();
          const address = (pop() >>> 0) + ins.offset;
          if (ins.bits === 32) Atomics.store(i32, address >> 2, value);
          else if (ins.bits === 16) Atomics.store(i16, address >> 1, value);
          else Atomics.store(i8, address, value);
          break;
        }
        case 'binary': {
          const b = pop();
          const a = pop();
          stack.push(ins.fn(a, b));
          break;
        }
        case 'eqz':
          stack.push(pop() === 0 ? 1 : 0);
          break;
        case 'block':
          blocks.push(pc - 1);
          break;
        case 'end':
          blocks.pop();
          break;
        case 'br': {
          if (ins.conditional && pop() === 0) break;
          const next = branch(ins.depth);
          if (next === 'return') return stack.pop();
          pc = next + 1;
          break;
        }
        case 'return':
          return stack.pop();
      }
    }
    return stack.pop();
  }

  #viewsOf(memory: WebAssembly.Memory): MemoryViews {
    const buffer = memory.buffer; // a new object only after the memory grew
    if (this.#views?.buffer !== buffer) {
      this.#views = { buffer, i32: new Int32Array(buffer), i16: new Int16Array(buffer), u16: new Uint16Array(buffer), i8: new Int8Array(buffer), u8: new Uint8Array(buffer) };
    }
    return this.#views;
  }
}
