/** Describes who holds a lease and how long it still runs, in the words people see in messages. */
import { hostname, userInfo } from 'node:os';
import type { BoardLeaseInfo, LeaseHolder } from './lease-store.ts';

/** The holder description of this process; `command` is what it runs, e.g. `hil run suites/espnow`. */
export function holderForThisProcess(command: string): LeaseHolder {
  return { user: currentUser(), host: hostname(), pid: process.pid, command };
}

/** `alice@bench1 pid 4242, `hil run suites/espnow`` */
export function describeHolder(holder: LeaseHolder): string {
  return `${holder.user}@${holder.host} pid ${holder.pid}, \`${holder.command}\``;
}

/** `s3-a (leased by alice@bench1 pid 4242, `hil run suites/espnow`, expires in 25 s)`, as of `nowMs`. */
export function describeBoardLease(info: BoardLeaseInfo, nowMs: number): string {
  return `${info.boardId} (${describeLease(info, nowMs)})`;
}

/** `leased by alice@bench1 pid 4242, `hil run suites/espnow`, expires in 25 s`, as of `nowMs` (for `hil boards`). */
export function describeLease(info: BoardLeaseInfo, nowMs: number): string {
  return `leased by ${describeHolder(info.holder)}, ${describeExpiry(info.expiresAtMs - nowMs)}`;
}

/** "expires in 25 s" — rounded up, so a lease that has a moment left never reads "0 s". */
function describeExpiry(remainingMs: number): string {
  if (remainingMs <= 0) return 'expiring now';
  const seconds = Math.ceil(remainingMs / 1000);
  return seconds < 120 ? `expires in ${seconds} s` : `expires in ${Math.ceil(seconds / 60)} min`;
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    // Containers can run under a uid without a passwd entry.
    return `uid${process.getuid?.() ?? '?'}`;
  }
}
