/**
 * A separate process that leases one board through the file store, for the cross-process tests.
 * Run with `node --import tsx lease-child.ts <mode> <leaseDir> <boardId> <ttlMs> [logFile] [rounds]`.
 *   loop: prints "ready", waits for "go" on stdin, then `rounds` times leases the board and appends
 *         "enter <pid> <token>" / "exit <pid> <token>" to logFile around a short hold.
 *   hold: leases the board, prints "held <token>", and keeps it (heartbeat running) until killed;
 *         prints "lost <message>" and exits 4 if the lease is taken over.
 */
import { appendFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { BoardLeaser } from '../../runner/lease/board-leaser.ts';
import { FileLeaseStore } from '../../runner/lease/file-lease-store.ts';
import { holderForThisProcess } from '../../runner/lease/lease-holder.ts';

const [mode, dir, boardId, ttlText, logFile, roundsText] = process.argv.slice(2);
if (dir === undefined || boardId === undefined) throw new Error('usage: lease-child.ts <mode> <dir> <boardId> <ttlMs> [logFile] [rounds]');
const ttlMs = Number(ttlText);
const leaser = new BoardLeaser({ store: new FileLeaseStore({ dir }), holder: holderForThisProcess(`lease-child ${mode}`), ttlMs, pollMs: 5 });

if (mode === 'loop') {
  if (logFile === undefined) throw new Error('loop needs a log file');
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  for (let round = 0; round < Number(roundsText ?? '20'); round++) {
    const held = await leaser.acquire({ boardIds: [boardId] });
    const token = held.tokens[boardId];
    appendFileSync(logFile, `enter ${process.pid} ${token}\n`);
    await delay(2);
    appendFileSync(logFile, `exit ${process.pid} ${token}\n`);
    await held.release();
    await delay(1); // let the other process in now and then, so the two really contend
  }
  process.stdin.destroy();
} else if (mode === 'hold') {
  const held = await leaser.acquire({ boardIds: [boardId] }, {
    onLost: (err) => {
      process.stdout.write(`lost ${err.message}\n`);
      process.exit(4);
    },
  });
  process.stdout.write(`held ${held.tokens[boardId]}\n`);
} else {
  throw new Error(`unknown mode ${mode}`);
}
