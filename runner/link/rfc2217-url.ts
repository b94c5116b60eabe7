import { HilError } from '../errors.ts';

/** A parsed `rfc2217://host:port[?ign_set_control]` address. */
export interface Rfc2217Address {
  /** Host name or IP address (IPv6 without brackets). */
  readonly host: string;
  /** TCP port, 1–65535. */
  readonly port: number;
  /**
   * pyserial's `ign_set_control`: send SET_CONTROL without waiting for its acknowledgement (for
   * servers such as esptool's `esp_rfc2217_server` that handle modem lines themselves).
   */
  readonly ignoreSetControlAcks: boolean;
}

/** The URL scheme this module handles, lower case with the `://`. */
export const RFC2217_SCHEME = 'rfc2217://';

/** True when `url` names an RFC 2217 endpoint (scheme compared case-insensitively). */
export function isRfc2217Url(url: string): boolean {
  return url.slice(0, RFC2217_SCHEME.length).toLowerCase() === RFC2217_SCHEME;
}

/**
 * Parses an RFC 2217 URL.
 *
 * @throws HilError `USAGE` naming the URL when it is not `rfc2217://host:port` (port 1–65535, no path,
 *   no query options other than `ign_set_control`).
 */
export function parseRfc2217Url(url: string): Rfc2217Address {
  const bad = (why: string): HilError =>
    new HilError('USAGE', `bad RFC 2217 URL "${url}": ${why} (expected rfc2217://host:port)`, { portPath: url });
  if (!isRfc2217Url(url)) throw bad('the scheme is not rfc2217://');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad('not a URL');
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw bad('no host');
  if (parsed.username !== '' || parsed.password !== '') throw bad('user names are not supported');
  if (parsed.pathname !== '' && parsed.pathname !== '/') throw bad('a path is not allowed');
  if (parsed.hash !== '') throw bad('a fragment is not allowed');
  // The WHATWG parser drops a port it considers the scheme's default; rfc2217 has none, so every
  // explicit port survives and an empty one means it was missing.
  if (parsed.port === '') throw bad('no port');
  const port = Number(parsed.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad('port out of range');
  let ignoreSetControlAcks = false;
  for (const key of parsed.searchParams.keys()) {
    if (key === 'ign_set_control') ignoreSetControlAcks = true;
    else throw bad(`unsupported option "${key}"`);
  }
  return { host, port, ignoreSetControlAcks };
}
