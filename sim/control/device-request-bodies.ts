/**
 * Validation of the bodies of the device routes (claim/release, bulk/interrupt transfers), so a
 * malformed request is answered with a message naming the field instead of reaching the device.
 * Control transfers use control-transfer-body.ts, shared with the hub route.
 */
import { z } from 'zod';
import type { EndpointTransferRequest, InterfaceRequest } from './lab-control-wire.ts';

/** Largest IN transfer a client may ask for, bytes: far above any endpoint buffer, small enough to answer as JSON. */
export const MAX_IN_TRANSFER_BYTES = 1 << 20;

const endpointNumber = z.number().int().min(1).max(15);

const transferSchema = z.discriminatedUnion('direction', [
  z.object({ direction: z.literal('in'), endpointNumber, length: z.number().int().min(0).max(MAX_IN_TRANSFER_BYTES) }),
  z.object({ direction: z.literal('out'), endpointNumber, data: z.base64() }),
]);

const interfaceSchema = z.object({ interfaceNumber: z.number().int().min(0).max(0xff) });

/** The transfer, or every problem found, each starting with the field's path (`body` for the whole). */
export function parseEndpointTransferBody(body: unknown): { request: EndpointTransferRequest } | { problems: string[] } {
  const result = transferSchema.safeParse(body);
  return result.success ? { request: result.data } : { problems: problemsOf(result.error) };
}

/** The interface request, or its problems. */
export function parseInterfaceBody(body: unknown): { request: InterfaceRequest } | { problems: string[] } {
  const result = interfaceSchema.safeParse(body);
  return result.success ? { request: result.data } : { problems: problemsOf(result.error) };
}

function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length === 0 ? 'body' : issue.path.join('.')}: ${issue.message}`);
}
