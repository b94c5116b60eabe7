/**
 * The virtual lab: one instance owns every simulated board, its flash file, its MicroPython host
 * factory and the RFC 2217 server in front of its serial port. There is no module-level state, so
 * several labs (e.g. in tests) can run side by side.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { HilError } from '../runner/errors.ts';
import { LabControlServer } from './control/lab-control-server.ts';
import { buildFirmware } from './firmware/image-builder.ts';
import { FlashStore } from './board/flash-store.ts';
import { provisionStockFirmware } from './board/initial-flash.ts';
import { SimBoard, type BoardHostOptions } from './board/sim-board.ts';
import type { UsbDeviceIdentity } from './board/usb-identity.ts';
import type { MicroPythonHost } from './micropython/micropython-host.ts';
import { WasmMicroPythonHost } from './micropython/wasm-micropython-host.ts';
import { Rfc2217Server } from './rfc2217/rfc2217-server.ts';
import { EspRomLoader } from './rom/esp-rom-loader.ts';
import { LabRadioPort } from './radio/lab-radio-port.ts';
import { RadioMedium } from './radio/radio-medium.ts';
import { StateDirLock } from './state-dir-lock.ts';
import { LabDiscovery } from './usb/lab-discovery.ts';
import { createLabHubs, planLabHubs, type LabHubSpec } from './usb/lab-hubs.ts';
import type { SimUsbHub } from './usb/sim-usb-hub.ts';
import { UsbHostNumbering } from './usb/usb-host-numbering.ts';

export type { LabHubSpec } from './usb/lab-hubs.ts';

/** One board of the lab, as the bench file describes it. */
export interface SimLabBoardSpec {
  id: string;
  chip: 'esp32' | 'esp32s3';
  /** USB port path on a simulated hub, e.g. `1-1.3` (hub `1-1`, port 3). */
  portPath: string;
  flashSizeBytes: number;
  psramBytes: number;
  usb: 'native' | 'uart-bridge';
  /** `aa:bb:cc:dd:ee:ff`. */
  mac: string;
}

export interface SimLabOptions {
  boards: readonly SimLabBoardSpec[];
  /** Folder for flash files (`<board id>.flash`); undefined keeps flash in memory only. */
  stateDir: string | undefined;
  /** MicroPython version flashed into boards whose flash is new. */
  stockFirmwareVersion: string;
  /** Wire-time pacing: 1 = real time at the baud rate, larger = faster, 0 = unpaced. */
  speedFactor: number;
  /** Serve board N (1-based, bench order) on `basePort + N`; default: any free port. */
  basePort?: number;
  logger?: Logger;
  /** Radio medium settings and fault switches (bench `virtual.radio`). */
  radio?: LabRadioSettings;
  /** The interpreter behind each board; default: the real MicroPython WebAssembly interpreter. */
  createHost?: (options: BoardHostOptions) => MicroPythonHost;
  /**
   * The simulated USB hubs; default: one individually switched hub per distinct parent path of the
   * boards' port paths, with at least 7 ports.
   */
  hubs?: readonly LabHubSpec[];
}

/** What `running-lab.json` tells other processes about a lab (see {@link SimLab.findRunning}). */
export interface RunningLabRecord {
  pid: number;
  boards: { id: string; url: string }[];
  /**
   * The lab's USB control server, `http://127.0.0.1:<port>` (sim/control/): its devices, hot-plug
   * events and hub requests, for `RemoteLabDiscovery`. Absent in records of labs from before it existed.
   */
  usbControlUrl?: string;
}

/** The lab's radio: link latency and fault switches for fault-injection runs. */
export interface LabRadioSettings {
  /** Every frame and acknowledgement is lost with this probability (before MAC-level retries), %. */
  lossPercent?: number;
  /** Added to every link, ms. */
  extraLatencyMs?: number;
  /** Link latency each way between every pair of boards, ms. */
  latencyMs?: number;
  /** Boards whose transmissions nobody hears. */
  muted?: readonly string[];
}

/** A running board of the lab and where to reach it. */
export interface SimLabBoard {
  spec: SimLabBoardSpec;
  board: SimBoard;
  /** `rfc2217://127.0.0.1:<port>`. */
  url: string;
}

export class SimLab {
  private constructor(
    readonly boards: readonly SimLabBoard[],
    /** The simulated USB hubs the boards are plugged into. */
    readonly hubs: readonly SimUsbHub[],
    /** USB discovery over the hubs, as the runner's bench discovery sees a host. */
    readonly discovery: LabDiscovery,
    private readonly servers: readonly Rfc2217Server[],
    private readonly flashes: readonly FlashStore[],
    private readonly lock: StateDirLock | undefined,
    private readonly control: LabControlServer,
    /** The 2.4 GHz medium the boards' ESP-NOW radios share (placements, link settings, fault switches). */
    readonly radio: RadioMedium,
  ) {}

