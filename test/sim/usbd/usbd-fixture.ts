/**
 * Test doubles for the board's USB device controller: a fake firmware that drives `BoardUsbPort` as
 * MicroPython's TinyUSB glue would (no interpreter), a port device that powers the controller, runtime
 * configurations built like micropython-lib builds them, and a hub on a fake clock to enumerate them.
 */
import pino from 'pino';
import type { FunctionSpec } from '../../../runner/usb/descriptors/configuration-spec.ts';
import { encodeConfiguration } from '../../../runner/usb/descriptors/encode-configuration.ts';
import { encodeDeviceDescriptor } from '../../../runner/usb/descriptors/device-descriptor.ts';
import type { UsbDeviceIdentity } from '../../../sim/board/usb-identity.ts';
import type { SimUsbHotplugEvent } from '../../../sim/usb/sim-hotplug-event.ts';
import { SimUsbHub } from '../../../sim/usb/sim-usb-hub.ts';
import { LabDiscovery } from '../../../sim/usb/lab-discovery.ts';
import type { UsbPortDevice, UsbPresentation } from '../../../sim/usb/usb-port-device.ts';
import { BoardUsbController } from '../../../sim/usbd/board-usb-controller.ts';
import type { BoardUsbPort, BuiltinDriver, RuntimeUsbConfig, UsbdFirmwareEvent, UsbdFirmwareMessage } from '../../../sim/usbd/board-usb-port.ts';
import { builtinCdcFunction } from '../../../sim/usbd/builtin-cdc-device.ts';
import { FakeClock } from '../usb/usb-fakes.ts';

export const MAC = new Uint8Array([0x24, 0x6f, 0x28, 0xaa, 0xbb, 0xcc]);
export const SERIAL = '246f28aabbcc0000';

type ControlEvent = Extract<UsbdFirmwareEvent, { kind: 'control' }>;
type ReplyFields = Omit<Extract<UsbdFirmwareMessage, { kind: 'control-reply' }>, 'kind' | 'id' | 'stage'>;

/**
 * A firmware on the other side of `BoardUsbPort`: records every event and answers control stages
 * asynchronously (as the interpreter's scheduled callbacks do) with `onControl`; `null` = no answer.
 */
export class FakeFirmware {
  readonly events: UsbdFirmwareEvent[] = [];
  /** Default: `control_xfer_cb` returning False (stall) at SETUP, True later. */
  onControl: (event: ControlEvent) => ReplyFields | null = (event) => ({ action: event.stage === 1 ? 'stall' : 'continue' });
  readonly detach: () => void;
  readonly #port: BoardUsbPort;

  constructor(port: BoardUsbPort) {
    this.#port = port;
    this.detach = port.attachFirmware((event) => {
      this.events.push(event);
      if (event.kind !== 'control') return;
      const reply = this.onControl(event);
      if (reply !== null) queueMicrotask(() => port.fromFirmware({ kind: 'control-reply', id: event.id, stage: event.stage, ...reply }));
    });
  }

  connect(builtin: BuiltinDriver, runtime: RuntimeUsbConfig | null): void {
    this.#port.fromFirmware({ kind: 'connect', builtin, runtime });
  }

  send(message: UsbdFirmwareMessage): void {
    this.#port.fromFirmware(message);
  }

  /** Event kinds so far, `control` events as `control:<stage>`. */
  kinds(): string[] {
    return this.events.map((event) => (event.kind === 'control' ? `control:${event.stage}` : event.kind));
  }

  ofKind<K extends UsbdFirmwareEvent['kind']>(kind: K): Extract<UsbdFirmwareEvent, { kind: K }>[] {
    return this.events.filter((event): event is Extract<UsbdFirmwareEvent, { kind: K }> => event.kind === kind);
  }
}

/** A hub port device around the controller: MicroPython `v1.24.1` runs while the port has power. */
export class ControllerPortDevice implements UsbPortDevice {
  state: 'off' | 'on' = 'off';
  readonly controller: BoardUsbController;
  readonly #listeners = new Set<(state: string) => void>();

  constructor(controller: BoardUsbController) {
    this.controller = controller;
  }

  get usbPresentation(): UsbPresentation | null {
    return this.state === 'on' ? this.controller.presentation : null;
  }

  get usbIdentity(): UsbDeviceIdentity | null {
    return this.usbPresentation?.identity ?? null;
  }

