/**
 * A unified diff of two texts (the format of `diff -u`, which run-multitests.py prints on failure),
 * from a longest-common-subsequence alignment of their lines. Expected outputs are short, so the
 * quadratic table is fine; past {@link MAX_CELLS} the texts are shown as one replaced block.
 */

/** Labels of the two sides in the `---`/`+++` header. */
export interface DiffLabels {
  from: string;
  to: string;
}

/** Lines of unchanged context around each change (`diff -u` default). */
const CONTEXT_LINES = 3;
/** Largest LCS table computed (lines × lines). */
const MAX_CELLS = 4_000_000;

type Op = { kind: ' ' | '-' | '+'; line: string; missingNewline: boolean };

/** The unified diff from `from` to `to`; empty when they are equal. */
export function unifiedDiff(from: string, to: string, labels: DiffLabels): string {
  if (from === to) return '';
  const a = splitLines(from);
  const b = splitLines(to);
  const ops = align(a, b);
  const hunks = groupHunks(ops);
  let out = `--- ${labels.from}\n+++ ${labels.to}\n`;
  for (const hunk of hunks) out += formatHunk(ops, hunk);
  return out;
}

interface Line { text: string; missingNewline: boolean }

/** Lines of `text`; the last one is marked when the text does not end in `\n`. */
function splitLines(text: string): Line[] {
  if (text === '') return [];
  const parts = text.split('\n');
  const endsWithNewline = parts[parts.length - 1] === '';
  if (endsWithNewline) parts.pop();
  return parts.map((part, i) => ({ text: part, missingNewline: !endsWithNewline && i === parts.length - 1 }));
}

function same(x: Line, y: Line): boolean {
  return x.text === y.text && x.missingNewline === y.missingNewline;
}

/** The edit script: common lines, deletions from `a`, insertions from `b`, deletions before insertions. */
function align(a: Line[], b: Line[]): Op[] {
  const n = a.length;
  const m = b.length;
  const op = (kind: Op['kind'], line: Line): Op => ({ kind, line: line.text, missingNewline: line.missingNewline });
  if ((n + 1) * (m + 1) > MAX_CELLS) return [...a.map((l) => op('-', l)), ...b.map((l) => op('+', l))];
  // lcs[i][j] = length of the LCS of a[i..] and b[j..], stored row-major.
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] = same(a[i]!, b[j]!) ? lcs[(i + 1) * width + j + 1]! + 1 : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && same(a[i]!, b[j]!)) {
      ops.push(op(' ', a[i]!));
      i++;
      j++;
    } else if (j >= m || (i < n && lcs[(i + 1) * width + j]! >= lcs[i * width + j + 1]!)) {
      ops.push(op('-', a[i]!));
      i++;
    } else {
      ops.push(op('+', b[j]!));
      j++;
    }
  }
  return ops;
}

/** Ranges [start, end) of `ops` to print: each change with its context, overlapping ranges merged. */
function groupHunks(ops: Op[]): Array<{ start: number; end: number }> {
  const hunks: Array<{ start: number; end: number }> = [];
  ops.forEach((op, index) => {
    if (op.kind === ' ') return;
    const start = Math.max(0, index - CONTEXT_LINES);
    const end = Math.min(ops.length, index + 1 + CONTEXT_LINES);
    const last = hunks[hunks.length - 1];
    if (last !== undefined && start <= last.end) last.end = Math.max(last.end, end);
    else hunks.push({ start, end });
  });
  return hunks;
}

function formatHunk(ops: Op[], hunk: { start: number; end: number }): string {
  // Line numbers (1-based) of the hunk's first line on each side.
  let fromLine = 1;
  let toLine = 1;
  for (const op of ops.slice(0, hunk.start)) {
    if (op.kind !== '+') fromLine++;
    if (op.kind !== '-') toLine++;
  }
  const body = ops.slice(hunk.start, hunk.end);
  const fromCount = body.filter((op) => op.kind !== '+').length;
  const toCount = body.filter((op) => op.kind !== '-').length;
  let out = `@@ -${range(fromLine, fromCount)} +${range(toLine, toCount)} @@\n`;
  for (const op of body) {
    out += `${op.kind}${op.line}\n`;
    if (op.missingNewline) out += '\\ No newline at end of file\n';
  }
  return out;
}

/** GNU diff's range: `start` alone for one line, `start-1,0` for none, `start,count` otherwise. */
function range(start: number, count: number): string {
  if (count === 1) return String(start);
  if (count === 0) return `${start - 1},0`;
  return `${start},${count}`;
}
