/**
 * Port paths in Linux's naming (`<bus>-<port>.<port>...`, see reference/usb-hub-power.md "Port
 * paths"): the one identity of a board on a bench. Built here from the two places a path comes from —
 * the `usb` package's `bus`/`ports` and a sysfs directory name — so both spell it the same way.
 */

const DEVICE_PORT_PATH = /^\d+-\d+(?:\.\d+)*$/;
/** A sysfs interface directory: `<portPath>:<configuration>.<interface>`, e.g. `1-1.3:1.0`. */
const INTERFACE_DIR = /^(\d+-\d+(?:\.\d+)*):(\d+)\.(\d+)$/;

/**
 * The port path of a device from its bus and hub-port chain, as the `usb` package (v3, nusb) reports
 * them: on Linux `bus` is the bus number zero-padded to three digits (`"001"`) and `ports` the sysfs
 * `devpath` split at dots (`[1, 3]` for `1-1.3`). A bus id that is not a number (other platforms) is
 * kept as it is. An empty chain is the bus's root hub, which Linux names `usb<bus>`.
 */
export function formatPortPath(bus: string | number, ports: readonly number[]): string {
  const busText = typeof bus === 'number' ? String(bus) : /^\d+$/.test(bus) ? String(Number(bus)) : bus;
  return ports.length === 0 ? `usb${busText}` : `${busText}-${ports.join('.')}`;
}

/** The path of the device on `port` (1-based) of the hub at `hubPath`: `1-1` + 3 → `1-1.3`; root hub `usb1` + 3 → `1-3`. */
export function childPortPath(hubPath: string, port: number): string {
  const root = /^usb(\d+)$/.exec(hubPath);
  return root ? `${root[1]}-${port}` : `${hubPath}.${port}`;
}

/** True for a device port path such as `1-1.3` (not a root hub, not an interface). */
export function isDevicePortPath(path: string): boolean {
  return DEVICE_PORT_PATH.test(path);
}

/** `1-1.3:1.0` → `{ portPath: '1-1.3', configuration: 1, interfaceNumber: 0 }`; anything else → null. */
export function parseInterfaceDirName(name: string): { portPath: string; configuration: number; interfaceNumber: number } | null {
  const match = INTERFACE_DIR.exec(name);
  if (!match) return null;
  return { portPath: match[1]!, configuration: Number(match[2]), interfaceNumber: Number(match[3]) };
}
