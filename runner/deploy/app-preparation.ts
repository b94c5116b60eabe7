/**
 * The board preparation for `hil run --app`: deploys the application bundle onto each board before the
 * suites run (after flashing, when a firmware is given).
 */
import type { BoardEndpoint } from '../bench/board-endpoint.ts';
import { MicroPythonRepl } from '../repl/micropython-repl.ts';
import type { BoardPreparation } from '../suite/suite-runner.ts';
import type { AppBundle } from './app-bundle.ts';
import { deployApp } from './app-deployer.ts';

export class AppDeployPreparation implements BoardPreparation {
  constructor(private readonly bundle: AppBundle) {}

  async prepare(endpoint: BoardEndpoint, context: Parameters<BoardPreparation['prepare']>[1]): Promise<void> {
    const link = await context.openLink(endpoint.linkUrl, { timeoutMs: 5000, ...(context.signal ? { signal: context.signal } : {}) });
    try {
      const repl = new MicroPythonRepl(link, { boardId: endpoint.boardId, portPath: endpoint.portPath, logger: context.logger });
      await repl.enterRawRepl({ timeoutMs: 15_000 });
      const report = await deployApp(repl, this.bundle, { boardId: endpoint.boardId, onProgress: context.progress });
      context.progress(`application ${this.bundle.source}: ${report.written.length} written, ${report.unchanged.length} unchanged, ` +
        `${report.deleted.length} deleted, all verified`);
    } finally {
      await link.close();
    }
  }
}