  /**
   * `http://127.0.0.1:<port>`: {@link discovery} served on loopback for other processes (listed in
   * `running-lab.json`; see sim/control/lab-control-wire.ts for the routes).
   */
  get usbControlUrl(): string {
    return this.control.url;
  }

  /**
   * Opens every board's flash (provisioning the stock firmware into new ones), starts the boards' RFC
   * 2217 servers, plugs each board into its hub port and powers the hub ports on (so boards power up
   * after the hubs' power-good time); resolves once the boards have booted and the hubs' enumerations
   * are done. Throws `CONFIG_INVALID` for a bad USB layout (before anything starts), `SIM_START` when
   * the state folder is in use by another lab or a port cannot be bound; whatever was started is
   * stopped again.
   */
  static async start(options: SimLabOptions): Promise<SimLab> {
    const hubPlan = planLabHubs(options.boards, options.hubs);
    const lock = options.stateDir === undefined ? undefined : StateDirLock.acquire(options.stateDir);
    const flashes: FlashStore[] = [];
    const servers: Rfc2217Server[] = [];
    const boards: SimLabBoard[] = [];
    const hubs: SimUsbHub[] = [];
    let control: LabControlServer | undefined;
    let radio: RadioMedium | undefined;
    try {
      hubs.push(...createLabHubs(hubPlan, { speedFactor: options.speedFactor, numbering: new UsbHostNumbering(), logger: options.logger }));
      if (options.stateDir !== undefined) mkdirSync(options.stateDir, { recursive: true });
      const stockImages = new Map<string, ReturnType<typeof buildFirmware>>();
      const romLoader = new EspRomLoader();
      radio = new RadioMedium({
        // Unpaced labs (speed factor 0) deliver frames without air time, like their serial bytes.
        timeModel: options.speedFactor === 0 ? 'instant' : 'air-time',
        ...(options.logger ? { logger: options.logger } : {}),
      });
      for (const [index, spec] of options.boards.entries()) {
        const flash = options.stateDir === undefined
          ? FlashStore.inMemory(spec.flashSizeBytes)
          : FlashStore.open(join(options.stateDir, `${spec.id}.flash`), spec.flashSizeBytes);
        flashes.push(flash);
        provisionStockFirmware(flash, () => {
          const key = `${spec.chip}/${spec.flashSizeBytes}`;
          const image = stockImages.get(key) ?? buildFirmware({ chip: spec.chip, version: options.stockFirmwareVersion, flashSizeBytes: spec.flashSizeBytes });
          stockImages.set(key, image);
          return image;
        });
        const board = new SimBoard({
          id: spec.id,
          chip: spec.chip,
          flashSizeBytes: spec.flashSizeBytes,
          psramBytes: spec.psramBytes,
          mac: macBytes(spec.mac),
          usb: spec.usb === 'native' ? { kind: 'native-usb' } : { kind: 'uart-bridge', bridge: cp2104Identity(spec.id) },
          flash,
          createHost: options.createHost ?? ((hostOptions) => new WasmMicroPythonHost(hostOptions)),
          romLoader,
          radio: new LabRadioPort(radio, spec.id, macBytes(spec.mac)),
          speedFactor: options.speedFactor === 0 ? Infinity : options.speedFactor,
          ...(options.logger ? { logger: options.logger } : {}),
        });
        const server = await Rfc2217Server.listen(board.serialPort, options.basePort === undefined ? {} : { port: options.basePort + index + 1 });
        servers.push(server);
        boards.push({ spec, board, url: server.url });
        const place = hubPlan.placements[index]!;
        const hub = hubs[place.hubIndex]!;
        // The endpoint stands for the board's tty: it exists while the host has the board's serial
        // device enumerated (a native-USB board re-enumerating drops its clients, as a vanished tty does).
        server.setDevicePresent(false);
        const portPath = `${hub.portPath}.${place.port}`;
        hub.onHotplug((event) => {
          if (event.type === 'attach' && event.device.portPath === portPath) server.setDevicePresent(event.device.serial !== null);
          else if (event.type === 'detach' && event.portPath === portPath) server.setDevicePresent(false);
        });
        // An RFC 2217 client is the lab's "program holding the tty open" (keeps its tty number taken).
        hub.attach(place.port, board, { url: server.url, isSerialPortOpen: () => server.hasClient });
      }
      applyRadioSettings(radio, options.boards.map((b) => b.id), options.radio ?? {});
      for (const hub of hubs) hub.powerOnAllPorts();
      // Like a bench after power-up: hand the boards out once they have finished booting and enumerating.
      await Promise.all(boards.map(({ board }) => settled(board, BOOT_SETTLE_MS)));
      await Promise.all(hubs.map((hub) => withTimeout(hub.whenIdle(), BOOT_SETTLE_MS)));
      const discovery = new LabDiscovery(hubs);
      // Always served (not only with a state folder): one idle loopback listener, and every lab has the same surface.
      control = await LabControlServer.listen(discovery, options.logger ? { logger: options.logger } : {});
      if (options.stateDir !== undefined) writeRunningLab(options.stateDir, boards, control.url);
      return new SimLab(boards, hubs, discovery, servers, flashes, lock, control, radio);
    } catch (err: unknown) {
      await control?.close();
      await stopAll(hubs, boards, servers, flashes, lock);
      radio?.close();
      if (err instanceof HilError) throw err;
      throw new HilError('SIM_START', `the virtual lab could not start: ${err instanceof Error ? err.message : String(err)}`, {}, { cause: err });
    }
  }

