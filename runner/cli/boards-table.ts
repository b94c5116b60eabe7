/**
 * The readable form of a {@link BoardsReport}: one aligned line per board, then notes. The state is the
 * last column because a lease description is long and would push every other column out of line.
 */
import { describeLease } from '../lease/lease-holder.ts';
import type { BoardListing, BoardsReport } from './boards-report.ts';

const HEADER = ['BOARD', 'PORT PATH', 'CHIP', 'SERIAL ENDPOINT', 'VID:PID', 'USB SERIAL', 'MANUFACTURER', 'PRODUCT', 'MAC', 'FIRMWARE', 'STATE'];
const BLANK = '-';

/** The table and its notes, ending in a newline; `nowMs` dates lease expiries ("expires in 25 s"). */
export function formatBoardsTable(report: BoardsReport, nowMs: number): string {
  const rows = [HEADER, ...report.boards.map((board) => rowOf(board, nowMs))];
  const widths = HEADER.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? '').length)));
  const lines = rows.map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col] ?? 0))).join('  ').trimEnd());
  const notes = [
    ...(report.usb.problem === undefined ? [] : [`note: ${report.usb.problem}`]),
    ...(report.probed ? [] : ['note: not probed (--no-probe): MAC and firmware version not read']),
    ...report.boards.flatMap((board) => board.notes.map((note) => `${board.id}: ${note}`)),
  ];
  return `${lines.join('\n')}\n${notes.length > 0 ? `\n${notes.join('\n')}\n` : ''}`;
}

function rowOf(board: BoardListing, nowMs: number): string[] {
  const { tty, url } = board.serial;
  return [
    board.id,
    board.portPath,
    board.chip,
    tty === null || tty === url ? url : `${tty} ${url}`,
    board.usb?.vidPid ?? BLANK,
    board.usb?.serialNumber ?? BLANK,
    board.usb?.manufacturer ?? BLANK,
    board.usb?.product ?? BLANK,
    board.mac === null ? BLANK : board.macConfirmed === false ? `${board.mac} (!)` : board.mac,
    board.firmwareVersion ?? BLANK,
    stateOf(board, nowMs),
  ];
}

function stateOf(board: BoardListing, nowMs: number): string {
  if (board.state !== 'leased' || board.lease === null) return board.state;
  const { user, host, pid, command, token, acquiredAtMs, expiresAtMs } = board.lease;
  return describeLease({ boardId: board.id, holder: { user, host, pid, command }, token, acquiredAtMs, expiresAtMs }, nowMs);
}
