/**
 * The suite format. A suite is a folder with a `suite.yaml` manifest and board-side MicroPython scripts.
 * Each test case is a short list of steps; board scripts pass when they finish without an exception and
 * record facts by printing `HIL:PROP name=value` lines.
 *
 * ```yaml
 * name: smoke
 * boards: { count: 1, placement: each-board, chips: [esp32, esp32s3] }
 * tests:
 *   - name: exec round trip
 *     steps:
 *       - exec: roundtrip.py
 *       - soft-reset: {}
 * ```
 */
import { z } from 'zod';

const timeoutMs = z.number().int().positive().max(3_600_000);

/**
 * Runs a board-side script (path relative to the suite folder) in the raw REPL. With `reconnect`, the
 * script may take the board off the USB bus (`USBDevice.active()` changes re-enumerate a native-USB
 * board): its serial port is then found again by port path and the step passes once the board answers
 * at the raw prompt (records `reconnectMs`, `reconnectAttempts`); what the script printed after the
 * drop is lost with the old port, so checks belong in a following step.
 */
const execStep = z.object({
  exec: z.string().regex(/^[\w./-]+\.py$/, 'must be a .py file inside the suite folder'),
  timeoutMs: timeoutMs.default(10_000),
  reconnect: z.boolean().default(false),
  /**
   * The script removes the board's REPL port (a runtime device with `BUILTIN_NONE`): the link must
   * drop and the board must come back on the bus without a serial interface (recorded as
   * `usbIdWithoutRepl`). Later steps talk to it over USB only, until a `recover` step.
   */
  expectReplPortGone: z.boolean().default(false),
}).strict().refine((step) => !(step.reconnect && step.expectReplPortGone), { message: 'reconnect and expectReplPortGone exclude each other' });

/**
 * Soft reset from the raw REPL (Ctrl-D) and re-enter it; records `softResetMs`. A board that leaves
 * the bus meanwhile (a runtime USB device was active) is reconnected by port path; then `reconnectMs`,
 * `reconnectAttempts` and `reconnectTty` are recorded too. `expectReconnect` makes either outcome a
 * checked expectation.
 */
const softResetStep = z.object({
  'soft-reset': z.object({
    timeoutMs: timeoutMs.default(10_000),
    /** What triggers it: Ctrl-D at the raw prompt (default), `machine.soft_reset()`, or `raise SystemExit`. */
    via: z.enum(['ctrl-d', 'machine.soft_reset', 'SystemExit']).default('ctrl-d'),
    expectReconnect: z.boolean().optional(),
  }).strict().default({ timeoutMs: 10_000, via: 'ctrl-d' }),
}).strict();

/** Hard reset (EN pulse on bridge boards, `machine.reset()` on native USB) and wait for the REPL; records `bootMs`. */
const hardResetStep = z.object({
  'hard-reset': z.object({ timeoutMs: timeoutMs.default(15_000) }).strict().default({ timeoutMs: 15_000 }),
}).strict();

/** Writes a file of random bytes from the host, reads it back, checks its hash on the board, deletes it. */
const fileRoundTripStep = z.object({
  'file-roundtrip': z.object({
    path: z.string().regex(/^\/[\w./-]+$/, 'must be an absolute board path like "/hil_test.bin"'),
    sizeBytes: z.number().int().min(0).max(1024 * 1024).default(4096),
    timeoutMs: timeoutMs.default(20_000),
  }).strict(),
}).strict();

/** Compares the booted firmware version with the image flashed for this run (`--firmware`); skipped without one. */
const checkFirmwareVersionStep = z.object({
  'check-firmware-version': z.object({}).strict(),
}).strict();

const byte = z.number().int().min(0).max(255);

/** What one interface of the board's USB configuration must look like (alternate setting 0). */
const usbInterfaceExpectation = z.object({
  number: byte,
  class: byte,
  subclass: byte.optional(),
  protocol: byte.optional(),
  /** Its endpoint addresses (bit 7 = IN), in descriptor order. */
  endpoints: z.array(byte).optional(),
  /** Its iInterface text. */
  string: z.string().optional(),
}).strict();

/**
 * The host reads the board's descriptors by port path (host-side USB view) and checks them: the
 * interfaces in order, whether the host made a serial port for it, and that nothing in them is what
 * a host refuses. Records `usbId`, `usbInterfaces` and `usbProblems`.
 */
const usbDescriptorsStep = z.object({
  'usb-descriptors': z.object({
    serialPort: z.boolean().optional(),
    interfaces: z.array(usbInterfaceExpectation).min(1).optional(),
    timeoutMs: timeoutMs.default(5000),
  }).strict(),
}).strict();

/**
 * Vendor control-transfer round trip to the first interface of `interfaceClass`: random bytes out
 * with request `outRequest`, read back with `inRequest`, compared. Records `controlEchoMs`.
 */
