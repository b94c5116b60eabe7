/**
 * Read access to Linux sysfs, rooted at a directory so tests can build a small fake tree with real
 * symlinks in a temp dir and run the same code that reads `/sys` on a bench host.
 */
import { access, readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';

export interface SysfsReader {
  /** The absolute path of `relative` (e.g. `bus/usb` → `/sys/bus/usb`), for messages. */
  pathOf(relative: string): string;
  /** Whether `relative` exists (following symlinks). Never throws. */
  exists(relative: string): Promise<boolean>;
  /** Entry names of a directory. Rejects when it is missing or unreadable. */
  list(relative: string): Promise<string[]>;
  /** The target of `relative` with every symlink resolved, as an absolute path. Rejects when dangling or missing. */
  resolve(relative: string): Promise<string>;
}

/** {@link SysfsReader} over `node:fs` under `root` (default `/sys`). */
export class NodeSysfsReader implements SysfsReader {
  readonly root: string;

  constructor(root = '/sys') {
    this.root = root;
  }

  pathOf(relative: string): string {
    return join(this.root, relative);
  }

  async exists(relative: string): Promise<boolean> {
    try {
      await access(this.pathOf(relative));
      return true;
    } catch {
      return false;
    }
  }

  list(relative: string): Promise<string[]> {
    return readdir(this.pathOf(relative));
  }

  resolve(relative: string): Promise<string> {
    return realpath(this.pathOf(relative));
  }
}
