/** Shared set-up for board tests: a board on an in-memory flash with a fake MicroPython host. */
import type { ChipName } from '../../../runner/firmware/esp-chips.ts';
import { FlashStore } from '../../../sim/board/flash-store.ts';
import { provisionStockFirmware, type FlashableImage } from '../../../sim/board/initial-flash.ts';
import { SimBoard, type BoardHostOptions, type SimBoardOptions, type SimBoardState } from '../../../sim/board/sim-board.ts';
import { buildFirmware, type FirmwareBuild } from '../../../sim/firmware/image-builder.ts';
import { fakeHostFactory, type FakeMicroPythonHost } from './fake-micropython-host.ts';

const builds = new Map<string, FirmwareBuild>();

/** A small MicroPython build, cached per chip/version (building takes tens of milliseconds). */
export function smallFirmware(chip: ChipName, version = 'v1.24.1', extra: { projectName?: string } = {}): FirmwareBuild {
  const key = `${chip}/${version}/${extra.projectName ?? ''}`;
  let fw = builds.get(key);
  if (fw === undefined) {
    fw = buildFirmware({ chip, version, appSizeBytes: 120_000, buildDate: '2024-11-29', quirks: { flavour: 'test' }, ...extra });
    builds.set(key, fw);
  }
  return fw;
}

export const CP2104 = { vid: 0x10c4, pid: 0xea60, manufacturer: 'Silicon Labs', product: 'CP2104 USB to UART Bridge Controller', serialNumber: '01A2B3C4' };

/** Creates a board; `image: null` leaves the flash blank. */
export function makeBoard(
  options: Partial<Omit<SimBoardOptions, 'flash' | 'createHost'>> & {
    chip?: ChipName;
    image?: FlashableImage | null;
    /** Host factory; default a recording {@link fakeHostFactory}. */
    hostFactory?: { hosts: FakeMicroPythonHost[]; create: (options: BoardHostOptions) => FakeMicroPythonHost };
  } = {},
) {
  const chip = options.chip ?? 'esp32';
  const flashSizeBytes = options.flashSizeBytes ?? 4 * 1024 * 1024;
  const flash = FlashStore.inMemory(flashSizeBytes);
  const image = options.image === undefined ? smallFirmware(chip) : options.image;
  if (image !== null) provisionStockFirmware(flash, image);
  const factory = options.hostFactory ?? fakeHostFactory();
  const board = new SimBoard({
    id: 'board-1',
    chip,
    flashSizeBytes,
    psramBytes: 0,
    mac: new Uint8Array([0x24, 0x6f, 0x28, 0xaa, 0xbb, 0xcc]),
    usb: options.usb ?? { kind: 'uart-bridge', bridge: CP2104 },
    speedFactor: options.speedFactor ?? Infinity,
    ...(options.strappingWindowMs !== undefined ? { strappingWindowMs: options.strappingWindowMs } : {}),
    ...(options.bootLoopIntervalMs !== undefined ? { bootLoopIntervalMs: options.bootLoopIntervalMs } : {}),
    ...(options.romLoader !== undefined ? { romLoader: options.romLoader } : {}),
    flash,
    createHost: factory.create,
  });
  let output = '';
  board.serialPort.onTransmit((chunk) => {
    output += new TextDecoder().decode(chunk);
  });
  const states: SimBoardState[] = [];
  board.onStateChange((state) => states.push(state));
  return {
    board,
    flash,
    hosts: factory.hosts,
    states,
    output: () => output,
    clearOutput: () => {
      output = '';
    },
  };
}
