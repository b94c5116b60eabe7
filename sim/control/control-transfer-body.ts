/**
 * Validation of a control-transfer request body, so a malformed request is answered with a message
 * naming the field ("setup.request: ...") instead of reaching the hub.
 */
import { z } from 'zod';
import type { ControlTransferRequest } from './lab-control-wire.ts';

const u8 = z.number().int().min(0).max(0xff);
const u16 = z.number().int().min(0).max(0xffff);

const setupSchema = z.object({
  requestType: z.enum(['standard', 'class', 'vendor']),
  recipient: z.enum(['device', 'interface', 'endpoint', 'other']),
  request: u8,
  value: u16,
  index: u16,
});

const bodySchema = z.discriminatedUnion('direction', [
  z.object({ direction: z.literal('in'), setup: setupSchema, length: u16 }),
  z.object({ direction: z.literal('out'), setup: setupSchema, data: z.base64().optional() }),
]);

/** The request, or every problem found, each starting with the field's path (`body` for the whole). */
export function parseControlTransferBody(body: unknown): { request: ControlTransferRequest } | { problems: string[] } {
  const result = bodySchema.safeParse(body);
  if (result.success) return { request: result.data };
  return { problems: result.error.issues.map((issue) => `${issue.path.length === 0 ? 'body' : issue.path.join('.')}: ${issue.message}`) };
}
