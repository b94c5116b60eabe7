/**
 * The zod schema of bench files (`hil-config/bench.yaml` and friends). One schema, defaults inside it;
 * cross-field rules (unique ids, unique port paths, hub ports that exist) are checked here too, so that
 * every problem in a file is reported at once.
 */
import { z } from 'zod';

const SIZE_UNITS: Record<string, number> = { KB: 1024, MB: 1024 * 1024, GB: 1024 * 1024 * 1024 };

/** A byte size written as `16MB`, `512KB` or a plain number of bytes. */
const byteSize = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\d+\s*(KB|MB|GB)$/i, 'must be a size like "4MB", "512KB" or a number of bytes')
    .transform((text) => {
      const match = /^(\d+)\s*(KB|MB|GB)$/i.exec(text);
      return Number(match?.[1]) * (SIZE_UNITS[(match?.[2] ?? 'MB').toUpperCase()] ?? 1);
    }),
]);

const FLASH_SIZES = [2, 4, 8, 16, 32].map((mb) => mb * 1024 * 1024);
const flashSize = byteSize.refine((bytes) => FLASH_SIZES.includes(bytes), 'must be one of 2MB, 4MB, 8MB, 16MB, 32MB');
const psramSize = byteSize.refine((bytes) => [0, 2, 4, 8, 16].map((mb) => mb * 1024 * 1024).includes(bytes),
  'must be one of 0, 2MB, 4MB, 8MB, 16MB');

const identifier = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/i,
  'must be 1-40 letters, digits, "-" or "_", starting with a letter or digit');

/** USB port path as Linux names it: bus-port[.port…], e.g. `1-1.3`. */
const portPath = z.string().regex(/^\d+-\d+(\.\d+)*$/, 'must be a USB port path like "1-1.3" (bus-port.port…)');

const mac = z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i, 'must be a MAC address like "7c:df:a1:00:00:01"')
  .transform((text) => text.toLowerCase());

const firmwareVersion = z.string().regex(/^v\d+\.\d+\.\d+(-[\w.]+)?$/, 'must be a MicroPython version like "v1.24.1"');

/** How the board's serial console reaches the host. */
const usbKind = z.enum(['native', 'uart-bridge']);

const chip = z.enum(['esp32', 'esp32s3']);

const hubSchema = z.object({
  id: identifier,
  /** Port path of the hub itself (its upstream port), e.g. `1-1`. Board ports are `<portPath>.<n>`. */
  portPath,
  ports: z.number().int().min(1).max(15),
  /** Whether the hub switches power per port (checked against the hub descriptor on physical benches). */
  perPortPower: z.boolean().default(true),
}).strict();

const boardSchema = z.object({
  id: identifier,
  chip,
  /** Hub id and port number the board is plugged into; its port path is derived from them. */
  hub: identifier,
  hubPort: z.number().int().min(1).max(15),
  flash: flashSize,
  psram: psramSize.default(0),
  usb: usbKind,
  /** Factory MAC. Virtual benches derive one from the board id when omitted. */
  mac: mac.optional(),
  /** Physical benches: a tty that overrides discovery by port path (e.g. `/dev/ttyUSB0`). */
  tty: z.string().min(1).optional(),
  /** Physical benches: an RFC 2217 server (ser2net) in front of the board, e.g. `rfc2217://10.0.0.5:4001`. */
  rfc2217: z.string().regex(/^rfc2217:\/\/[^\s:/]+:\d+$/, 'must look like "rfc2217://host:port"').optional(),
  labels: z.array(z.string()).default([]),
}).strict().superRefine((board, ctx) => {
  if (board.chip === 'esp32' && board.usb === 'native') {
    ctx.addIssue({ code: 'custom', path: ['usb'], message: 'an esp32 has no native USB; use "uart-bridge"' });
  }
}, { when: () => true });

