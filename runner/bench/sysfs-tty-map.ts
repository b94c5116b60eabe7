/**
 * Which tty belongs to which USB port path, read from sysfs. Every tty a USB driver creates has a
 * `device` link that resolves into the USB device's interface directory: for CDC ACM
 * `.../1-1.3/1-1.3:1.0` (ttyACM0), for usb-serial bridges one level further down,
 * `.../1-1.2/1-1.2:1.0/ttyUSB0`. The port path is read from that interface directory's name, so a tty
 * that renumbers after re-enumeration is still found by the path.
 */
import { parseInterfaceDirName } from '../usb/port-path.ts';
import type { SysfsReader } from './sysfs-reader.ts';

export interface SysfsTty {
  /** Kernel name, e.g. `ttyACM0`. */
  name: string;
  /** Port path of the USB device the tty belongs to. */
  portPath: string;
  /** The interface the tty serves (a CP2105 or a composite CDC device has several). */
  interfaceNumber: number;
}

/**
 * USB ttys from `class/tty/<name>/device`. Non-USB ttys (virtual consoles, `ttyS*` on a platform bus)
 * have no such link or resolve elsewhere and are left out.
 * @returns null when `class/tty` cannot be read (no sysfs here).
 */
export async function readSysfsTtys(sysfs: SysfsReader): Promise<SysfsTty[] | null> {
  let names: string[];
  try {
    names = await sysfs.list('class/tty');
  } catch {
    return null;
  }
  const found = await Promise.all(names.map(async (name): Promise<SysfsTty | null> => {
    let target: string;
    try {
      target = await sysfs.resolve(`class/tty/${name}/device`);
    } catch {
      return null;
    }
    // The interface directory is the nearest ancestor named `<portPath>:<config>.<interface>`.
    const segments = target.split(/[\\/]/);
    for (let i = segments.length - 1; i >= 0; i--) {
      const parsed = parseInterfaceDirName(segments[i]!);
      if (parsed) return { name, portPath: parsed.portPath, interfaceNumber: parsed.interfaceNumber };
    }
    return null;
  }));
  return found.filter((tty): tty is SysfsTty => tty !== null);
}

/**
 * One tty per port path: of several, the one on the lowest interface (the first CDC or bridge port),
 * then the lowest name, so the choice is stable.
 */
export function ttyByPortPath(ttys: readonly SysfsTty[]): Map<string, string> {
  const sorted = [...ttys].sort((a, b) => a.interfaceNumber - b.interfaceNumber || a.name.localeCompare(b.name, 'en', { numeric: true }));
  const byPath = new Map<string, string>();
  for (const tty of sorted) if (!byPath.has(tty.portPath)) byPath.set(tty.portPath, tty.name);
  return byPath;
}