const usbControlEchoStep = z.object({
  'usb-control-echo': z.object({
    interfaceClass: byte,
    outRequest: byte,
    inRequest: byte,
    sizeBytes: z.number().int().min(1).max(4096).default(64),
    timeoutMs: timeoutMs.default(5000),
  }).strict(),
}).strict();

/**
 * Bulk loopback through the first interface of `interfaceClass`: its bulk OUT and IN endpoints, one
 * packet at a time, each read back and compared. Records `bulkLoopbackMs` and `bulkLoopbackBytesPerSecond`.
 */
const usbBulkLoopbackStep = z.object({
  'usb-bulk-loopback': z.object({
    interfaceClass: byte,
    sizeBytes: z.number().int().min(1).max(1024 * 1024).default(4096),
    timeoutMs: timeoutMs.default(10_000),
  }).strict(),
}).strict();

/**
 * Climbs the recovery ladder (interrupt → soft reset → hard reset → hub port power cycle) until the
 * board answers at the raw prompt again; records `recoveredBy`. `expectRung` makes the rung a check.
 */
const recoverStep = z.object({
  recover: z.object({
    expectRung: z.enum(['interrupt', 'soft-reset', 'hard-reset', 'power-cycle']).optional(),
    timeoutMs: timeoutMs.default(30_000),
  }).strict(),
}).strict();

export const boardStepSchema = z.union([execStep, softResetStep, hardResetStep, fileRoundTripStep, checkFirmwareVersionStep,
  usbDescriptorsStep, usbControlEchoStep, usbBulkLoopbackStep, recoverStep]);

// Bench steps act on the whole board set from the host side (USB topology, hub port power); they run
// once per set, not once per board, and need the bench's USB view (skipped with the reason without one).

/**
 * Powers every board's hub port off for `offMs`, on again, and waits until each board's port path has
 * a serial device that stays put for `settleMs`; records `<board>.enumerationMs` from power-on. A board
 * that does not appear by `deadlineMs` is an infrastructure error naming its port.
 */
const usbPowerCycleStep = z.object({
  'usb-power-cycle': z.object({
    offMs: z.number().int().min(0).max(60_000).default(1000),
    deadlineMs: timeoutMs.default(10_000),
    settleMs: z.number().int().min(0).max(10_000).default(300),
  }).strict(),
}).strict();

/** Fails when two boards report the same USB serial string (or, with `requirePresent`, none). */
const usbUniqueSerialsStep = z.object({
  'usb-unique-serials': z.object({ requirePresent: z.boolean().default(false) }).strict(),
}).strict();

/**
 * Finds each board's serial endpoint again by its port path (tty names change on re-enumeration),
 * opens it, and confirms identity by the MAC the board reports; fails on a MAC the bench does not expect
 * or two boards with one MAC.
 */
const usbIdentifyStep = z.object({
  'usb-identify': z.object({}).strict(),
}).strict();

export const benchStepSchema = z.union([usbPowerCycleStep, usbUniqueSerialsStep, usbIdentifyStep]);

/**
 * Runs a MicroPython multi-instance test file (`tests/multi_*` format: `instanceN()` functions, a
 * `.exp` beside it) on the first boards of the set, instance N on board N. Alone in its test case.
 */
const multitestStep = z.object({
  multitest: z.string().regex(/^[\w./-]+\.py$/, 'must be a .py multitest file inside the suite folder'),
  /** An instance that prints no line for this long gets TIMEOUT in its output, as upstream (10 s). */
  instanceTimeoutMs: timeoutMs.default(10_000),
  /**
   * Role permutations: run the file this many times with different assignments of instances to the
   * set's boards (`all`: every assignment). The test passes only when every run does. Default 1.
   */
  roles: z.union([z.number().int().min(1).max(720), z.literal('all')]).default(1),
}).strict();

const anyStep = z.union([boardStepSchema, benchStepSchema, multitestStep]);

/** Each step kind by the key that names it, so a bad step is reported with its own schema's problems. */
const STEP_KINDS: readonly (readonly [string, z.ZodType])[] = [
  ['exec', execStep], ['soft-reset', softResetStep], ['hard-reset', hardResetStep], ['file-roundtrip', fileRoundTripStep],
  ['check-firmware-version', checkFirmwareVersionStep], ['usb-descriptors', usbDescriptorsStep], ['usb-control-echo', usbControlEchoStep],
  ['usb-bulk-loopback', usbBulkLoopbackStep], ['recover', recoverStep], ['usb-power-cycle', usbPowerCycleStep],
  ['usb-unique-serials', usbUniqueSerialsStep], ['usb-identify', usbIdentifyStep], ['multitest', multitestStep],
];

