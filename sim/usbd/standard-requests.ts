/**
 * The chapter 9 requests TinyUSB's device stack answers itself (usbd.c `process_control_request`,
 * USB 2.0 §9.4): to the device — GET_DESCRIPTOR (device, configuration, string; no device qualifier
 * or BOS on a full-speed device without one), GET/SET/CLEAR status and remote-wakeup feature,
 * GET/SET_CONFIGURATION — and to an endpoint — GET_STATUS and the ENDPOINT_HALT feature. A wrong
 * direction or anything else is a Request Error: a stall.
 */
import { encodeLanguageIds, encodeStringDescriptor } from '../../runner/usb/descriptors/string-descriptors.ts';
import { DescriptorType } from '../../runner/usb/descriptors/usb-constants.ts';

/** bRequest codes (USB 2.0 Table 9-4). */
export const StandardRequest = {
  GET_STATUS: 0x00,
  CLEAR_FEATURE: 0x01,
  SET_FEATURE: 0x03,
  SET_ADDRESS: 0x05,
  GET_DESCRIPTOR: 0x06,
  SET_DESCRIPTOR: 0x07,
  GET_CONFIGURATION: 0x08,
  SET_CONFIGURATION: 0x09,
  GET_INTERFACE: 0x0a,
  SET_INTERFACE: 0x0b,
  SYNCH_FRAME: 0x0c,
} as const;

/** Feature selectors (USB 2.0 Table 9-6). */
export const FeatureSelector = { ENDPOINT_HALT: 0, DEVICE_REMOTE_WAKEUP: 1 } as const;

/** A decoded setup packet as the stack sees it. */
export interface SetupRequest {
  direction: 'in' | 'out';
  request: number;
  value: number;
  index: number;
  /** wLength. */
  length: number;
}

/** The stack's answer: IN data (not yet cut to wLength), OUT accepted, or a stall. */
export type ControlAnswer = { status: 'ok'; data: Uint8Array } | { status: 'stall' };

export const STALL: ControlAnswer = Object.freeze({ status: 'stall' });
export const ACK: ControlAnswer = Object.freeze({ status: 'ok', data: new Uint8Array(0) });

/** What device requests act on. */
export interface StandardDeviceTarget {
  readonly deviceDescriptor: Uint8Array;
  /** As sent: up to wTotalLength. */
  readonly configurationDescriptor: Uint8Array;
  string(index: number): string | null;
  /** bConfigurationValue selected, 0 when unconfigured. */
  readonly configurationValue: number;
  /** SET_CONFIGURATION: false when `value` names no configuration (stall). */
  selectConfiguration(value: number): boolean;
  readonly selfPowered: boolean;
  remoteWakeup: boolean;
}

/** Standard request to the device. */
export function answerStandardDeviceRequest(device: StandardDeviceTarget, setup: SetupRequest): ControlAnswer {
  const { request, value, index, direction } = setup;
  switch (request) {
    case StandardRequest.GET_DESCRIPTOR:
      return direction === 'in' ? descriptor(device, value >> 8, value & 0xff) : STALL;
    case StandardRequest.GET_STATUS:
      if (direction !== 'in') return STALL;
      return { status: 'ok', data: Uint8Array.of((device.selfPowered ? 1 : 0) | (device.remoteWakeup ? 2 : 0), 0) };
    case StandardRequest.GET_CONFIGURATION:
      return direction === 'in' ? { status: 'ok', data: Uint8Array.of(device.configurationValue) } : STALL;
    case StandardRequest.SET_CONFIGURATION:
      return direction === 'out' && index === 0 && device.selectConfiguration(value & 0xff) ? ACK : STALL;
    case StandardRequest.SET_FEATURE:
    case StandardRequest.CLEAR_FEATURE:
      if (direction !== 'out' || value !== FeatureSelector.DEVICE_REMOTE_WAKEUP) return STALL;
      device.remoteWakeup = request === StandardRequest.SET_FEATURE;
      return ACK;
    default:
      // SET_ADDRESS belongs to the host's enumeration; SET_DESCRIPTOR is optional and TinyUSB stalls it.
      return STALL;
  }
}

function descriptor(device: StandardDeviceTarget, type: number, index: number): ControlAnswer {
  switch (type) {
    case DescriptorType.device:
      return { status: 'ok', data: device.deviceDescriptor.slice() };
    case DescriptorType.configuration:
      return index === 0 ? { status: 'ok', data: device.configurationDescriptor.slice() } : STALL;
    case DescriptorType.string: {
      if (index === 0) return { status: 'ok', data: encodeLanguageIds() };
      const text = device.string(index);
      return text === null ? STALL : { status: 'ok', data: encodeStringDescriptor(text) };
    }
    default:
      // Device qualifier, other-speed configuration, BOS: a full-speed device without a BOS stalls them.
      return STALL;
  }
}