  onStateChange(listener: (state: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onUsbChange(listener: () => void): () => void {
    return this.controller.onChange(listener);
  }

  powerOn(): void {
    this.state = 'on';
    this.controller.startRun('v1.24.1');
    for (const listener of [...this.#listeners]) listener(this.state);
  }

  powerOff(): void {
    this.controller.endRun();
    this.state = 'off';
    for (const listener of [...this.#listeners]) listener(this.state);
  }
}

/**
 * A 4-port hub at 1-1 (fake clock) with a powered controller on port 2 and a fake firmware attached,
 * nothing connected yet; warnings are collected in `warnings`.
 */
export function controllerOnHub() {
  const clock = new FakeClock();
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
  const hub = new SimUsbHub({ portPath: '1-1', ports: 4, clock, logger });
  const controller = new BoardUsbController({ mac: MAC, clock });
  const device = new ControllerPortDevice(controller);
  const events: SimUsbHotplugEvent[] = [];
  hub.onHotplug((event) => events.push(event));
  hub.attach(2, device, { url: 'rfc2217://127.0.0.1:4002' });
  hub.powerOnAllPorts();
  clock.advance(100);
  const firmware = new FakeFirmware(controller);
  return { clock, hub, controller, device, firmware, events, warnings, discovery: new LabDiscovery([hub]) };
}

/** `attach 303a:4001 addr 3 ttyACM0` / `detach` / `enumeration-failed total-length-mismatch` summaries. */
export function summary(event: SimUsbHotplugEvent): string {
  if (event.type === 'detach') return 'detach';
  if (event.type === 'enumeration-failed') return `enumeration-failed ${event.codes.join(',')}`;
  const d = event.device;
  return `attach ${d.vendorId.toString(16)}:${d.productId.toString(16)} addr ${d.address} ${d.serial?.ttyPath ?? '-'}`;
}

/** The device descriptor micropython-lib's `init()` builds: class 0/0/0, built-in VID/PID, strings 1–3. */
export function runtimeDeviceDescriptor(overrides: { vendorId?: number; productId?: number; maxPacketSize0?: number } = {}): Uint8Array {
  return encodeDeviceDescriptor({
    vendorId: overrides.vendorId ?? 0x303a,
    productId: overrides.productId ?? 0x4001,
    maxPacketSize0: overrides.maxPacketSize0 ?? 64,
    manufacturerStringIndex: 1,
    productStringIndex: 2,
    serialNumberStringIndex: 3,
  });
}

/** A vendor-specific interface with a bulk OUT/IN pair on endpoint number `endpoint`. */
export function vendorFunction(number: number, endpoint: number, stringIndex = 0): FunctionSpec {
  return {
    interfaces: [{
      number,
      alternates: [{
        interfaceClass: 0xff,
        stringIndex,
        endpoints: [
          { address: endpoint, transferType: 'bulk', maxPacketSize: 64 },
          { address: 0x80 | endpoint, transferType: 'bulk', maxPacketSize: 64 },
        ],
      }],
    }],
  };
}

/** A boot keyboard HID interface (class 3) with one interrupt IN endpoint. */
export function hidFunction(number: number, endpoint: number): FunctionSpec {
  return {
    interfaces: [{
      number,
      alternates: [{
        interfaceClass: 0x03, interfaceSubClass: 0x01, interfaceProtocol: 0x01,
        classDescriptors: [{ kind: 'hid', hidVersion: 0x0111, countryCode: 0, subordinateDescriptors: [{ descriptorType: 0x22, length: 63 }] }],
        endpoints: [{ address: 0x80 | endpoint, transferType: 'interrupt', maxPacketSize: 8, interval: 8 }],
      }],
    }],
  };
}

/** A runtime CDC-ACM function as micropython-lib's `CDCInterface` describes it (IAD + two interfaces). */
export function cdcFunction(first: number, endpoint: number): FunctionSpec {
  return {
    association: { functionClass: 0x02, functionSubClass: 0x02 },
    interfaces: [
      {
        number: first,
        alternates: [{
          interfaceClass: 0x02, interfaceSubClass: 0x02,
          classDescriptors: [
            { kind: 'cdc-header', cdcVersion: 0x0120 },
            { kind: 'cdc-call-management', capabilities: 0x00, dataInterface: first + 1 },
            { kind: 'cdc-acm', capabilities: 0x06 },
            { kind: 'cdc-union', controlInterface: first, subordinateInterfaces: [first + 1] },
          ],
          endpoints: [{ address: 0x80 | endpoint, transferType: 'interrupt', maxPacketSize: 8, interval: 16 }],
        }],
      },
      {
        number: first + 1,
        alternates: [{
          interfaceClass: 0x0a,
          endpoints: [
            { address: endpoint + 1, transferType: 'bulk', maxPacketSize: 64 },
            { address: 0x80 | (endpoint + 1), transferType: 'bulk', maxPacketSize: 64 },
          ],
        }],
      },
    ],
  };
}

/** A runtime device: `functions` after the built-in CDC when `builtin` is `cdc`, alone otherwise. */
export function runtimeConfig(builtin: BuiltinDriver, functions: FunctionSpec[], options: {
  strings?: (string | null)[];
  declared?: { totalLength?: number; numInterfaces?: number };
  deviceDescriptor?: Uint8Array;
} = {}): RuntimeUsbConfig {
  return {
    deviceDescriptor: options.deviceDescriptor ?? runtimeDeviceDescriptor(),
    configurationDescriptor: encodeConfiguration({
      maxPowerMa: 250,
      functions: builtin === 'cdc' ? [builtinCdcFunction(), ...functions] : functions,
      ...(options.declared ? { declared: options.declared } : {}),
    }),
    strings: options.strings ?? [],
  };
}

/** Lets queued microtasks and promise chains run (firmware replies, transfer completions). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
