/**
 * A minimal reader/writer for the WebAssembly binary format, just enough to patch the MicroPython
 * module's memory declaration and to read one tiny function body. Follows the WebAssembly Core
 * Specification 2.0, §5 "Binary Format" (https://webassembly.github.io/spec/core/binary/).
 */

/** Section ids (spec §5.5.2). */
export const SectionId = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
} as const;

/** External kinds used in import and export entries (spec §5.5.5, §5.5.10). */
export const ExternalKind = { function: 0, table: 1, memory: 2, global: 3 } as const;

/** One top-level section: its id and its body bytes (without the id and size prefix). */
export interface WasmSection {
  id: number;
  body: Uint8Array;
}

const WASM_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** A forward-only reader of LEB128 numbers, names and bytes over one buffer. */
export class WasmReader {
  readonly bytes: Uint8Array;
  offset: number;

  constructor(bytes: Uint8Array, offset = 0) {
    this.bytes = bytes;
    this.offset = offset;
  }

  get atEnd(): boolean {
    return this.offset >= this.bytes.length;
  }

  byte(): number {
    const value = this.bytes[this.offset];
    if (value === undefined) throw new RangeError(`wasm binary truncated at offset ${this.offset}`);
    this.offset++;
    return value;
  }

  /** Unsigned LEB128 (spec §5.2.2), up to 2^53. */
  u32(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
      if (scale > 2 ** 35) throw new RangeError('LEB128 number too long');
    }
  }

  /** Signed LEB128, 32-bit (spec §5.2.2). */
  s32(): number {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      b = this.byte();
      result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80 && shift < 35);
    if (shift < 32 && b & 0x40) result |= -1 << shift;
    return result | 0;
  }

  /** A length-prefixed UTF-8 name (spec §5.2.4). */
  name(): string {
    const length = this.u32();
    const text = new TextDecoder().decode(this.bytes.subarray(this.offset, this.offset + length));
    this.offset += length;
    return text;
  }

  /** Skips a `limits` record (spec §5.3.7), returning it. */
  limits(): { flags: number; min: number; max: number | undefined } {
    const flags = this.byte();
    const min = this.u32();
    const max = flags & 0x01 ? this.u32() : undefined;
    return { flags, min, max };
  }
}

/** Encodes an unsigned LEB128 number. */
export function encodeU32(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  do {
    let b = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) b |= 0x80;
    out.push(b);
  } while (rest > 0);
  return out;
}

/** Encodes a length-prefixed UTF-8 name. */
export function encodeName(name: string): number[] {
  const bytes = new TextEncoder().encode(name);
  return [...encodeU32(bytes.length), ...bytes];
}

/** Splits a module into its sections. Throws RangeError on a non-wasm or truncated buffer. */
export function readSections(binary: Uint8Array): WasmSection[] {
  for (let i = 0; i < WASM_HEADER.length; i++) {
    if (binary[i] !== WASM_HEADER[i]) throw new RangeError('not a WebAssembly 1.0 binary');
  }
  const reader = new WasmReader(binary, WASM_HEADER.length);
  const sections: WasmSection[] = [];
  while (!reader.atEnd) {
    const id = reader.byte();
    const size = reader.u32();
    if (reader.offset + size > binary.length) throw new RangeError(`section ${id} runs past the end of the binary`);
    sections.push({ id, body: binary.subarray(reader.offset, reader.offset + size) });
    reader.offset += size;
  }
  return sections;
}

/** Joins sections back into a module binary. */
export function writeSections(sections: readonly WasmSection[]): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [Uint8Array.from(WASM_HEADER)];
  for (const section of sections) {
    parts.push(Uint8Array.from([section.id, ...encodeU32(section.body.length)]), section.body);
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The section with `id`, or undefined. */
export function findSection(sections: readonly WasmSection[], id: number): WasmSection | undefined {
  return sections.find((s) => s.id === id);
}

/** Number of imported functions (they come first in the function index space, spec §2.5.1). */
export function countImportedFunctions(sections: readonly WasmSection[]): number {
  const imports = findSection(sections, SectionId.import);
  if (imports === undefined) return 0;
  const reader = new WasmReader(imports.body);
  let functions = 0;
  const count = reader.u32();
  for (let i = 0; i < count; i++) {
    reader.name();
    reader.name();
    const kind = reader.byte();
    if (kind === ExternalKind.function) {
      functions++;
      reader.u32();
    } else if (kind === ExternalKind.table) {
      reader.byte();
      reader.limits();
    } else if (kind === ExternalKind.memory) {
      reader.limits();
    } else if (kind === ExternalKind.global) {
      reader.byte();
      reader.byte();
    } else {
      throw new RangeError(`unknown import kind ${kind}`);
    }
  }
  return functions;
}

/** The function index an export named `name` refers to, or undefined. */
export function exportedFunctionIndex(sections: readonly WasmSection[], name: string): number | undefined {
  const exports = findSection(sections, SectionId.export);
  if (exports === undefined) return undefined;
  const reader = new WasmReader(exports.body);
  const count = reader.u32();
  for (let i = 0; i < count; i++) {
    const exportName = reader.name();
    const kind = reader.byte();
    const index = reader.u32();
    if (exportName === name && kind === ExternalKind.function) return index;
  }
  return undefined;
}

/** The body (locals + expression) of the defined function with the given function index. */
export function functionBody(sections: readonly WasmSection[], functionIndex: number): Uint8Array | undefined {
  const code = findSection(sections, SectionId.code);
  if (code === undefined) return undefined;
  const definedIndex = functionIndex - countImportedFunctions(sections);
  if (definedIndex < 0) return undefined;
  const reader = new WasmReader(code.body);
  const count = reader.u32();
  if (definedIndex >= count) return undefined;
  for (let i = 0; i < definedIndex; i++) {
    const bodySize = reader.u32();
    reader.offset += bodySize;
  }
  const size = reader.u32();
  return code.body.subarray(reader.offset, reader.offset + size);
}