  /** Stops servers and boards and closes flash files. Idempotent. */
  async close(): Promise<void> {
    if (this.lock) rmSync(join(this.lock.dir, RUNNING_LAB_FILE), { force: true });
    // First, so attached processes see their event streams end before the hubs go.
    await this.control.close();
    await this.discovery.close();
    await stopAll([...this.hubs], [...this.boards], [...this.servers], [...this.flashes], this.lock);
    this.radio.close();
  }

  /**
   * The boards of a lab already running on `stateDir` in another process (e.g. `hil sim`), so that
   * `hil run` can use it instead of starting a second lab on the same flash files — with its USB view
   * through `usbControlUrl` when the lab has one. Undefined when none.
   */
  static findRunning(stateDir: string): RunningLabRecord | undefined {
    const pid = StateDirLock.holder(stateDir);
    if (pid === undefined || pid === process.pid) return undefined;
    try {
      const record = JSON.parse(readFileSync(join(stateDir, RUNNING_LAB_FILE), 'utf8')) as RunningLabRecord;
      if (record.pid !== pid) return undefined;
      const { usbControlUrl } = record;
      return { pid: record.pid, boards: record.boards, ...(typeof usbControlUrl === 'string' ? { usbControlUrl } : {}) };
    } catch {
      return undefined;
    }
  }
}

/** Longest wait for a board to finish booting at lab start (a cold interpreter start is ~1 s). */
const BOOT_SETTLE_MS = 30_000;

/** Resolves when `board` is running an application, boot-looping or waiting in download mode (or after `timeoutMs`). */
function settled(board: SimBoard, timeoutMs: number): Promise<void> {
  const isSettled = (state: string): boolean => state === 'app-running' || state === 'boot-loop' || state === 'rom-download';
  if (isSettled(board.state)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(finish, timeoutMs);
    const unsubscribe = board.onStateChange((state) => { if (isSettled(state)) finish(); });
    function finish(): void {
      clearTimeout(timer);
      unsubscribe();
      resolve();
    }
  });
}

/** Resolves when `promise` does or after `timeoutMs`, whichever comes first. */
function withTimeout(promise: Promise<void>, timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function applyRadioSettings(radio: RadioMedium, boardIds: readonly string[], settings: LabRadioSettings): void {
  radio.setGlobalFaults({ lossPercent: settings.lossPercent ?? 0, extraLatencyMs: settings.extraLatencyMs ?? 0 });
  for (const id of settings.muted ?? []) radio.setBoardFaults(id, { muted: true });
  if ((settings.latencyMs ?? 0) > 0) {
    for (const [i, a] of boardIds.entries()) for (const b of boardIds.slice(i + 1)) radio.setLink(a, b, { latencyMs: settings.latencyMs! });
  }
}

/** Where a running lab publishes its boards' URLs, next to its lock. */
const RUNNING_LAB_FILE = 'running-lab.json';

function writeRunningLab(stateDir: string, boards: readonly SimLabBoard[], usbControlUrl: string): void {
  const record: RunningLabRecord = { pid: process.pid, boards: boards.map(({ spec, url }) => ({ id: spec.id, url })), usbControlUrl };
  writeFileSync(join(stateDir, RUNNING_LAB_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

async function stopAll(hubs: SimUsbHub[], boards: SimLabBoard[], servers: Rfc2217Server[], flashes: FlashStore[], lock: StateDirLock | undefined): Promise<void> {
  // Hubs first: the boards powering off below are the lab shutting down, not hot-plug events.
  for (const hub of hubs.splice(0)) hub.dispose();
  await Promise.allSettled(servers.splice(0).map((server) => server.close()));
  await Promise.allSettled(boards.splice(0).map(({ board }) => board.dispose()));
  for (const flash of flashes.splice(0)) flash.close();
  lock?.release();
}

/** A CP2104 carries its own factory serial, independent of the ESP32 behind it. */
function cp2104Identity(boardId: string): UsbDeviceIdentity {
  const serial = createHash('sha256').update(`cp2104/${boardId}`).digest('hex').slice(0, 8).toUpperCase();
  return { vid: 0x10c4, pid: 0xea60, manufacturer: 'Silicon Labs', product: 'CP2104 USB to UART Bridge Controller', serialNumber: serial };
}

function macBytes(mac: string): Uint8Array {
  return Uint8Array.from(mac.split(':').map((part) => Number.parseInt(part, 16)));
}
