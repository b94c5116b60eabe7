/**
 * The simulated board's Python modules (`board-modules/*.py`): `machine`, `esp`, `network`,
 * `espnow`, `aioespnow`, the wrappers that replace the WebAssembly build's `time`, `gc`, `os`, `sys`,
 * `select` and `asyncio`, and the boot helpers. They are kept as readable Python files and read
 * from disk when a worker starts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { versionTuple } from './board-runtime.ts';

const MODULE_DIR = new URL('./board-modules/', import.meta.url);

/** File name → Python source of every board module. */
export function readBoardModuleSources(): Map<string, string> {
  const sources = new Map<string, string>();
  for (const name of readdirSync(MODULE_DIR).sort()) {
    if (name.endsWith('.py')) sources.set(name, readFileSync(new URL(name, MODULE_DIR), 'utf8'));
  }
  return sources;
}

/**
 * Board modules that only some firmware versions have, in import order; a module not listed for
 * the version is absent on the board (`ImportError`), as on hardware: `network` on every version;
 * `espnow` (with its native part `_espnow`) from v1.20 (micropython-host-protocols.md §7) and with
 * it `aioespnow`; the asyncio scheduler as `uasyncio` on every version and as `asyncio` from v1.21,
 * which renamed it and kept `uasyncio` as an alias. Before v1.21 the name `asyncio` stays the
 * WebAssembly build's browser variant, which has no `run()`, so programs using it fail there too.
 */
export function firmwareModuleNames(version: string): string[] {
  const [major, minor] = versionTuple(version);
  const atLeast = (wantedMinor: number): boolean => major > 1 || (major === 1 && minor >= wantedMinor);
  const asyncio = atLeast(21) ? ['asyncio', 'uasyncio'] : ['uasyncio'];
  const espNow = atLeast(20) ? ['_espnow', 'espnow', 'aioespnow'] : [];
  return ['network', ...asyncio, ...espNow];
}
