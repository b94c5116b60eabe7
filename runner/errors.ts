/**
 * The rig's one error catalogue. Every error the rig raises on purpose is a {@link HilError} with a
 * stable `code`; callers branch on `code` (never on message text) and on `kind`, which decides the CLI
 * exit code and whether a job is retried elsewhere.
 */

/** What went wrong, in the sense that decides what happens next. */
export type ErrorKind =
  /** The input (config, suite, image, flags) is wrong: exit 2, nothing was changed. */
  | 'bad-input'
  /** The board, port or rig misbehaved: exit 3, retryable on other boards. */
  | 'infrastructure'
  /** The firmware under test is wrong: reported as a test failure (exit 1), never thrown to the CLI. */
  | 'test-failure';

/** Stable error codes. Add new ones here only; tests check that each is documented in the README. */
export const ErrorCodes = {
  CONFIG_NOT_FOUND: { kind: 'bad-input', summary: 'a bench or config file does not exist' },
  CONFIG_INVALID: { kind: 'bad-input', summary: 'a bench or config file breaks the schema' },
  SUITE_NOT_FOUND: { kind: 'bad-input', summary: 'a suite path does not exist or has no suite.yaml' },
  SUITE_INVALID: { kind: 'bad-input', summary: 'a suite manifest breaks the suite schema' },
  NOT_ENOUGH_BOARDS: { kind: 'bad-input', summary: 'a suite asks for more boards than the bench has' },
  USAGE: { kind: 'bad-input', summary: 'wrong command-line usage' },
  PORT_IN_USE: { kind: 'bad-input', summary: 'a serial port or RFC 2217 endpoint is already open elsewhere' },
  PORT_UNREACHABLE: { kind: 'infrastructure', summary: 'a serial port or RFC 2217 endpoint cannot be opened' },
  RFC2217_NEGOTIATION: { kind: 'infrastructure', summary: 'the remote end does not speak RFC 2217' },
  LINK_GONE: { kind: 'infrastructure', summary: 'the serial link closed or vanished during use' },
  TIMEOUT: { kind: 'infrastructure', summary: 'a board did not answer within its deadline' },
  REPL_PROTOCOL: { kind: 'infrastructure', summary: 'a board answered outside the raw REPL protocol' },
  ABORTED: { kind: 'infrastructure', summary: 'the operation was cancelled' },
  SIM_START: { kind: 'infrastructure', summary: 'the virtual lab could not start' },
  APP_BUNDLE_INVALID: { kind: 'bad-input', summary: 'an application bundle is missing, unreadable or has paths that escape its root' },
  APP_TOO_LARGE: { kind: 'bad-input', summary: "an application bundle does not fit the board's filesystem" },
  APP_DEPLOY_FAILED: { kind: 'infrastructure', summary: 'a deployed file did not verify by hash on the board' },
  FIRMWARE_INVALID: { kind: 'bad-input', summary: 'a firmware file is missing, empty, not an ESP image, corrupt or too large' },
  FLASH_CHIP_MISMATCH: { kind: 'bad-input', summary: 'a firmware image or the detected chip does not match the board' },
  FLASH_VERIFY_FAILED: { kind: 'infrastructure', summary: 'flash contents differ from the image after writing (MD5)' },
  FLASH_PROTOCOL: { kind: 'infrastructure', summary: 'the ROM loader or flasher stub failed a command' },
  USB_UNAVAILABLE: { kind: 'infrastructure', summary: 'the host sees no USB bus (container, missing /sys/bus/usb, no permission)' },
  USB_TRANSFER_FAILED: { kind: 'infrastructure', summary: "a USB transfer, claim or open on a board's device was refused, failed or stalled where success was required" },
  HUB_NOT_FOUND: { kind: 'infrastructure', summary: 'the hub a board sits on is not enumerated' },
  HUB_NO_PORT_POWER: { kind: 'bad-input', summary: 'a hub (or root port) cannot switch power per port' },
  HUB_REQUEST_FAILED: { kind: 'infrastructure', summary: 'a hub class request stalled, failed, or did not take effect' },
  PORT_EMPTY: { kind: 'bad-input', summary: 'a power request names a hub port with no board on it' },
  BOARDS_BUSY: { kind: 'infrastructure', summary: 'boards are leased by another run and the run would not wait (--no-wait) or gave up (--wait-timeout)' },
  LEASE_LOST: { kind: 'infrastructure', summary: 'a held board lease was taken over after missed heartbeats' },
  BOARD_REBOOTED: { kind: 'infrastructure', summary: 'a board rebooted unexpectedly during a test (the console is the evidence)' },
  USB_DESCRIPTOR_INVALID: { kind: 'infrastructure', summary: "a device's USB descriptors are malformed or break USB 2.0 ch. 9, so a host would not enumerate it" },
  BOARD_NOT_ENUMERATED: { kind: 'infrastructure', summary: 'a board did not enumerate on its hub port within its deadline' },
} as const satisfies Record<string, { kind: ErrorKind; summary: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

/** Facts that help a person see what happened: which board, which phase, what it last printed. */
export interface ErrorEvidence {
  boardId?: string;
  portPath?: string;
  phase?: string;
  file?: string;
  /** The last lines the board printed, most recent last. */
  consoleTail?: string;
  [key: string]: unknown;
}

/** An error the rig raises on purpose, with a stable code and evidence. */
export class HilError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly evidence: ErrorEvidence;

  constructor(code: ErrorCode, message: string, evidence: ErrorEvidence = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HilError';
    this.code = code;
    this.kind = ErrorCodes[code].kind;
    this.evidence = evidence;
  }
}

/** True when `err` is a {@link HilError}, optionally with the given code. */
export function isHilError(err: unknown, code?: ErrorCode): err is HilError {
  return err instanceof HilError && (code === undefined || err.code === code);
}

/** CLI exit codes (HOUSE-STYLE: 0 passed, 1 test failures, 2 bad input, 3 infrastructure). */
export const ExitCode = { passed: 0, testFailures: 1, badInput: 2, infrastructure: 3 } as const;

/** The exit code an error ends the CLI with: bad input → 2, everything else unexpected → 3. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof HilError) return err.kind === 'bad-input' ? ExitCode.badInput : ExitCode.infrastructure;
  return ExitCode.infrastructure;
}
