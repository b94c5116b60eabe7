/**
 * A simulated ESP32 / ESP32-S3 board: power, EN/GPIO0 strapping driven by the host's modem lines,
 * ROM banners, a flash boot that verifies the image like the real bootloader, and the MicroPython
 * interpreter behind the serial port. Flash contents persist in a {@link FlashStore}.
 *
 * States: `off` → (power on) `reset` (EN low or strapping window open) → `rom-download` or
 * `booting` (MicroPython starting) → `app-running`; an unbootable flash gives `boot-loop`, which
 * reboots every `bootLoopIntervalMs` until reset or power-off.
 *
 * USB: a bridge-wired board always shows its bridge; a native-USB board shows the ROM's
 * USB-Serial-JTAG outside MicroPython and, while MicroPython runs, whatever its USB device controller
 * ({@link BoardUsbController}, handed to the interpreter) puts on the bus.
 */
import type { BoardRadioPort } from '../micropython/board-radio-port.ts';
import type { Logger } from 'pino';
import type { ChipName } from '../../runner/firmware/esp-chips.ts';
import type { FirmwareIdentity, MicroPythonHost, MicroPythonHostOptions, ResetCause } from '../micropython/micropython-host.ts';
import type { QuirkValue } from '../firmware/build-info.ts';
import type { UsbPresentation } from '../usb/usb-port-device.ts';
import { BoardUsbController } from '../usbd/board-usb-controller.ts';
import { systemClock, type BoardClock, type TimerHandle } from './board-clock.ts';
import { crlf, romBanner, type BootMode, type ChipResetCause } from './boot-rom.ts';
import { planNormalBoot, type BootPlan } from './boot-sequence.ts';
import { CONSOLE_PROFILES, type ConsoleOwner, type UsbKind } from './console-profiles.ts';
import { FlashFilesystemStore } from './flash-filesystem-store.ts';
import type { FlashStore } from './flash-store.ts';
import { ListenerSet } from './listener-set.ts';
import { TinyUsbCdcBootloaderHook, TransistorAutoReset, UsbSerialJtagReset, type ResetCircuit, type ResetCircuitName } from './reset-circuits.ts';
import { silentRomLoader, type RomLoader, type RomLoaderSession } from './rom-loader.ts';
import type { SimSerialPort } from './sim-serial-port.ts';
import { SimUart, type ModemLines } from './sim-uart.ts';
import { DEFAULT_STRAPPING_WINDOW_MS, StrappingWindow } from './strapping-window.ts';
import { usbSerialJtagIdentity, type UsbDeviceIdentity } from './usb-identity.ts';

/** Board states (see the module note). */
export type SimBoardState = 'off' | 'reset' | 'rom-download' | 'booting' | 'app-running' | 'boot-loop';

/** How the board reaches USB. A bridge's identity is a fixed fact of the bench (passed through). */
export type UsbWiring = { kind: 'uart-bridge'; bridge: UsbDeviceIdentity } | { kind: 'native-usb' };

/**
 * What the board hands the host factory: the contract's options plus the build's quirks (read from
 * the image's build-info record). A factory typed for plain `MicroPythonHostOptions` fits too.
 */
export interface BoardHostOptions extends MicroPythonHostOptions {
  quirks: Readonly<Record<string, QuirkValue>>;
}

/** Construction options of {@link SimBoard}. */
export interface SimBoardOptions {
  id: string;
  chip: ChipName;
  /** Must equal `flash.sizeBytes`. */
  flashSizeBytes: number;
  psramBytes: number;
  /** Factory MAC, 6 bytes. */
  mac: Uint8Array;
  usb: UsbWiring;
  /** The board's flash; owned by the caller (the board never closes it). */
  flash: FlashStore;
  /** Creates the interpreter each time MicroPython boots. */
  createHost(options: BoardHostOptions): MicroPythonHost;
  /** Download-mode personality; default ignores all input. */
  romLoader?: RomLoader;
  /** The board's radio on the lab's 2.4 GHz medium, handed to each interpreter it starts; default none. */
  radio?: BoardRadioPort;
  clock?: BoardClock;
  /** Default {@link DEFAULT_STRAPPING_WINDOW_MS}. */
  strappingWindowMs?: number;
  /** Wire-time pacing, see `SimUart`: 1 = real time, Infinity = unpaced. Default 1. */
  speedFactor?: number;
  /** Pause between reboots of an unbootable board; default 1000 ms. */
  bootLoopIntervalMs?: number;
  logger?: Logger;
}

