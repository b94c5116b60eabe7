/** Helpers to run the real `hil` command as a child process, as a user would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const HIL_BIN = join(REPO_ROOT, 'bin', 'hil.mjs');

export interface HilResult { code: number | null; stdout: string; stderr: string }

/** Runs `hil ...args` to completion. */
export function runHil(args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<HilResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HIL_BIN, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`hil ${args.join(' ')} timed out\n${stderr}`)); }, options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** Starts `hil ...args` in the background and resolves once its stdout matches `ready`. */
export function startHil(args: string[], ready: RegExp, options: { env?: Record<string, string>; timeoutMs?: number } = {}):
  Promise<{ child: ChildProcess; stdout: () => string; stderr: () => string; stop: (signal?: NodeJS.Signals) => Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HIL_BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const stop = async (signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> => { child.kill(signal); return exited; };
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`hil ${args.join(' ')} not ready\n${stdout}\n${stderr}`)); }, options.timeoutMs ?? 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (ready.test(stdout)) { clearTimeout(timer); resolve({ child, stdout: () => stdout, stderr: () => stderr, stop }); }
    });
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`hil exited early (${code})\n${stdout}\n${stderr}`)); });
  });
}
