/**
 * Keeps two virtual labs from using the same flash files at once: a lock file holding the owner's pid,
 * taken atomically; a lock left by a process that no longer exists is taken over.
 */
import { processExists } from '../runner/process-exists.ts';
import { openSync, readFileSync, rmSync, writeSync, closeSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { HilError } from '../runner/errors.ts';

export class StateDirLock {
  private released = false;

  private constructor(private readonly path: string, readonly dir: string) {}

  /** Takes the lock on `dir` or throws `SIM_START` naming the process that holds it. */
  static acquire(dir: string): StateDirLock {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'lab.lock');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return new StateDirLock(path, dir);
      } catch (err: unknown) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
        if (Number.isInteger(owner) && processExists(owner)) {
          throw new HilError('SIM_START', `the virtual lab in ${dir} is already running in process ${owner} ` +
            '(stop that `hil sim`/`hil run`, or give this bench another virtual.stateDir)', { file: path });
        }
        rmSync(path, { force: true }); // stale: its owner is gone
      }
    }
    throw new HilError('SIM_START', `cannot take the virtual lab lock ${path}`, { file: path });
  }

  /** The pid of a live process holding the lock on `dir`, if any. */
  static holder(dir: string): number | undefined {
    try {
      const owner = Number.parseInt(readFileSync(join(dir, 'lab.lock'), 'utf8'), 10);
      return Number.isInteger(owner) && processExists(owner) ? owner : undefined;
    } catch {
      return undefined;
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    rmSync(this.path, { force: true });
  }
}