/** The reset cause each circuit reports when it pulls the chip into reset. */
const CIRCUIT_RESET_CAUSE: Readonly<Record<ResetCircuitName, ChipResetCause>> = {
  'transistor-auto-reset': 'power-on',
  'usb-serial-jtag': 'usb-uart-chip',
  'tinyusb-cdc': 'sw-cpu',
};

/** What MicroPython's `machine.reset_cause()` reports after each chip reset (ports/esp32/modmachine.c). */
const HOST_RESET_CAUSE: Readonly<Record<ChipResetCause, ResetCause>> = {
  'power-on': 'power-on',
  'sw-cpu': 'hard',
  'sw-sys': 'hard',
  'rtc-wdt': 'watchdog',
  'usb-uart-chip': 'hard',
};

/** One simulated board. */
export class SimBoard {
  readonly id: string;
  readonly chip: ChipName;
  readonly flashSizeBytes: number;
  readonly psramBytes: number;
  readonly mac: Uint8Array;
  readonly usbKind: UsbKind;
  readonly flash: FlashStore;
  readonly #uart: SimUart;
  readonly #usb: UsbWiring;
  readonly #clock: BoardClock;
  readonly #createHost: (options: BoardHostOptions) => MicroPythonHost;
  readonly #romLoader: RomLoader;
  readonly #radio: BoardRadioPort | undefined;
  readonly #bootLoopIntervalMs: number;
  readonly #logger: Logger | undefined;
  readonly #strapping: StrappingWindow;
  readonly #circuits: Readonly<Record<ResetCircuitName, ResetCircuit>>;
  readonly #stateListeners: ListenerSet<[SimBoardState, SimBoardState]>;
  readonly #hostErrorListeners: ListenerSet<[unknown]>;
  readonly #usbController: BoardUsbController | null;

  #state: SimBoardState = 'off';
  /** Bumped on every reset and power change; async work of an older epoch is void. */
  #epoch = 0;
  #owner: ConsoleOwner = 'chip';
  #host: MicroPythonHost | null = null;
  #hostUnsubscribes: (() => void)[] = [];
  #hostStopped: Promise<void> = Promise.resolve();
  #romSession: RomLoaderSession | null = null;
  #bootLoopTimer: TimerHandle | null = null;
  #firmware: FirmwareIdentity | null = null;

