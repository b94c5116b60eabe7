/**
 * `hil firmware build-sim`: writes an image of a simulated MicroPython build (the virtual lab's
 * firmware builder, exposed), so demos, tests and CI jobs can flash real-format images without a
 * toolchain. Default output is a merged image (bootloader + partition table + app at the chip's
 * offsets); `--app-only` writes just the application image (flashed at 0x10000).
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { buildFirmware } from '../../sim/firmware/image-builder.ts';
import { HilError } from '../errors.ts';
import type { CliIo } from './cli-io.ts';

export interface FirmwareBuildOptions {
  chip: string;
  version: string;
  output: string;
  project?: string;
  boardName?: string;
  appSize?: string;
  flashSize?: string;
  quirk?: string[];
  seed?: string;
  appOnly?: boolean;
}

const CHIPS = ['esp32', 'esp32s3'] as const;

export async function firmwareBuildCommand(options: FirmwareBuildOptions, io: CliIo): Promise<number> {
  const chip = CHIPS.find((c) => c === options.chip);
  if (chip === undefined) throw new HilError('USAGE', `--chip must be one of ${CHIPS.join(', ')} (got "${options.chip}")`);
  if (!/^v\d+\.\d+\.\d+(-[\w.]+)?$/.test(options.version)) {
    throw new HilError('USAGE', `--version must be a MicroPython version like v1.24.1 (got "${options.version}")`);
  }
  const flashSizeBytes = options.flashSize === undefined ? undefined : parseSize('--flash-size', options.flashSize);
  const appSizeBytes = options.appSize === undefined ? undefined : parseSize('--app-size', options.appSize);
  const quirks: Record<string, string> = {};
  for (const entry of options.quirk ?? []) {
    const match = /^([\w.-]+)=(.*)$/.exec(entry);
    if (!match?.[1]) throw new HilError('USAGE', `--quirk must be name=value (got "${entry}")`);
    quirks[match[1]] = match[2] ?? '';
  }
  const output = resolve(io.cwd, options.output);
  if (existsSync(output) && statSync(output).isDirectory()) throw new HilError('USAGE', `-o ${output} is a directory; give a file name`);
  if (!existsSync(dirname(output))) throw new HilError('USAGE', `-o ${output}: folder ${dirname(output)} does not exist`);

  let build;
  try {
    build = buildFirmware({
      chip,
      version: options.version,
      ...(options.project !== undefined ? { projectName: options.project } : {}),
      ...(options.boardName !== undefined ? { boardName: options.boardName } : {}),
      ...(appSizeBytes !== undefined ? { appSizeBytes } : {}),
      ...(flashSizeBytes !== undefined ? { flashSizeBytes } : {}),
      ...(Object.keys(quirks).length > 0 ? { quirks } : {}),
      ...(options.seed !== undefined ? { seed: Number(options.seed) } : {}),
    });
  } catch (err: unknown) {
    throw new HilError('USAGE', `cannot build that firmware: ${err instanceof Error ? err.message : String(err)}`, {}, { cause: err });
  }
  const bytes = options.appOnly === true ? build.app : build.merged();
  writeFileSync(output, bytes);
  io.stdout.write(`${output}: ${options.appOnly === true ? 'application image' : 'merged image'} of simulated MicroPython ` +
    `${options.version} for ${chip}, ${bytes.length} bytes` +
    (options.appOnly === true ? ` (flash at 0x${build.appOffset.toString(16)})` :
      ` (${build.parts.map((p) => `${p.name} @0x${p.offset.toString(16)}`).join(', ')})`) + '\n');
  return 0;
}

function parseSize(flag: string, text: string): number {
  const match = /^(\d+)\s*(KB|MB)?$/i.exec(text);
  if (!match) throw new HilError('USAGE', `${flag} must be a size like 1500000, 512KB or 4MB (got "${text}")`);
  const unit = (match[2] ?? '').toUpperCase();
  return Number(match[1]) * (unit === 'MB' ? 1024 * 1024 : unit === 'KB' ? 1024 : 1);
}
