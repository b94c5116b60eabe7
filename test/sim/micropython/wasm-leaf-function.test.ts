/**
 * The WebAssembly pieces behind the host-thread keyboard interrupt: the shared-memory rewrite of the
 * MicroPython module and the leaf-function runner (sim/micropython/rewrite-to-shared-memory.ts,
 * wasm-leaf-function.ts), on hand-made bodies and on MicroPython's own functions.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { rewriteToSharedMemory } from '../../../sim/micropython/rewrite-to-shared-memory.ts';
import { WasmLeafFunction } from '../../../sim/micropython/wasm-leaf-function.ts';
import { WasmInterpreterLoader } from '../../../sim/micropython/wasm-interpreter.ts';

const memory = () => new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });

describe('leaf function runner', () => {
  it('runs loads, stores and a conditional block against shared memory', () => {
    // store 7 at [16]; if (load16_u [20] == 1) store16 0 at [20]; return load [16] + 1
    const body = Uint8Array.of(
      0x00,
      0x41, 0x10, 0x41, 0x07, 0x36, 0x02, 0x00,
      0x02, 0x40,
      0x41, 0x00, 0x2f, 0x01, 0x14, 0x41, 0x01, 0x47, 0x0d, 0x00,
      0x41, 0x00, 0x41, 0x00, 0x3b, 0x01, 0x14,
      0x0b,
      0x41, 0x00, 0x28, 0x02, 0x10, 0x41, 0x01, 0x6a,
      0x0b,
    );
    const fn = WasmLeafFunction.compile(body);
    const mem = memory();
    const view = new DataView(mem.buffer);
    view.setUint16(20, 1, true);
    view.setUint16(22, 0xabcd, true);
    expect(fn.run(mem)).toBe(8);
    expect(view.getInt32(16, true)).toBe(7);
    expect(view.getUint16(20, true)).toBe(0);
    expect(view.getUint16(22, true)).toBe(0xabcd);
    view.setUint16(20, 5, true);
    fn.run(mem);
    expect(view.getUint16(20, true)).toBe(5);
  });

  it('refuses bodies with locals or instructions outside its subset', () => {
    expect(() => WasmLeafFunction.compile(Uint8Array.of(0x01, 0x01, 0x7f, 0x0b))).toThrow(/locals/);
    expect(() => WasmLeafFunction.compile(Uint8Array.of(0x00, 0x10, 0x00, 0x0b))).toThrow(/opcode 0x10/);
  });
});

describe('MicroPython module rewrite', () => {
  const wasmPath = createRequire(import.meta.url).resolve('@micropython/micropython-webassembly-pyscript/micropython.wasm');

  it('imports a shared memory with the original limits and still validates', () => {
    const original = new Uint8Array(readFileSync(wasmPath));
    const { binary, limits } = rewriteToSharedMemory(original);
    expect(limits.initialPages).toBeGreaterThan(0);
    expect(limits.maximumPages).toBeGreaterThanOrEqual(limits.initialPages);
    const module = new WebAssembly.Module(binary);
    expect(WebAssembly.Module.imports(module)).toContainEqual({ module: 'env', name: 'memory', kind: 'memory' });
    expect(WebAssembly.Module.exports(module)).toContainEqual({ name: 'memory', kind: 'memory' });
    expect(() => rewriteToSharedMemory(binary)).toThrow(RangeError);
  });

  it('runs the real interrupt functions from another thread\'s point of view', async () => {
    const loader = new WasmInterpreterLoader();
    const vm = await loader.load({ heapBytes: 256 * 1024, stdout: () => {} });
    const bodies = await loader.interruptFunctionBodies();
    const getChar = WasmLeafFunction.compile(bodies.getInterruptChar);
    const schedule = WasmLeafFunction.compile(bodies.scheduleKeyboardInterrupt);
    expect(getChar.run(vm.memory)).toBe(vm.interruptChar());
    vm.runPython('import micropython\nmicropython.kbd_intr(3)');
    expect(getChar.run(vm.memory)).toBe(3);
    schedule.run(vm.memory);
    expect(() => vm.runPython('for _ in (1, 2):\n    pass')).toThrow(/KeyboardInterrupt/);
    vm.runPython('micropython.kbd_intr(-1)');
    expect(getChar.run(vm.memory)).toBe(-1);
  });
});
