/** probeBoard against a scripted MicroPython board: facts, a foreign MAC, silence and garbage. */
import { describe, expect, it } from 'vitest';
import type { BoardEndpoint } from '../../runner/bench/board-endpoint.ts';
import { probeBoard } from '../../runner/cli/boards-probe.ts';
import { isHilError } from '../../runner/errors.ts';
import { silentLogger } from '../../runner/logger.ts';
import { FakeBoardLink, type FakeBoardOptions } from '../repl/fake-board-link.ts';

const endpoint: BoardEndpoint = {
  boardId: 's3-a', portPath: '1-1.1', chip: 'esp32s3', usb: 'native', linkUrl: 'fake://board', expectedMac: '7c:df:a1:00:00:01',
};

function board(options: FakeBoardOptions): { link: FakeBoardLink; opened: string[]; closed: () => boolean } {
  const link = new FakeBoardLink(options);
  const opened: string[] = [];
  let closed = false;
  const close = link.close.bind(link);
  link.close = async () => { closed = true; await close(); };
  return { link, opened, closed: () => closed };
}

describe('probeBoard', () => {
  it('reads version, machine and MAC without a soft reset, leaves the friendly prompt and closes the link', async () => {
    const { link, opened, closed } = board({
      run: (code) => (code.includes('unique_id') ? { stdout: "('v1.24.1', 'Generic ESP32S3 module with ESP32S3', '7c:df:a1:00:00:01')\r\n" } : {}),
    });
    const facts = await probeBoard(endpoint, { openLink: async (url) => { opened.push(url); return link; }, logger: silentLogger() });
    expect(facts).toEqual({ firmwareVersion: 'v1.24.1', machine: 'Generic ESP32S3 module with ESP32S3', mac: '7c:df:a1:00:00:01' });
    expect(opened).toEqual(['fake://board']);
    expect(link.softResets).toBe(0);
    expect(link.hostBytes().at(-1)).toBe(0x02); // Ctrl-B last: back to the friendly REPL before closing
    expect(closed()).toBe(true);
  });

  it('returns a MAC other than the expected one as a fact (the caller flags it)', async () => {
    const { link } = board({ run: () => ({ stdout: "('v1.22.0', 'ESP32 module', '24:0a:c4:aa:bb:cc')\r\n" }) });
    const facts = await probeBoard(endpoint, { openLink: async () => link, logger: silentLogger() });
    expect(facts.mac).toBe('24:0a:c4:aa:bb:cc');
    expect(facts.firmwareVersion).toBe('v1.22.0');
  });

  it('gives up with TIMEOUT after its short deadline when the board does not finish, and still closes the link', async () => {
    const { link, closed } = board({ run: () => ({ hang: true }) });
    const error = await probeBoard(endpoint, { openLink: async () => link, logger: silentLogger(), timeoutMs: 200 }).catch((err: unknown) => err);
    expect(isHilError(error, 'TIMEOUT')).toBe(true);
    expect(closed()).toBe(true);
  });

  it('fails with REPL_PROTOCOL when the board answers without its facts (a traceback)', async () => {
    const { link } = board({ run: () => ({ stderr: "Traceback (most recent call last):\r\nImportError: no module named 'machine'\r\n" }) });
    const error = await probeBoard(endpoint, { openLink: async () => link, logger: silentLogger() }).catch((err: unknown) => err);
    expect(isHilError(error, 'REPL_PROTOCOL')).toBe(true);
    expect(isHilError(error) && error.evidence.consoleTail).toContain('ImportError');
  });

  it('passes a link that cannot be opened through unchanged', async () => {
    const { HilError } = await import('../../runner/errors.ts');
    const refused = new HilError('PORT_UNREACHABLE', 'connection refused');
    await expect(probeBoard(endpoint, { openLink: async () => { throw refused; }, logger: silentLogger() })).rejects.toBe(refused);
  });
});