const ONE_STEP_MESSAGE = 'must be one step: { exec: file.py }, { soft-reset: {} }, { hard-reset: {} }, { file-roundtrip: { path } }, ' +
  '{ check-firmware-version: {} }, { usb-descriptors: {} }, { usb-control-echo: {…} }, { usb-bulk-loopback: {…} }, { recover: {} }, ' +
  '{ usb-power-cycle: {} }, { usb-unique-serials: {} }, { usb-identify: {} } or { multitest: file.py }';

export const stepSchema = z.unknown().transform((value, ctx): z.output<typeof anyStep> => {
  const kind = typeof value === 'object' && value !== null ? STEP_KINDS.find(([key]) => key in value) : undefined;
  if (kind === undefined) {
    ctx.addIssue({ code: 'custom', message: ONE_STEP_MESSAGE });
    return z.NEVER;
  }
  const parsed = kind[1].safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
  }
  return anyStep.parse(parsed.data);
});

/** True for a `multitest` step. */
export function isMultitestStep(step: Step): step is MultitestStep {
  return 'multitest' in step;
}

/** True for steps that run once per board set from the host (`usb-*`). */
export function isBenchStep(step: Step): step is BenchStep {
  return 'usb-power-cycle' in step || 'usb-unique-serials' in step || 'usb-identify' in step;
}

export const testCaseSchema = z.object({
  name: z.string().min(1).max(200),
  description: z.string().optional(),
  /** Skip on these chips, with the reason shown in the report. */
  skip: z.object({ chips: z.array(z.enum(['esp32', 'esp32s3'])).min(1), reason: z.string().min(1) }).strict().optional(),
  steps: z.array(stepSchema).min(1, 'a test needs at least one step'),
}).strict().refine((test) => !Array.isArray(test.steps) || new Set(test.steps.map((step) => isBenchStep(step))).size <= 1, {
  message: 'a test runs either board steps or bench steps (usb-*), not both',
  path: ['steps'],
}).refine((test) => !Array.isArray(test.steps) || !test.steps.some((step) => isMultitestStep(step)) || test.steps.length === 1, {
  message: 'a multitest step is the only step of its test',
  path: ['steps'],
});

export const suiteManifestSchema = z.object({
  name: z.string().regex(/^[\w.-]+$/, 'must be a short name (letters, digits, ".", "-", "_")'),
  description: z.string().optional(),
  boards: z.object({
    /** Boards in one board set. */
    count: z.number().int().min(1).max(32).default(1),
    /**
     * `each-board`: one board set per eligible board (count must be 1), all run side by side.
     * `one-set`: a single set of `count` boards.
     * `whole-bench`: one set of every eligible board (count is the minimum).
     */
    placement: z.enum(['each-board', 'one-set', 'whole-bench']).default('each-board'),
    /** Eligible chips; default any. */
    chips: z.array(z.enum(['esp32', 'esp32s3'])).min(1).optional(),
  }).strict().default({ count: 1, placement: 'each-board' }),
  /**
   * Open each board's REPL before the tests (default). `false` for host-side suites (enumeration) that
   * power boards off and must not hold their serial ports.
   */
  connect: z.boolean().default(true),
  tests: z.array(testCaseSchema).min(1, 'a suite needs at least one test'),
}).strict().superRefine((suite, ctx) => {
  // Runs even when other keys are invalid (see `when` below), so every value is checked defensively.
  if (suite.boards?.placement === 'each-board' && suite.boards.count !== 1) {
    ctx.addIssue({ code: 'custom', path: ['boards', 'count'], message: 'placement "each-board" runs on one board at a time; count must be 1' });
  }
  if (suite.connect === false) {
    (Array.isArray(suite.tests) ? suite.tests : []).forEach((test, index) => {
      if (Array.isArray(test?.steps) && test.steps.some((step) => !isBenchStep(step))) {
        ctx.addIssue({ code: 'custom', path: ['tests', index, 'steps'], message: 'a suite with "connect: false" runs only bench steps (usb-*)' });
      }
    });
  }
  const names = new Set<string>();
  (Array.isArray(suite.tests) ? suite.tests : []).forEach((test, index) => {
    if (typeof test?.name === 'string' && names.has(test.name)) ctx.addIssue({ code: 'custom', path: ['tests', index, 'name'], message: `test names must be unique ("${test.name}" repeats)` });
    names.add(test?.name);
  });
}, { when: () => true });

export type SuiteManifest = z.output<typeof suiteManifestSchema>;
export type TestCase = SuiteManifest['tests'][number];
export type Step = z.output<typeof stepSchema>;
export type BoardStep = z.output<typeof boardStepSchema>;
export type BenchStep = z.output<typeof benchStepSchema>;
export type MultitestStep = z.output<typeof multitestStep>;
