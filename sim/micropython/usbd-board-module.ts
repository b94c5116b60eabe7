/**
 * `_board_hw.usbd`: the functions through which the Python `_board_usbd` module (`machine.USBDevice`)
 * reaches the board's USB device stack. Runs in the interpreter's worker; the firmware's rules
 * (argument checks, error codes, callback semantics) live in the Python module, this layer only moves
 * data.
 *
 * Bytes cross the JavaScript/Python boundary as lower-case hex text, string tables as JSON (the
 * WebAssembly build passes Python `bytes` and lists to JavaScript as opaque proxies).
 */
import type { RuntimeUsbConfig, UsbdFirmwareEvent } from '../usbd/board-usb-port.ts';
import type { UsbdStack } from './usbd-stack.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));

/** An event as the Python trampoline reads it (every field present; null where it does not apply). */
export interface PythonUsbdEvent {
  kind: 'bus-reset' | 'configured' | 'control' | 'xfer';
  configured: boolean;
  /** `[[offset, length], …]` of the interfaces to open. */
  itfs_json: string;
  id: number;
  stage: number;
  setup_hex: string;
  endpoint: number;
  length: number;
  /** Control: the host's bytes of an OUT DATA stage; xfer: the bytes an OUT transfer received. */
  data_hex: string | null;
}

/** Converts an event for Python. */
export function pythonUsbdEvent(event: UsbdFirmwareEvent): PythonUsbdEvent {
  const base: PythonUsbdEvent = { kind: 'bus-reset', configured: false, itfs_json: '[]', id: 0, stage: 0, setup_hex: '', endpoint: 0, length: 0, data_hex: null };
  switch (event.kind) {
    case 'bus-reset':
      return base;
    case 'configured':
      return { ...base, kind: 'configured', configured: event.configured, itfs_json: JSON.stringify(event.openInterfaces.map((itf) => [itf.offset, itf.length])) };
    case 'control':
      return { ...base, kind: 'control', id: event.id, stage: event.stage, setup_hex: hex(event.setup), data_hex: event.data === undefined ? null : hex(event.data) };
    case 'xfer-complete':
      return { ...base, kind: 'xfer', endpoint: event.endpoint, length: event.length, data_hex: event.data === undefined ? null : hex(event.data) };
  }
}

/** The runtime configuration Python hands over at `active(True)`; null when `config()` was never called. */
function runtimeConfig(deviceHex: unknown, configurationHex: unknown, stringsJson: unknown): RuntimeUsbConfig | null {
  if (typeof deviceHex !== 'string' || typeof configurationHex !== 'string') return null;
  const parsed: unknown = typeof stringsJson === 'string' ? JSON.parse(stringsJson) : [];
  const strings = Array.isArray(parsed) ? parsed.map((text: unknown) => (typeof text === 'string' ? text : null)) : [];
  return { deviceDescriptor: bytes(deviceHex), configurationDescriptor: bytes(configurationHex), strings };
}

/** Builds the `usbd` object of `_board_hw`. */
export function createUsbdModule(stack: UsbdStack): Record<string, unknown> {
  const builtin = stack.builtin;
  return {
    available: stack.deviceApi,
    builtin_itf_max: builtin.itfMax,
    builtin_ep_max: builtin.epMax,
    builtin_str_max: builtin.strMax,
    builtin_desc_dev_hex: hex(builtin.deviceDescriptor),
    builtin_desc_cfg_hex: hex(builtin.configurationDescriptor),

    active: () => stack.isActive(),
    // builtin: "none" | "cdc"; descriptors as hex and desc_strs as a JSON list of 256 entries, or None.
    activate: (builtinDriver: string, deviceHex: unknown, configurationHex: unknown, stringsJson: unknown) =>
      stack.activate({ builtin: builtinDriver === 'none' ? 'none' : 'cdc', runtime: runtimeConfig(deviceHex, configurationHex, stringsJson) }),
    deactivate: () => stack.deactivate(),
    submit_in: (endpoint: number, data: string) => stack.submit(endpoint, { data: bytes(data) }),
    submit_out: (endpoint: number, length: number) => stack.submit(endpoint, { length }),
    stalled: (endpoint: number) => stack.isStalled(endpoint),
    set_stall: (endpoint: number, stall: boolean) => stack.setStall(endpoint, stall === true),
    // action: "stall" | "continue" | "data"; data_hex for IN data, length for OUT data.
    control_reply: (id: number, stage: number, action: string, dataHex: unknown, length: number) => {
      const step = stage === 1 || stage === 2 || stage === 3 ? stage : 3;
      if (action === 'data') {
        stack.replyControl(typeof dataHex === 'string' ? { id, stage: step, action, data: bytes(dataHex) } : { id, stage: step, action, length });
      } else {
        stack.replyControl({ id, stage: step, action: action === 'continue' ? 'continue' : 'stall' });
      }
    },
    // USBDevice() created the singleton; `handler` schedules its event trampoline.
    create: (handler: unknown) => {
      if (typeof handler !== 'function') throw new TypeError('usbd.create needs the trampoline scheduler');
      stack.createSingleton(handler as () => void);
    },
    take_event: (): PythonUsbdEvent | null => {
      const event = stack.takeEvent();
      return event === null ? null : pythonUsbdEvent(event);
    },
    irq_done: () => stack.irqDone(),
  };
}
