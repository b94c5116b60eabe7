/**
 * The hub class requests the rig sends (USB 2.0 §11.24.2, Table 11-15; the same requests uhubctl
 * sends), as WebUSB setups. Kept in one table so the bytes on the wire are reviewable in one place;
 * reference/usb-hub-power.md lists them with their encoded bmRequestType.
 */
import type { UsbControlSetup } from './usb-control-device.ts';

/** bRequest codes (USB 2.0 Table 9-4). */
const GET_STATUS = 0;
const CLEAR_FEATURE = 1;
const SET_FEATURE = 3;
const GET_DESCRIPTOR = 6;

/** Descriptor type of the USB 2.0 hub descriptor (§11.23.2.1). SuperSpeed hubs use 0x2A instead. */
export const HUB_DESCRIPTOR_TYPE = 0x29;

/** Port feature selector PORT_POWER (USB 2.0 Table 11-17). */
export const PORT_POWER_FEATURE = 8;

/**
 * Bytes asked for in GetHubDescriptor: the largest USB 2.0 hub descriptor (7 fixed bytes plus two
 * 32-byte port bitmaps for 255 ports). A hub answers with its real, shorter length.
 */
export const HUB_DESCRIPTOR_REQUEST_LENGTH = 71;

/** GetPortStatus answers wPortStatus and wPortChange: 4 bytes. */
export const PORT_STATUS_LENGTH = 4;

/** GetHubDescriptor: `A0 06 00 29 00 00 <length>`. */
export function getHubDescriptorSetup(): UsbControlSetup {
  return { requestType: 'class', recipient: 'device', request: GET_DESCRIPTOR, value: HUB_DESCRIPTOR_TYPE << 8, index: 0 };
}

/** GetPortStatus: `A3 00 00 00 <port> 00 04 00`. */
export function getPortStatusSetup(port: number): UsbControlSetup {
  return { requestType: 'class', recipient: 'other', request: GET_STATUS, value: 0, index: port };
}

/** SetPortFeature(PORT_POWER) `23 03 08 00 <port> 00 00 00`, ClearPortFeature(PORT_POWER) `23 01 08 00 <port> 00 00 00`. */
export function portPowerSetup(port: number, on: boolean): UsbControlSetup {
  return { requestType: 'class', recipient: 'other', request: on ? SET_FEATURE : CLEAR_FEATURE, value: PORT_POWER_FEATURE, index: port };
}
