/**
 * The board preparation for `hil flash` and `hil run --firmware`: flash the planned image, confirm the
 * board booted to a REPL reporting the image's version, then (optionally) deploy the application
 * bundle — all on one link to the board.
 */
import type { BoardEndpoint } from '../bench/board-endpoint.ts';
import type { AppBundle } from '../deploy/app-bundle.ts';
import { deployApp } from '../deploy/app-deployer.ts';
import { HilError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { MicroPythonRepl } from '../repl/micropython-repl.ts';
import type { BoardPreparation } from '../suite/suite-runner.ts';
import type { Flasher, FlashProgressEvent, FlashResult } from './flasher.ts';
import type { ImagePlan } from './image-plan.ts';
import { partsMatchRunningFirmware } from './running-firmware-check.ts';
import { md5Hex } from './sector-diff.ts';
import type { SerialLink } from '../link/serial-link.ts';
import { FollowingLink } from '../link/following-link.ts';
import type { ReopenTarget } from '../bench/board-link-reopener.ts';

export interface FirmwarePreparationOptions {
  plan: ImagePlan;
  app?: AppBundle;
  /** Creates the flasher for one board (the composition root passes the esptool-js one). */
  createFlasher: (logger: Logger) => Flasher;
  /** Called with every flash progress event (e.g. a progress bar); progress lines are reported anyway. */
  onFlashProgress?: (event: FlashProgressEvent) => void;
  /** Called with each board's result. */
  onFlashed?: (boardId: string, result: FlashResult, bootedVersion: string) => void;
}

/** How long to look for a running MicroPython before flashing (a board without one never answers). */
const RUNNING_CHECK_REPL_MS = 3000;

/** How long the freshly flashed firmware may take to boot to its REPL. */
const BOOT_TIMEOUT_MS = 20_000;

export class FirmwarePreparation implements BoardPreparation {
  constructor(private readonly options: FirmwarePreparationOptions) {}

  /**
   * Flashes the image — unless the running MicroPython reports (by SHA-256 over `esp.flash_read`)
   * that every region already matches, in which case the board is not even reset.
   */
  async #flashUnlessRunning(endpoint: BoardEndpoint, link: SerialLink, context: Parameters<BoardPreparation['prepare']>[1]): Promise<FlashResult> {
    const { plan } = this.options;
    const signal = context.signal ? { signal: context.signal } : {};
    const probe = new MicroPythonRepl(link, { boardId: endpoint.boardId, portPath: endpoint.portPath, logger: context.logger });
    const alreadyThere = await partsMatchRunningFirmware(probe, plan.parts, { replTimeoutMs: RUNNING_CHECK_REPL_MS, digestTimeoutMs: 30_000, ...signal });
    probe.dispose();
    if (alreadyThere) {
      context.progress('every region already matches the running firmware (SHA-256 on the board); not flashing');
      return {
        boardId: endpoint.boardId, chipDescription: 'not reset: checked through the running MicroPython', baudRate: link.baudRate,
        regions: plan.parts.map((part) => ({ name: part.name, offset: part.offset, sizeBytes: part.data.length, outcome: 'skipped', writtenBytes: 0, runs: 0, md5: md5Hex(part.data) })),
      };
    }
    const flasher = this.options.createFlasher(context.logger);
    const progress = progressLines(context.progress);
    const result = await flasher.flash({ board: endpoint, link, parts: plan.parts }, {
      ...signal,
      onProgress: (event) => { progress(event); this.options.onFlashProgress?.(event); },
    });
    context.progress(`flashed at ${result.baudRate} baud: ${result.regions.map((r) => `${r.name} ${r.outcome}` +
      (r.outcome === 'skipped' ? '' : ` (${r.writtenBytes} bytes in ${r.runs} run${r.runs === 1 ? '' : 's'})`)).join(', ')}; all regions verified by MD5`);
    return result;
  }

  async prepare(endpoint: BoardEndpoint, context: Parameters<BoardPreparation['prepare']>[1]): Promise<void> {
    const { plan, app } = this.options;
    const opened = await context.openLink(endpoint.linkUrl, { timeoutMs: 5000, ...(context.signal ? { signal: context.signal } : {}) });
    // A native-USB board leaves the bus when reset into its ROM (and back): the link follows it by
    // port path — to whatever serial device appears while flashing, to the firmware's afterwards.
    let target: ReopenTarget = 'any-serial';
    const reopen = context.reopen;
    const link = reopen === undefined ? opened : new FollowingLink(opened, async () => (await reopen(endpoint, {
      deadlineMs: REENUMERATION_DEADLINE_MS, target, ...(context.signal ? { signal: context.signal } : {}),
    })).link, context.logger);
    try {
      const result = await this.#flashUnlessRunning(endpoint, link, context);
      target = 'firmware';

      const repl = new MicroPythonRepl(link, { boardId: endpoint.boardId, portPath: endpoint.portPath, logger: context.logger });
      await repl.enterRawRepl({ timeoutMs: BOOT_TIMEOUT_MS, ...(context.signal ? { signal: context.signal } : {}) });
      const booted = await repl.eval("__import__('os').uname().version.split(' ')[0]");
      if (booted !== plan.appVersion) {
        throw new HilError('FLASH_VERIFY_FAILED', `board ${endpoint.boardId} booted MicroPython ${booted}, not the flashed ${plan.appVersion}`,
          { boardId: endpoint.boardId, portPath: endpoint.portPath, phase: 'confirm boot' });
      }
      context.progress(`booted ${plan.projectName} ${booted}`);
      this.options.onFlashed?.(endpoint.boardId, result, booted);
      if (app !== undefined) {
        const report = await deployApp(repl, app, { boardId: endpoint.boardId, onProgress: context.progress });
        context.progress(`application ${app.source}: ${report.written.length} written, ${report.unchanged.length} unchanged, ` +
          `${report.deleted.length} deleted, all verified`);
      }
    } finally {
      await link.close();
    }
  }
}

/** A board reset into its ROM or back into its firmware must be on the bus again within this. */
const REENUMERATION_DEADLINE_MS = 15_000;

/** Turns flash progress into a line per phase and region, and one per 25% of a write. */
function progressLines(report: (message: string) => void): (event: FlashProgressEvent) => void {
  let lastKey = '';
  let lastQuarter = -1;
  return (event) => {
    const key = `${event.phase}/${event.region ?? ''}`;
    const quarter = event.bytesTotal > 0 ? Math.floor((event.bytesDone / event.bytesTotal) * 4) : 0;
    if (key !== lastKey) {
      lastKey = key;
      lastQuarter = -1;
      if (event.phase !== 'write') report(`${event.phase}${event.region ? ` ${event.region}` : ''}${event.outcome ? `: ${event.outcome}` : ''}`);
    }
    if (event.phase === 'write' && quarter !== lastQuarter) {
      lastQuarter = quarter;
      report(`write ${event.region ?? ''} ${Math.round((event.bytesDone / Math.max(1, event.bytesTotal)) * 100)}% of ${event.bytesTotal} bytes`);
    }
  };
}
