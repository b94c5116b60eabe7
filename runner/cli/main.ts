/**
 * The `hil` command line: a thin shell over the programmatic API. Usage errors exit 2; the exit codes
 * of each command follow HOUSE-STYLE (0 passed, 1 test failures, 2 bad input, 3 infrastructure).
 */
import { Command, CommanderError, Option } from 'commander';
import { exitCodeFor, ExitCode, HilError } from '../errors.ts';
import { runCommand } from './run-command.ts';
import { simCommand } from './sim-command.ts';
import { firmwareBuildCommand } from './firmware-build-command.ts';
import { firmwareInspectCommand } from './firmware-inspect-command.ts';
import { flashCommand } from './flash-command.ts';
import { boardsCommand } from './boards-command.ts';
import { powerCommand, type PowerAction } from './power-command.ts';
import type { CliIo } from './cli-io.ts';
import { processIo } from './cli-io.ts';

/** Runs the CLI with `argv` (without `node` and the script) and returns the exit code. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  let exitCode: number = ExitCode.passed;
  const program = new Command('hil')
    .description('Hardware-in-the-loop test rig for ESP32-family boards running MicroPython. Without --bench every ' +
      'command uses the virtual lab (hil-config/bench.yaml): simulated boards running the real MicroPython ' +
      'interpreter, reached over RFC 2217 on loopback.')
    .addHelpText('after', [
      '',
      'Examples:',
      '  hil run suites/smoke                      run the smoke suite on every board of the virtual lab',
      '  hil run suites/smoke --junit out.xml      ... and write JUnit XML',
      '  hil run suites/smoke --bench my-bench.yaml --board s3-devkit-1',
      '  hil run suites/espnow                     ESP-NOW multi-board tests (multitest files) on six boards',
      '  hil run path/to/test.py --roles all       one MicroPython multitest file, every assignment of boards',
      '  hil run suites/enumeration                power-cycle every board through its hub port and check enumeration',
      '  hil run suites/usbdevice suites/soft-reset  machine.USBDevice interfaces seen from the host; soft resets that re-enumerate',
      '  hil boards                                port path, USB identity, MAC, firmware and state of every board',
      '  hil sim --base-port 4000                  serve the virtual lab on ports 4001.. for other tools',
      '',
      'Exit codes: 0 all passed, 1 test failures, 2 bad input (nothing was touched), 3 board or rig error.',
    ].join('\n'))
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run "hil --help" for usage)');
  const logLevel = new Option('--log-level <level>', 'log level on stderr (trace shows serial traffic)')
    .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('error');

  program.command('run')
    .description('Run suites on the bench and report the results (exit 0 all passed, 1 failures, 2 bad input, 3 rig error)')
    .argument('<suites...>', 'suite folders, e.g. suites/smoke')
    .option('--bench <file>', 'bench file (default: the virtual lab, hil-config/bench.yaml)')
    .option('--junit <file>', 'write JUnit XML to this file')
    .option('--json', 'print a JSON report on stdout instead of the readable summary')
    .option('--board <id...>', 'use only these boards of the bench')
    .option('--firmware <file>', 'flash this image onto every board the run uses (boards of another chip are left out) ' +
      'before the suites; unchanged regions are skipped, changed ones diff-flashed, all verified by MD5')
    .option('--app <dir|zip>', 'deploy this application bundle (.py/.mpy files) to every board before the suites: ' +
      'changed files only, verified by hash; files dropped from the bundle are deleted')
    .option('--no-wait', 'fail at once (exit 3, BOARDS_BUSY) when another run holds a board, instead of waiting for it')
    .option('--wait-timeout <seconds>', 'give up waiting for boards held by other runs after this long (exit 3, BOARDS_BUSY)', parseSeconds)
    .option('--roles <n|all>', 'for multitest files given directly (path/test.py): run each with this many assignments ' +
      'of instances to boards, or all of them; passes only when every assignment does', parseRoles)
    .addOption(logLevel)
    .action(async (suites: string[], options: { bench?: string; junit?: string; json?: boolean; board?: string[]; app?: string; firmware?: string; logLevel: string; wait?: boolean; waitTimeout?: number; roles?: number | 'all' }) => {
      exitCode = await runCommand({ suites, ...options }, io);
    });

  program.command('sim')
    .description('Start the virtual lab in the foreground and print each board\'s RFC 2217 URL, chip, MAC and ' +
      'USB identity, for esptool.py, mpremote or pyserial. Runs until Ctrl-C (SIGINT) or SIGTERM. While it runs, ' +
      '`hil run` with the same bench uses these boards instead of starting its own lab.')
    .option('--bench <file>', 'virtual bench file (default: hil-config/bench.yaml)')
    .option('--base-port <port>', 'serve board N on port base+N (default: any free ports)', parsePort)
    .addOption(logLevel)
    .action(async (options: { bench?: string; basePort?: number; logLevel: string }) => {
      exitCode = await simCommand(options, io);
    });

  program.command('flash')
    .description('Flash a firmware image onto boards of the bench (all boards of the image\'s chip, or --board): ' +
      'checks the image first, skips regions that already match, writes only changed sectors, verifies by MD5, ' +
      'resets and confirms the board boots the image\'s version')
    .argument('<file>', 'merged image (bootloader + partition table + app) or application image (.bin)')
    .option('--bench <file>', 'bench file (default: the virtual lab, hil-config/bench.yaml)')
    .option('--board <id...>', 'flash only these boards')
    .option('--app <dir|zip>', 'then deploy this application bundle (changed files only, verified by hash)')
    .option('--no-wait', 'fail at once (exit 3, BOARDS_BUSY) when another run holds a board, instead of waiting for it')
    .option('--wait-timeout <seconds>', 'give up waiting for boards held by other runs after this long (exit 3, BOARDS_BUSY)', parseSeconds)
    .addOption(logLevel)
    .action(async (file: string, options: { bench?: string; board?: string[]; app?: string; logLevel: string; wait?: boolean; waitTimeout?: number }) => {
      exitCode = await flashCommand(file, options, io);
    });

  program.command('boards')
    .description('List every board of the bench like `mpremote devs`, but with identity: port path, tty and RFC 2217 URL, ' +
      'VID:PID, USB serial, manufacturer/product, chip, MAC (confirmed against the bench file), firmware version and state')
    .option('--bench <file>', 'bench file (default: the virtual lab, hil-config/bench.yaml)')
    .option('--json', 'print one JSON document ({ bench, usb, probed, boards: [...] }) instead of the table')
    .option('--no-probe', 'do not open the boards\' REPLs: faster, MAC and firmware version stay blank')
    .addOption(logLevel)
    .addHelpText('after', [
      '',
      'States: idle (free; answered its REPL unless --no-probe), leased (held by another run: shown with who, never',
      '  touched), offline (nothing enumerated at its port path, or its serial endpoint or REPL did not answer; a note',
      '  says why). A quarantined state comes with the job queue\'s board health counters; it does not exist yet.',
      'Each idle board is leased for the moment it takes to read its MAC and firmware version (no soft reset).',
      'A board that reports another MAC than the bench expects is flagged: another board is plugged into that port.',
      '',
      'Exit codes: 0 every board listed (idle or leased), 2 bad bench file, 3 a board is offline or has a foreign MAC.',
    ].join('\n'))
    .action(async (options: { bench?: string; json?: boolean; probe?: boolean; logLevel: string }) => {
      exitCode = await boardsCommand(options, io);
    });

  program.command('power')
    .description('Switch the hub port power of one board (by board id or port path): on, off, or cycle. Uses the ' +
      'USB hub class requests (the same as uhubctl); refuses hubs without per-port switching and ports with no bench board')
    .argument('<action>', 'on, off or cycle')
    .argument('<target>', 'board id (e.g. s3-a) or its port path (e.g. 1-1.1)')
    .option('--bench <file>', 'bench file (default: the virtual lab, hil-config/bench.yaml)')
    .option('--off-ms <ms>', 'how long the port stays off in a cycle', parseMillis, 1000)
    .option('--no-wait', 'fail at once (exit 3, BOARDS_BUSY) when another run holds the board')
    .option('--wait-timeout <seconds>', 'give up waiting for the board after this long (exit 3, BOARDS_BUSY)', parseSeconds)
    .addOption(logLevel)
    .action(async (action: string, target: string, options: { bench?: string; offMs: number; logLevel: string; wait?: boolean; waitTimeout?: number }) => {
      exitCode = await powerCommand(action as PowerAction, target, options, io);
    });

  const firmware = program.command('firmware').description('Inspect and build firmware images');
  firmware.command('inspect')
    .description('Check a firmware file as the flasher would: kind, chip, header, segments, checksum, SHA-256, ' +
      'app descriptor, the parts it would write, and a verdict (exit 2 when the flasher would refuse it)')
    .argument('<file>', 'merged image or application image (.bin)')
    .option('--chip <chip>', 'check against this chip (default: the chip the image names)')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, options: { chip?: string; json?: boolean }) => {
      exitCode = await firmwareInspectCommand(file, options, io);
    });
  firmware.command('build-sim')
    .description('Write an image of a simulated MicroPython build (merged: bootloader + partition table + app)')
    .requiredOption('--chip <chip>', 'esp32 or esp32s3')
    .requiredOption('--version <version>', 'MicroPython version, e.g. v1.24.1')
    .requiredOption('-o, --output <file>', 'where to write the image')
    .option('--project <name>', 'project name in the app descriptor (default micropython)')
    .option('--board-name <name>', 'board name printed in the banner')
    .option('--app-size <size>', 'application size, e.g. 1500000 or 1MB (default about 1.5 MB)')
    .option('--flash-size <size>', 'flash size the partition table is laid out for, e.g. 4MB')
    .option('--quirk <name=value...>', 'build quirks the simulated firmware honours')
    .option('--seed <n>', 'content seed (different seeds give different images)')
    .option('--app-only', 'write only the application image (flashed at 0x10000)')
    .action(async (options: Parameters<typeof firmwareBuildCommand>[0]) => {
      exitCode = await firmwareBuildCommand(options, io);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err: unknown) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? ExitCode.passed : ExitCode.badInput;
    }
    io.stderr.write(`hil: ${describeError(err)}\n`);
    return exitCodeFor(err);
  }
}

function parseRoles(value: string): number | 'all' {
  if (value === 'all') return 'all';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 720) throw new HilError('USAGE', `--roles must be "all" or a whole number from 1 to 720 (got "${value}")`);
  return n;
}

function parseMillis(value: string): number {
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 0 || ms > 600_000) throw new HilError('USAGE', `--off-ms must be whole milliseconds between 0 and 600000 (got "${value}")`);
  return ms;
}

function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new HilError('USAGE', `--wait-timeout must be a positive number of seconds (got "${value}")`);
  }
  return seconds;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65000) {
    throw new HilError('USAGE', `--base-port must be a TCP port number between 1 and 65000 (got "${value}")`);
  }
  return port;
}

/** One readable paragraph for an error, with its code. */
export function describeError(err: unknown): string {
  if (err instanceof HilError) return `${err.message} [${err.code}]`;
  if (err instanceof Error) return `unexpected error: ${err.stack ?? err.message}`;
  return `unexpected error: ${String(err)}`;
}
