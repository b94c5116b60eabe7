/**
 * The simulated board's Python modules (`board-modules/*.py`): `machine`, `esp`, the wrappers that
 * replace the WebAssembly build's `time`, `gc`, `os` and `sys`, and the boot helpers. They are kept
 * as readable Python files and read from disk when a worker starts.
 */
import { readdirSync, readFileSync } from 'node:fs';

const MODULE_DIR = new URL('./board-modules/', import.meta.url);

/** File name → Python source of every board module. */
export function readBoardModuleSources(): Map<string, string> {
  const sources = new Map<string, string>();
  for (const name of readdirSync(MODULE_DIR).sort()) {
    if (name.endsWith('.py')) sources.set(name, readFileSync(new URL(name, MODULE_DIR), 'utf8'));
  }
  return sources;
}
