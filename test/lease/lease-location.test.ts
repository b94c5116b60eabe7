import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { leaseDirFor } from '../../runner/lease/lease-location.ts';

describe('leaseDirFor', () => {
  it('puts a virtual bench\'s leases inside its lab state directory', () => {
    expect(leaseDirFor({ name: 'lab', stateDir: '/state/hil/lab' }, { stateHome: '/elsewhere' })).toBe('/state/hil/lab/leases');
  });

  it('puts a physical bench\'s leases under the state home, by bench name', () => {
    expect(leaseDirFor({ name: 'bench1', stateDir: undefined }, { stateHome: '/xdg/state' })).toBe('/xdg/state/hil/bench1/leases');
    expect(leaseDirFor({ name: 'bench1', stateDir: undefined })).toBe(join(homedir(), '.local', 'state', 'hil', 'bench1', 'leases'));
  });
});
