import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAppBundle } from '../../runner/deploy/app-bundle.ts';
import { deployApp, MANIFEST_PATH } from '../../runner/deploy/app-deployer.ts';
import { openRfc2217Link } from '../../runner/link/rfc2217-link.ts';
import type { SerialLink } from '../../runner/link/serial-link.ts';
import { MicroPythonRepl } from '../../runner/repl/micropython-repl.ts';
import { SimLab } from '../../sim/sim-lab.ts';

const work = mkdtempSync(join(tmpdir(), 'hil-app-'));
let lab: SimLab;
let link: SerialLink;
let repl: MicroPythonRepl;

function bundleDir(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

beforeAll(async () => {
  lab = await SimLab.start({
    boards: [{ id: 'e1', chip: 'esp32', portPath: '1-1.1', flashSizeBytes: 4 * 2 ** 20, psramBytes: 0, usb: 'uart-bridge', mac: '24:0a:c4:00:00:09' }],
    stateDir: undefined, stockFirmwareVersion: 'v1.24.1', speedFactor: 0,
  });
  link = await openRfc2217Link(lab.boards[0]!.url);
  repl = new MicroPythonRepl(link, { boardId: 'e1' });
  await repl.enterRawRepl();
});
afterAll(async () => {
  await link?.close();
  await lab?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('application bundles', () => {
  it('reads folders and zips, and refuses paths that escape the bundle root', () => {
    const dir = bundleDir('plain', { 'main.py': 'print(1)\n', 'lib/util.py': 'X = 1\n' });
    expect(loadAppBundle(dir).files.map((f) => f.boardPath)).toEqual(['/lib/util.py', '/main.py']);
    const zip = join(work, 'app.zip');
    writeFileSync(zip, zipSync({ 'main.py': new TextEncoder().encode('print(2)\n'), 'lib/': new Uint8Array() }));
    expect(loadAppBundle(zip).files).toMatchObject([{ boardPath: '/main.py', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    const evil = join(work, 'evil.zip');
    writeFileSync(evil, zipSync({ '../evil.py': new TextEncoder().encode('x') }));
    expect(() => loadAppBundle(evil)).toThrow(expect.objectContaining({ code: 'APP_BUNDLE_INVALID', message: expect.stringMatching(/"\.\.\/evil\.py" escapes the bundle root/) }));
    const linked = bundleDir('linked', { 'main.py': 'x' });
    symlinkSync('/etc', join(linked, 'etc'));
    expect(() => loadAppBundle(linked)).toThrow(/symlink etc escapes the bundle root/);
    expect(() => loadAppBundle(join(work, 'nope'))).toThrow(/does not exist/);
    expect(() => loadAppBundle(join(work, 'app.zip.txt'))).toThrow(/does not exist/);
    writeFileSync(join(work, 'notzip.tar'), 'x');
    expect(() => loadAppBundle(join(work, 'notzip.tar'))).toThrow(/neither a folder nor a \.zip/);
    mkdirSync(join(work, 'empty'));
    expect(() => loadAppBundle(join(work, 'empty'))).toThrow(/contains no files/);
  });
});

describe('deploying an application onto a simulated board', () => {
  it('writes only what changed, verifies by hash, deletes removed files, and main.py runs after a reset', async () => {
    const v1 = loadAppBundle(bundleDir('v1', { 'main.py': 'print("app v1 running")\n', 'lib/util.py': 'VALUE = 1\n', 'extra.py': 'E = 1\n' }));
    const first = await deployApp(repl, v1, { boardId: 'e1' });
    expect(first).toMatchObject({ written: ['/extra.py', '/lib/util.py', '/main.py'], unchanged: [], deleted: [] });
    expect(new TextDecoder().decode(await repl.getFile('/lib/util.py'))).toBe('VALUE = 1\n');

    const again = await deployApp(repl, v1, { boardId: 'e1' });
    expect(again).toMatchObject({ written: [], unchanged: ['/extra.py', '/lib/util.py', '/main.py'], bytesWritten: 0 });

    const v2 = loadAppBundle(bundleDir('v2', { 'main.py': 'print("app v2 running")\n', 'lib/util.py': 'VALUE = 1\n' }));
    const second = await deployApp(repl, v2, { boardId: 'e1' });
    expect(second).toMatchObject({ written: ['/main.py'], unchanged: ['/lib/util.py'], deleted: ['/extra.py'] });
    const names = (await repl.listDir('/')).map((entry) => entry.name);
    expect(names).toEqual(expect.arrayContaining(['boot.py', 'main.py', 'lib', MANIFEST_PATH.slice(1)]));
    expect(names).not.toContain('extra.py');

    await repl.execNoFollow('import machine\nmachine.reset()');
    expect(await repl.waitForBoot({ timeoutMs: 15_000 })).toContain('app v2 running');
    await repl.enterRawRepl();
  });

  it('refuses a bundle larger than the board filesystem before writing anything', async () => {
    const big = loadAppBundle(bundleDir('big', { 'main.py': 'print("never")\n', 'data.bin': 'x'.repeat(4 * 1024 * 1024) }));
    await expect(deployApp(repl, big, { boardId: 'e1' })).rejects.toMatchObject({ code: 'APP_TOO_LARGE', kind: 'bad-input' });
    expect(new TextDecoder().decode(await repl.getFile('/main.py'))).toBe('print("app v2 running")\n');
    expect((await repl.listDir('/')).map((entry) => entry.name)).not.toContain('data.bin');
  });
});
