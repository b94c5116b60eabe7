import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, exitCodeFor, HilError } from '../runner/errors.ts';

describe('error catalogue', () => {
  it('documents every code in the README with its exit code', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    for (const [code, { kind }] of Object.entries(ErrorCodes)) {
      const exit = kind === 'bad-input' ? 2 : 3;
      expect(readme, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${exit} \\|`));
    }
  });

  it('maps kinds to exit codes', () => {
    expect(exitCodeFor(new HilError('CONFIG_INVALID', 'x'))).toBe(2);
    expect(exitCodeFor(new HilError('TIMEOUT', 'x'))).toBe(3);
    expect(exitCodeFor(new Error('x'))).toBe(3);
  });
});
