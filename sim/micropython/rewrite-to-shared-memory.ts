/**
 * Rewrites the MicroPython WebAssembly module so that its linear memory is an imported *shared*
 * memory instead of a memory it defines itself.
 *
 * Why: a Python busy loop (`while True: pass`) never leaves WebAssembly, so nothing on the worker's
 * JavaScript thread can interrupt it. On hardware the UART interrupt handler writes MicroPython's
 * "pending exception" slot while the VM runs and the VM notices it at its next branch. With shared
 * memory the host's thread can do exactly that (see `keyboard-interrupt-line.ts`). The instructions
 * are unchanged: plain loads and stores are valid on shared memory (WebAssembly threads proposal,
 * now part of the core spec: https://webassembly.github.io/threads/core/).
 *
 * The memory section's entry is removed and an import `env.memory` with the same limits and the
 * `shared` flag is appended to the import section. The export `memory` (memory index 0) keeps
 * working because the imported memory takes index 0.
 */
import { encodeName, encodeU32, findSection, readSections, SectionId, WasmReader, writeSections, type WasmSection } from './wasm-binary.ts';

/** Limits of the shared memory the rewritten module imports, in 64 KiB pages. */
export interface SharedMemoryLimits {
  initialPages: number;
  maximumPages: number;
}

/** Result of {@link rewriteToSharedMemory}. */
export interface SharedMemoryModule {
  binary: Uint8Array<ArrayBuffer>;
  limits: SharedMemoryLimits;
  /** Import module and field the memory must be provided under. */
  importModule: 'env';
  importName: 'memory';
}

/** Shared memories need a maximum; 2 GiB is what emscripten declares for growable heaps. */
const DEFAULT_MAXIMUM_PAGES = 32768;

/**
 * Returns the rewritten module. Throws RangeError when the module does not define exactly one
 * memory (already imported, or none).
 */
export function rewriteToSharedMemory(binary: Uint8Array): SharedMemoryModule {
  const sections = readSections(binary);
  const memory = findSection(sections, SectionId.memory);
  if (memory === undefined) throw new RangeError('module defines no memory (already imported?)');
  const reader = new WasmReader(memory.body);
  if (reader.u32() !== 1) throw new RangeError('module defines more than one memory');
  const limits = reader.limits();
  if (limits.flags & 0x02) throw new RangeError('module memory is already shared');
  const result: SharedMemoryLimits = { initialPages: limits.min, maximumPages: limits.max ?? DEFAULT_MAXIMUM_PAGES };

  // flags 0x03 = has maximum + shared (spec §5.3.7 with the threads extension).
  const importEntry = [
    ...encodeName('env'),
    ...encodeName('memory'),
    0x02,
    0x03,
    ...encodeU32(result.initialPages),
    ...encodeU32(result.maximumPages),
  ];

  const rewritten: WasmSection[] = [];
  let sawImports = false;
  for (const section of sections) {
    if (section.id === SectionId.memory) continue;
    if (section.id === SectionId.import) {
      sawImports = true;
      const importReader = new WasmReader(section.body);
      const count = importReader.u32();
      const rest = section.body.subarray(importReader.offset);
      rewritten.push({ id: SectionId.import, body: Uint8Array.from([...encodeU32(count + 1), ...rest, ...importEntry]) });
      continue;
    }
    if (!sawImports && section.id > SectionId.import && section.id !== SectionId.custom) {
      // No import section at all: insert one at its place in the section order.
      sawImports = true;
      rewritten.push({ id: SectionId.import, body: Uint8Array.from([...encodeU32(1), ...importEntry]) });
    }
    rewritten.push(section);
  }
  return { binary: writeSections(rewritten), limits: result, importModule: 'env', importName: 'memory' };
}
