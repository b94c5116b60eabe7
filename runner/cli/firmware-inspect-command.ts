/**
 * `hil firmware inspect FILE`: what the flasher would see in a firmware file — kind (merged or bare
 * app), chip, header, segments, checksum and SHA-256, app descriptor, the parts it would write — and a
 * verdict. An image the flasher would refuse exits 2 with the same message `hil flash` gives.
 */
import { resolve } from 'node:path';
import { HilError, isHilError } from '../errors.ts';
import { hex32, toHex } from '../firmware/byte-fields.ts';
import { ESP_CHIPS, type ChipName } from '../firmware/esp-chips.ts';
import { formatFlashSize } from '../firmware/esp-image-format.ts';
import { parseEspImage } from '../firmware/esp-image.ts';
import { detectImageChip, planImageBytes, readFirmwareFile, type ImagePlan } from '../flash/image-plan.ts';
import type { CliIo } from './cli-io.ts';

export interface FirmwareInspectOptions {
  chip?: string;
  json?: boolean;
}

export async function firmwareInspectCommand(file: string, options: FirmwareInspectOptions, io: CliIo): Promise<number> {
  const path = resolve(io.cwd, file);
  const chip = options.chip === undefined ? undefined : parseChip(options.chip);
  let plan: ImagePlan;
  let bytes: Uint8Array;
  try {
    bytes = await readFirmwareFile(path);
    // Without --chip, check against the chip the image's own header names.
    plan = planImageBytes(bytes, path, { chip: chip ?? detectImageChip(bytes) ?? 'esp32' });
  } catch (err: unknown) {
    if (!isHilError(err)) throw err;
    if (options.json === true) io.stdout.write(`${JSON.stringify({ file: path, verdict: 'invalid', code: err.code, problem: err.message }, null, 2)}\n`);
    else io.stdout.write(`${path}\nverdict: INVALID — ${err.message} [${err.code}]\n`);
    return 2;
  }
  const regions = plan.parts.map((part) => describePart(part.name, part.offset, part.data, plan.chip));
  if (options.json === true) {
    io.stdout.write(`${JSON.stringify({ file: path, sizeBytes: bytes.length, verdict: 'ok', kind: plan.kind, chip: plan.chip,
      projectName: plan.projectName, version: plan.appVersion, appSha256: plan.appSha256, regions }, null, 2)}\n`);
    return 0;
  }
  const lines = [`${path} (${bytes.length} bytes)`, ...plan.summary.map((line) => `  ${line}`)];
  for (const region of regions) {
    lines.push('', `${region.name} @ ${region.offset} (${region.sizeBytes} bytes)`);
    if (region.header === null) continue;
    const h = region.header;
    lines.push(`  header: ${h.segments} segments, flash ${h.flashMode} ${h.flashFreq} ${h.flashSize}, entry ${h.entry}, chip id ${h.chipId}`);
    for (const s of region.segments) lines.push(`  segment ${s.index}: load ${s.loadAddress}, ${s.lengthBytes} bytes${s.flashMapped ? ' (flash-mapped)' : ''}`);
    lines.push(`  checksum: ${region.checksum}`, `  SHA-256: ${region.sha256}`);
    if (region.app) lines.push(`  app: ${region.app.projectName} ${region.app.version}, built ${region.app.date} ${region.app.time}, ESP-IDF ${region.app.idfVersion}`);
  }
  lines.push('', `verdict: OK — ${plan.kind === 'merged' ? 'merged image' : 'application image'} for ${ESP_CHIPS[plan.chip].displayName}, ` +
    `${plan.projectName} ${plan.appVersion}`);
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

function describePart(name: string, offset: number, data: Uint8Array, chip: ChipName) {
  const info = name === 'partition-table' || name.startsWith('data@') ? null : parseEspImage(data, { expectedChip: chip, flashOffset: offset });
  const ok = (good: boolean): string => (good ? 'ok' : 'MISMATCH');
  return {
    name,
    offset: hex32(offset),
    sizeBytes: data.length,
    header: info?.header ? {
      segments: info.header.segmentCount,
      flashMode: info.header.flashModeName ?? '?',
      flashFreq: info.header.flashFreqMHz === null ? '?' : `${info.header.flashFreqMHz} MHz`,
      flashSize: info.header.flashSizeBytes === null ? '?' : formatFlashSize(info.header.flashSizeBytes),
      entry: hex32(info.header.entryAddress),
      chipId: info.extendedHeader?.chipId ?? '?',
    } : null,
    segments: (info?.segments ?? []).map((s) => ({ index: s.index, loadAddress: hex32(s.loadAddress), lengthBytes: s.lengthBytes, flashMapped: s.flashMapped })),
    checksum: info?.checksum ? `stored 0x${info.checksum.stored.toString(16).padStart(2, '0')}, computed 0x${info.checksum.computed.toString(16).padStart(2, '0')} (${ok(info.checksum.stored === info.checksum.computed)})` : 'n/a',
    sha256: info?.sha256 ? `${toHex(info.sha256.computed)} (${ok(toHex(info.sha256.stored) === toHex(info.sha256.computed))})` : 'not appended',
    app: info?.appDescriptor ?? null,
  };
}

function parseChip(text: string): ChipName {
  if (text === 'esp32' || text === 'esp32s3') return text;
  throw new HilError('USAGE', `--chip must be esp32 or esp32s3 (got "${text}")`);
}
