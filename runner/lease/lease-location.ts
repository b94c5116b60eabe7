/**
 * Where a bench's lease directory is. Virtual bench: `<virtual lab state dir>/leases`, next to the lab
 * whose boards it guards (board ids are only meaningful inside that lab). Physical bench:
 * `<state home>/hil/<bench name>/leases` — the same place a virtual bench of that name keeps its state.
 * Every `hil` process of a user on this host that opens the bench therefore shares one directory.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Bench } from '../../hil-config/load-bench.ts';

export interface LeaseLocationOptions {
  /** Base directory for state (`$XDG_STATE_HOME`); default `~/.local/state`. Passed in: nothing here reads the environment. */
  stateHome?: string;
}

/** The lease directory of `bench` (not created here; the store creates it on first use). */
export function leaseDirFor(bench: Pick<Bench, 'name' | 'stateDir'>, options: LeaseLocationOptions = {}): string {
  if (bench.stateDir !== undefined) return join(bench.stateDir, 'leases');
  return join(options.stateHome ?? join(homedir(), '.local', 'state'), 'hil', bench.name, 'leases');
}
