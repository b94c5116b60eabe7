/**
 * Finds and validates suites. A suite is named by its folder (`suites/smoke`); every problem in its
 * manifest, and every board script it names that is missing, is reported at once (`SUITE_INVALID`).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { HilError } from '../errors.ts';
import { loadMultitestFile, type MultitestFile } from '../multitest/multitest-file.ts';
import { suiteManifestSchema, type Step, type SuiteManifest } from './suite-manifest.ts';

/** A validated suite with its board scripts read into memory. */
export interface LoadedSuite {
  /** Absolute folder of the suite. */
  dir: string;
  /** The path as the user wrote it, for messages. */
  ref: string;
  manifest: SuiteManifest;
  /** Board-side scripts by their path relative to the suite folder. */
  scripts: ReadonlyMap<string, string>;
  /** Multitest files (with their `.exp`) by their path relative to the suite folder. */
  multitests: ReadonlyMap<string, MultitestFile>;
}

/** The suites shipped with the rig, used when a relative suite path does not exist in the working directory. */
export const BUILTIN_SUITES_DIR = resolve(dirname(new URL(import.meta.url).pathname), '..', '..', 'suites');

/**
 * Loads a suite from `ref`: a folder, or `suites/<name>` resolved against `cwd`, then the built-in suites
 * — or a single multitest file (`path/test.py` with its `.exp` beside it), run as a suite of one test on
 * as many boards as it has instances.
 */
export function loadSuite(ref: string, cwd: string = process.cwd(), options: { roles?: number | 'all' } = {}): LoadedSuite {
  if (ref.endsWith('.py')) return multitestFileSuite(ref, cwd, options.roles ?? 1);
  const dir = locateSuite(ref, cwd);
  const manifestPath = join(dir, 'suite.yaml');
  const text = readFileSync(manifestPath, 'utf8');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, lineCounter, prettyErrors: false });
  const problems: string[] = doc.errors.map((e) => {
    const at = lineCounter.linePos(e.pos[0]);
    return `${manifestPath}:${at.line}:${at.col}: YAML ${e.code}: ${e.message.split('\n')[0]}`;
  });
  let manifest: SuiteManifest | undefined;
  if (problems.length === 0) {
    const parsed = suiteManifestSchema.safeParse(doc.toJS());
    if (parsed.success) manifest = parsed.data;
    else problems.push(...parsed.error.issues.map((issue) => `${manifestPath}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`));
  }
  const scripts = new Map<string, string>();
  const multitests = new Map<string, MultitestFile>();
  for (const [index, test] of (manifest?.tests ?? []).entries()) {
    for (const step of test.steps) {
      if ('multitest' in step && !multitests.has(step.multitest)) {
        const filePath = resolve(dir, step.multitest);
        if (!filePath.startsWith(dir + '/')) {
          problems.push(`${manifestPath}: tests.${index}: multitest ${step.multitest} is outside the suite folder`);
          continue;
        }
        try {
          const file = loadMultitestFile(filePath);
          multitests.set(step.multitest, file);
          const boards = manifest?.boards;
          if (boards !== undefined && boards.placement !== 'whole-bench' && file.instanceCount > boards.count) {
            problems.push(`${manifestPath}: tests.${index}: ${step.multitest} has ${file.instanceCount} instances but the suite's board sets have ${boards.count} board(s) (boards.count)`);
          }
        } catch (err: unknown) {
          problems.push(`${manifestPath}: tests.${index}: ${err instanceof Error ? err.message : String(err)}`);
        }
        continue;
      }
      const file = scriptOf(step);
      if (file === undefined || scripts.has(file)) continue;
      const scriptPath = resolve(dir, file);
      if (!scriptPath.startsWith(dir + '/')) problems.push(`${manifestPath}: tests.${index}: script ${file} is outside the suite folder`);
      else if (!existsSync(scriptPath)) problems.push(`${manifestPath}: tests.${index}: script ${file} does not exist in ${dir}`);
      else scripts.set(file, readFileSync(scriptPath, 'utf8'));
    }
  }
  if (problems.length > 0 || manifest === undefined) {
    throw new HilError('SUITE_INVALID', `suite ${ref} has ${problems.length} problem(s):\n  ${problems.join('\n  ')}`, { file: manifestPath, problems });
  }
  return { dir, ref, manifest, scripts, multitests };
}

/** A suite of one test: the multitest file at `ref`, on one set of as many boards as it has instances. */
function multitestFileSuite(ref: string, cwd: string, roles: number | 'all'): LoadedSuite {
  const file = loadMultitestFile(ref, cwd);
  const name = basename(file.path);
  const manifest = suiteManifestSchema.parse({
    name: name.replace(/\.py$/, '').replace(/[^\w.-]/g, '_'),
    description: `multitest ${file.path}`,
    boards: { count: file.instanceCount, placement: 'one-set' },
    tests: [{ name, steps: [{ multitest: name, roles }] }],
  });
  return { dir: dirname(file.path), ref, manifest, scripts: new Map(), multitests: new Map([[name, file]]) };
}

function locateSuite(ref: string, cwd: string): string {
  const candidates = [resolve(cwd, ref)];
  if (!ref.startsWith('/') && !ref.startsWith('.')) candidates.push(resolve(BUILTIN_SUITES_DIR, ref.replace(/^suites\//, '')));
  for (const dir of candidates) {
    if (existsSync(join(dir, 'suite.yaml')) && statSync(dir).isDirectory()) return dir;
  }
  const tried = candidates.map((c) => `${c}/suite.yaml`).join(', ');
  throw new HilError('SUITE_NOT_FOUND', `unknown suite "${ref}": no suite.yaml found (looked for ${tried})`, { file: candidates[0] });
}

/** The board script a step runs, if any. */
export function scriptOf(step: Step): string | undefined {
  return 'exec' in step ? step.exec : undefined;
}
