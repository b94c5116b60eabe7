import type { OpenLinkOptions, SerialLink } from './serial-link.ts';
import { isRfc2217Url } from './rfc2217-url.ts';
import { openRfc2217Link } from './rfc2217-link.ts';

/**
 * Opens a {@link SerialLink} for a URL: `rfc2217://host:port` → RFC 2217 client (network and
 * virtual-lab boards); anything else is taken as a local tty path (`/dev/ttyUSB0`, `COM3`).
 *
 * The serialport adapter is loaded on demand, so code that only talks RFC 2217 (the virtual lab,
 * CI) never loads the native serialport binding.
 *
 * @throws HilError as {@link openRfc2217Link} or `openSerialportLink` (USAGE, PORT_IN_USE,
 *   PORT_UNREACHABLE, RFC2217_NEGOTIATION, ABORTED).
 */
export async function openLink(url: string, options: OpenLinkOptions = {}): Promise<SerialLink> {
  if (isRfc2217Url(url)) return openRfc2217Link(url, options);
  const { openSerialportLink } = await import('./serialport-link.ts');
  return openSerialportLink(url, options);
}
