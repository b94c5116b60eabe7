/**
 * The request plumbing every control-server route shares: the error answer a route throws
 * ({@link Refusal}), method checks, port path segments, and reading a JSON body within a size limit.
 */
import type { IncomingMessage } from 'node:http';
import type { ControlErrorBody } from './lab-control-wire.ts';

/** Largest request body accepted; a control transfer's data stage is at most 64 KiB, as base64 a third more. */
export const MAX_BODY_BYTES = 128 * 1024;

/** An error answer: status code and body. Routes throw it; the server sends it. */
export class Refusal {
  constructor(readonly statusCode: number, readonly body: ControlErrorBody) {}
}

export function allowOnly(request: IncomingMessage, method: 'GET' | 'POST'): void {
  if (request.method !== method) throw new Refusal(405, { error: `${request.method} is not allowed here; use ${method}` });
}

/** A port path from its escaped URL path segment; 400 when the escape is broken. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new Refusal(400, { error: `"${segment}" is not a valid escaped port path` });
  }
}

/** The request body parsed as JSON; 413 past {@link MAX_BODY_BYTES}, 400 when it is not JSON. */
export async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Read to the end even when too large, so the client gets the answer rather than a reset connection.
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  if (size > MAX_BODY_BYTES) throw new Refusal(413, { error: `request body larger than ${MAX_BODY_BYTES} bytes` });
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err: unknown) {
    throw new Refusal(400, { error: `body is not JSON: ${messageOf(err)}` });
  }
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