  constructor(options: SimBoardOptions) {
    if (options.mac.length !== 6) throw new RangeError(`MAC must be 6 bytes, got ${options.mac.length}`);
    if (options.flash.sizeBytes !== options.flashSizeBytes) {
      throw new RangeError(`flash store holds ${options.flash.sizeBytes} bytes, board declares ${options.flashSizeBytes}`);
    }
    if (options.usb.kind === 'native-usb' && options.chip === 'esp32') throw new RangeError('the ESP32 has no native USB');
    this.id = options.id;
    this.chip = options.chip;
    this.flashSizeBytes = options.flashSizeBytes;
    this.psramBytes = options.psramBytes;
    this.mac = options.mac.slice();
    this.usbKind = options.usb.kind;
    this.flash = options.flash;
    this.#usb = options.usb;
    this.#clock = options.clock ?? systemClock;
    this.#createHost = options.createHost;
    this.#romLoader = options.romLoader ?? silentRomLoader;
    this.#radio = options.radio;
    this.#bootLoopIntervalMs = options.bootLoopIntervalMs ?? 1000;
    this.#logger = options.logger?.child({ boardId: options.id });
    const onListenerError = (err: unknown) => this.#logger?.error({ err }, 'board listener threw');
    this.#stateListeners = new ListenerSet(onListenerError);
    this.#hostErrorListeners = new ListenerSet(onListenerError);
    this.#usbController = options.usb.kind === 'native-usb'
      ? new BoardUsbController({ mac: this.mac, clock: this.#clock, ...(this.#logger ? { logger: this.#logger } : {}) })
      : null;
    this.#circuits = {
      'transistor-auto-reset': new TransistorAutoReset(),
      'usb-serial-jtag': new UsbSerialJtagReset(),
      'tinyusb-cdc': new TinyUsbCdcBootloaderHook(),
    };
    this.#strapping = new StrappingWindow(this.#clock, options.strappingWindowMs ?? DEFAULT_STRAPPING_WINDOW_MS, {
      onResetAsserted: () => this.#enterReset(),
      onWindowClosed: (mode, cause) => this.#boot(cause, mode),
    });
    this.#uart = new SimUart({
      boardId: options.id,
      clock: this.#clock,
      speedFactor: options.speedFactor ?? 1,
      profile: this.#profile().link,
      onReceive: (data) => this.#onReceive(data),
      onModemLines: (lines, previous) => this.#onModemLines(lines, previous),
      onListenerError,
    });
  }

  /** The serial port to serve to hosts (RFC 2217 server, tests). */
  get serialPort(): SimSerialPort {
    return this.#uart;
  }

  /** Current state (see the module note). */
  get state(): SimBoardState {
    return this.#state;
  }

  /** The MicroPython firmware running (or starting), else null. */
  get runningFirmware(): FirmwareIdentity | null {
    return this.#firmware;
  }

  /**
   * What the USB host currently sees (VID/PID/strings), or null while nothing is on the bus. On native
   * USB this changes between USB-Serial-JTAG and what MicroPython's USB stack presents; re-read it on
   * every state change and every {@link onUsbChange}.
   */
  get usbIdentity(): UsbDeviceIdentity | null {
    const presentation = this.usbPresentation;
    return presentation === null ? null : { ...presentation.identity };
  }

  /**
   * The full presentation for the hub: identity only for a bridge and the ROM's USB-Serial-JTAG;
   * descriptors, a bus and a connection generation while MicroPython's USB stack is connected.
   */
  get usbPresentation(): UsbPresentation | null {
    if (this.#state === 'off') return null;
    switch (this.#profile().identity) {
      case 'bridge':
        return this.#usb.kind === 'uart-bridge' ? identityOnly(this.#usb.bridge) : null;
      case 'usb-serial-jtag':
        return identityOnly(usbSerialJtagIdentity(this.mac));
      case 'tinyusb-cdc':
        return this.#usbController?.presentation ?? null;
    }
  }

  /** The native-USB board's USB device controller (null on a bridge-wired board). */
  get usbController(): BoardUsbController | null {
    return this.#usbController;
  }

  /** Calls `listener` when the USB presentation changes without a state change. Returns unsubscribe. */
  onUsbChange(listener: () => void): () => void {
    return this.#usbController?.onChange(listener) ?? (() => {});
  }

  /** Subscribes to state changes `(state, previous)`. Returns unsubscribe. */
  onStateChange(listener: (state: SimBoardState, previous: SimBoardState) => void): () => void {
    return this.#stateListeners.add(listener);
  }

  /** Subscribes to failures of the MicroPython host (start rejected, factory threw). Returns unsubscribe. */
  onHostError(listener: (err: unknown) => void): () => void {
    return this.#hostErrorListeners.add(listener);
  }

  /** Applies power. The chip boots after the strapping window (download mode if GPIO0 is held low). No-op when on. */
  powerOn(): void {
    if (this.#state !== 'off') return;
    this.#epoch++;
    this.#setOwner('chip');
    this.#uart.setEnabled(false);
    this.#setState('reset');
    const pins = this.#circuit().initialPins(this.#uart.modemLines);
    this.#strapping.powerOn(pins);
  }

  /** Removes power: stops everything; resolves once the interpreter has stopped. Flash keeps its contents. */
  async powerOff(): Promise<void> {
    if (this.#state !== 'off') {
      this.#epoch++;
      this.#strapping.cancel();
      this.#stopActivity();
      this.#uart.setEnabled(false);
      this.#setOwner('chip');
      this.#setState('off');
    }
    await this.#hostStopped;
  }

  /** Pulses EN (the reset button): a power-on reset, then the strapping window. No-op when off. */
  hardReset(): void {
    if (this.#state === 'off') return;
    const io0Low = this.#circuit().initialPins(this.#uart.modemLines).io0Low;
    this.#strapping.pulse('power-on', io0Low);
  }

  /** Powers off and releases timers. The flash store stays open (its owner closes it). */
  async dispose(): Promise<void> {
    await this.powerOff();
    this.#uart.dispose();
  }

  // ---- modem lines and input ----

  #onModemLines(lines: ModemLines, previous: ModemLines): void {
    if (this.#state === 'off') return;
    const circuit = this.#circuit();
    const effect = circuit.change(previous, lines);
    if (effect.kind === 'pins') {
      this.#strapping.apply(effect.pins, CIRCUIT_RESET_CAUSE[circuit.name]);
    } else if (effect.kind === 'firmware-bootloader') {
      this.#logger?.info('USB CDC line-state pattern: firmware enters the bootloader');
      this.#softwareRestart('sw-cpu', 'download');
    }
  }

  #onReceive(data: Uint8Array): void {
    if (this.#state === 'rom-download') this.#romSession?.receive(data);
    else if (this.#owner === 'micropython') this.#host?.input(data);
  }

  // ---- resets and boot ----

  /** EN went low: everything stops; output and input are cut. */
  #enterReset(): void {
    this.#epoch++;
    this.#stopActivity();
    this.#uart.setEnabled(false);
    this.#setOwner('chip');
    this.#setState('reset');
  }

  /** A reset without EN (software, watchdog): queued output still drains, no strapping window. */
  #softwareRestart(cause: ChipResetCause, mode: BootMode): void {
    this.#epoch++;
    this.#stopActivity();
    this.#setOwner('chip');
    this.#setState('reset');
    this.#boot(cause, mode);
  }

  #boot(cause: ChipResetCause, mode: BootMode): void {
    this.#uart.setEnabled(true);
    this.#uart.transmit(text(romBanner(this.chip, cause, mode)));
    if (mode === 'download') {
      this.#startRomLoader();
      return;
    }
    const plan = planNormalBoot(this.flash, this.chip);
    this.#uart.transmit(text(crlf(plan.lines)));
    switch (plan.kind) {
      case 'fail':
        this.#setState('boot-loop');
        this.#scheduleBootLoop(plan.rebootCause);
        break;
      case 'foreign-app':
        this.#logger?.info({ project: plan.projectName, version: plan.version }, 'foreign application running');
        this.#setState('booting');
        this.#setState('app-running');
        break;
      case 'micropython':
        void this.#startMicroPython(plan, cause);
        break;
    }
  }

  #scheduleBootLoop(cause: ChipResetCause): void {
    const epoch = this.#epoch;
    this.#bootLoopTimer = this.#clock.setTimeout(() => {
      this.#bootLoopTimer = null;
      if (epoch !== this.#epoch) return;
      // Stays in `boot-loop` unless this attempt succeeds (someone may have rewritten the flash).
      this.#epoch++;
      this.#boot(cause, 'normal');
    }, this.#bootLoopIntervalMs);
  }

  #startRomLoader(): void {
    const epoch = this.#epoch;
    const live = () => epoch === this.#epoch;
    const uart = this.#uart;
    this.#setState('rom-download');
    this.#romSession = this.#romLoader.start({
      boardId: this.id,
      chip: this.chip,
      mac: this.mac,
      flash: this.flash,
      clock: this.#clock,
      get baudRate() {
        return uart.baudRate;
      },
      setBaudRate: (baudRate) => {
        if (live()) uart.setBaudRate(baudRate);
      },
      transmit: (data) => {
        if (live()) uart.transmit(data);
      },
      whenTransmitDrained: () => uart.whenDrained(),
      reboot: (mode) => {
        // Out of the session's call stack: the restart stops the session that is calling us.
        queueMicrotask(() => {
          if (live()) this.#softwareRestart('sw-sys', mode);
        });
      },
    });
  }

  async #startMicroPython(plan: Extract<BootPlan, { kind: 'micropython' }>, cause: ChipResetCause): Promise<void> {
    const epoch = this.#epoch;
    this.#firmware = plan.firmware;
    this.#setOwner('micropython');
    this.#setState('booting');
    await this.#hostStopped;
    if (epoch !== this.#epoch) return;
    const fsPartition = plan.filesystemPartition;
    this.#usbController?.startRun(plan.firmware.version);
    try {
      const host = this.#createHost({
        boardId: this.id,
        hardware: { chip: this.chip, mac: this.mac.slice(), flashSizeBytes: this.flashSizeBytes, psramBytes: this.psramBytes, flashMemory: this.flash.memory },
        firmware: { ...plan.firmware },
        filesystem: new FlashFilesystemStore(this.flash, fsPartition?.offset ?? 0, fsPartition?.sizeBytes ?? 0),
        quirks: plan.quirks,
        ...(this.#radio ? { radio: this.#radio } : {}),
        // Native-USB boards: the interpreter's TinyUSB glue and `machine.USBDevice` drive the controller.
        ...(this.#usbController ? { usb: this.#usbController } : {}),
      });
      this.#host = host;
      this.#hostUnsubscribes = [
        host.onOutput((chunk) => {
          if (epoch === this.#epoch) this.#uart.transmit(chunk);
        }),
        host.onResetRequest((kind) => {
          if (epoch !== this.#epoch) return;
          // Out of the host's call stack: the reset stops the host that is calling us.
          queueMicrotask(() => {
            if (epoch === this.#epoch) this.#softwareRestart('sw-cpu', kind === 'bootloader' ? 'download' : 'normal');
          });
        }),
      ];
      await host.start(HOST_RESET_CAUSE[cause]);
      if (epoch !== this.#epoch) return;
      // Firmware that has not taken over the USB stack by now never will: the built-in CDC appears.
      this.#usbController?.runStarted();
      this.#setState('app-running');
    } catch (err: unknown) {
      if (epoch !== this.#epoch) return;
      // The board stays in `booting`: like firmware that hangs during start-up.
      this.#logger?.error({ err }, 'MicroPython host failed to start');
      this.#hostErrorListeners.emit(err);
    }
  }

  /** Stops whatever runs on the chip: interpreter, ROM session, boot-loop timer. */
  #stopActivity(): void {
    if (this.#bootLoopTimer !== null) this.#clock.clearTimeout(this.#bootLoopTimer);
    this.#bootLoopTimer = null;
    this.#romSession?.stop();
    this.#romSession = null;
    this.#usbController?.endRun();
    for (const unsubscribe of this.#hostUnsubscribes) unsubscribe();
    this.#hostUnsubscribes = [];
    this.#firmware = null;
    const host = this.#host;
    this.#host = null;
    if (host !== null) {
      this.#hostStopped = this.#hostStopped
        .then(() => host.stop())
        .catch((err: unknown) => this.#logger?.error({ err }, 'MicroPython host failed to stop'));
    }
  }

  // ---- console ownership and state ----

  #profile() {
    return CONSOLE_PROFILES[this.#usb.kind][this.#owner];
  }

  #circuit(): ResetCircuit {
    return this.#circuits[this.#profile().circuit];
  }

  #setOwner(owner: ConsoleOwner): void {
    if (owner === this.#owner) return;
    const before = this.#profile().circuit;
    this.#owner = owner;
    const profile = this.#profile();
    this.#uart.setProfile(profile.link);
    // A circuit taking over starts from the current lines (resets latches, arms nothing stale).
    if (profile.circuit !== before) this.#circuit().initialPins(this.#uart.modemLines);
  }

  #setState(state: SimBoardState): void {
    const previous = this.#state;
    if (state === previous) return;
    this.#state = state;
    this.#logger?.info({ state, previous }, 'board state');
    this.#stateListeners.emit(state, previous);
  }
}

/** A device the host knows by its identity alone (a bridge, the ROM's USB-Serial-JTAG): always a tty. */
function identityOnly(identity: UsbDeviceIdentity): UsbPresentation {
  return { generation: 0, identity: { ...identity }, makesTty: true };
}

function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
