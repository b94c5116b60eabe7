import { it } from 'vitest';
import { readFileSync } from 'node:fs';
import { HostHarness } from '../micropython/host-harness.ts';
it('probe', async () => {
  const { harness } = await HostHarness.boot();
  await harness.enterRawRepl();
  const code = readFileSync('/tmp/probe/code.py', 'utf8');
  const r = await harness.execRaw(code);
  console.log('STDOUT:\n' + r.stdout + '\nSTDERR:\n' + r.stderr);
  await harness.stop();
}, 60000);
