import { afterEach, describe, expect, it } from 'vitest';
import { isHilError } from '../../runner/errors.ts';
import { openLink } from '../../runner/link/open-link.ts';
import { Rfc2217Link } from '../../runner/link/rfc2217-link.ts';
import type { SerialLink } from '../../runner/link/serial-link.ts';
import { Rfc2217Server } from '../../sim/rfc2217/rfc2217-server.ts';
import { FakeSimSerialPort } from '../sim/rfc2217/fake-sim-serial-port.ts';

describe('openLink', () => {
  let server: Rfc2217Server | undefined;
  let link: SerialLink | undefined;
  afterEach(async () => {
    await link?.close();
    await server?.close();
    link = undefined;
    server = undefined;
  });

  it('opens an RFC 2217 link for rfc2217:// URLs, scheme case-insensitive', async () => {
    server = await Rfc2217Server.listen(new FakeSimSerialPort());
    link = await openLink(server.url.replace('rfc2217', 'RFC2217'), { baudRate: 230400, timeoutMs: 3000 });
    expect(link).toBeInstanceOf(Rfc2217Link);
    expect(link.baudRate).toBe(230400);
  });

  it('passes a malformed rfc2217 URL on as USAGE', async () => {
    const err: unknown = await openLink('rfc2217://no-port').catch((e: unknown) => e);
    expect(isHilError(err, 'USAGE')).toBe(true);
  });

  it('treats anything else as a tty path', async () => {
    const err: unknown = await openLink('/dev/hil-definitely-missing-tty').catch((e: unknown) => e);
    expect(isHilError(err, 'PORT_UNREACHABLE')).toBe(true);
    expect((err as Error).message).toContain('/dev/hil-definitely-missing-tty');
  });
});
