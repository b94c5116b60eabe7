/**
 * Reading what a board script printed: `HIL:PROP name=value` lines become properties, and a traceback
 * becomes a one-line failure message plus evidence.
 */

const PROP_LINE = /^HIL:PROP ([\w.-]+)=(.*)$/;

/** Properties recorded by `HIL:PROP name=value` lines, in order (later values win). */
export function parseProperties(stdout: string): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const line of stdout.split(/\r?\n/)) {
    const match = PROP_LINE.exec(line.trimEnd());
    if (match?.[1] !== undefined) properties[match[1]] = match[2] ?? '';
  }
  return properties;
}

/** The exception line of a MicroPython traceback, e.g. `AssertionError: odd flash size 3`. */
export function tracebackSummary(stderr: string): string {
  const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  return lines[lines.length - 1] ?? 'board script raised an exception';
}