const virtualSchema = z.object({
  /** Where the lab keeps each board's flash file. Relative paths are relative to the bench file. */
  stateDir: z.string().min(1).optional(),
  /** Firmware flashed into a board whose flash file is new. */
  stockFirmware: z.object({ version: firmwareVersion.default('v1.24.1') }).strict().default({ version: 'v1.24.1' }),
  /** 1 = wire time at the real baud rate; larger = faster; 0 = unpaced. */
  speedFactor: z.number().nonnegative().default(1),
  /**
   * The simulated 2.4 GHz medium the boards' ESP-NOW radios share. Fault switches for fault-injection
   * runs: `lossPercent` (every frame and acknowledgement, before retries), `extraLatencyMs` (added to
   * every link), `muted` (boards whose transmissions nobody hears).
   */
  radio: z.object({
    lossPercent: z.number().min(0).max(100).default(0),
    extraLatencyMs: z.number().min(0).max(60_000).default(0),
    /** Link latency each way between every pair of boards, ms. */
    latencyMs: z.number().min(0).max(60_000).default(0),
    muted: z.array(z.string().min(1)).default([]),
  }).strict().optional(),
}).strict();

export const benchSchema = z.object({
  name: identifier,
  kind: z.enum(['virtual', 'physical']),
  description: z.string().optional(),
  virtual: virtualSchema.optional(),
  hubs: z.array(hubSchema).min(1, 'a bench needs at least one hub'),
  boards: z.array(boardSchema).min(1, 'a bench needs at least one board'),
}).strict().superRefine((bench, ctx) => {
  // Runs even when other keys are invalid (see `when` below), so that all problems are reported at once;
  // entries are therefore checked defensively.
  const hubList = Array.isArray(bench.hubs) ? bench.hubs.filter((hub) => typeof hub?.id === 'string') : [];
  const boardList = Array.isArray(bench.boards) ? bench.boards : [];
  const hubs = new Map(hubList.map((hub) => [hub.id, hub]));
  reportDuplicates(hubList.map((hub) => hub.id), ['hubs'], 'id', 'hub ids must be unique', ctx);
  reportDuplicates(boardList.map((board) => board?.id), ['boards'], 'id', 'board ids must be unique', ctx);
  const seenPorts = new Map<string, string>();
  boardList.forEach((board, index) => {
    if (typeof board?.hub !== 'string' || typeof board.hubPort !== 'number') return;
    const hub = hubs.get(board.hub);
    if (!hub) {
      ctx.addIssue({ code: 'custom', path: ['boards', index, 'hub'], message: `no hub with id "${board.hub}" in hubs` });
      return;
    }
    if (board.hubPort > hub.ports) {
      ctx.addIssue({ code: 'custom', path: ['boards', index, 'hubPort'],
        message: `hub "${hub.id}" has ports 1-${hub.ports}, there is no port ${board.hubPort}` });
      return;
    }
    const path = `${hub.portPath}.${board.hubPort}`;
    const other = seenPorts.get(path);
    if (other !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['boards', index, 'hubPort'],
        message: `port path ${path} is already used by board "${other}"; two boards cannot share a port` });
    }
    seenPorts.set(path, board.id);
  });
  const boardIds = new Set(boardList.map((board) => board?.id));
  (Array.isArray(bench.virtual?.radio?.muted) ? bench.virtual.radio.muted : []).forEach((id, index) => {
    if (!boardIds.has(id)) ctx.addIssue({ code: 'custom', path: ['virtual', 'radio', 'muted', index], message: `no board with id "${id}" in boards` });
  });
  if (bench.kind === 'physical' && bench.virtual !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['virtual'], message: 'only virtual benches take a "virtual" section' });
  }
}, { when: () => true });

function reportDuplicates(values: (string | undefined)[], path: (string | number)[], key: string, message: string, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  values.forEach((value, index) => {
    if (value === undefined) return;
    if (seen.has(value)) ctx.addIssue({ code: 'custom', path: [...path, index, key], message: `${message} ("${value}" repeats)` });
    seen.add(value);
  });
}

/** A bench file as written (before defaults). */
export type BenchFileInput = z.input<typeof benchSchema>;
/** A validated bench file with defaults applied and sizes in bytes. */
export type BenchFile = z.output<typeof benchSchema>;
export type BoardConfig = BenchFile['boards'][number];
export type HubConfig = BenchFile['hubs'][number];
