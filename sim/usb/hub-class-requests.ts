/**
 * Decodes the hub class requests of USB 2.0 §11.24.2 (table in reference/usb-hub-power.md) into
 * operations on a hub. Anything else — standard or vendor requests, a wrong direction, port 0 or a
 * port the hub does not have, a feature the hub cannot set — is answered with a stall, as a real hub
 * answers a Request Error.
 */
import type { UsbControlSetup } from '../../runner/usb/usb-control-device.ts';
import { HUB_DESCRIPTOR_TYPE, HubFeature, HubRequest, PortChangeBit, PortFeature } from './hub-protocol.ts';

/** What the requests act on. */
export interface HubRequestTarget {
  readonly portCount: number;
  /** The hub descriptor, complete. */
  descriptor(): Uint8Array;
  /** wPortStatus, wPortChange of a 1-based port. */
  portStatus(port: number): { status: number; change: number };
  /** SetPortFeature(PORT_POWER) / ClearPortFeature(PORT_POWER), as the hub's power switching allows. */
  switchPortPower(port: number, on: boolean): void;
  resetPort(port: number): void;
  suspendPort(port: number, on: boolean): void;
  disablePort(port: number): void;
  clearPortChange(port: number, bit: number): void;
}

/** A request's answer: the data to return (IN) or that it was accepted (OUT), or a stall. */
export type HubRequestAnswer = { status: 'ok'; data: Uint8Array } | { status: 'stall' };

const STALL: HubRequestAnswer = { status: 'stall' };
const OK_NO_DATA: HubRequestAnswer = { status: 'ok', data: new Uint8Array(0) };

/** The change bit each C_PORT_* feature selector acknowledges. */
const CHANGE_BIT_OF_FEATURE: ReadonlyMap<number, number> = new Map([
  [PortFeature.C_PORT_CONNECTION, PortChangeBit.C_CONNECTION],
  [PortFeature.C_PORT_ENABLE, PortChangeBit.C_ENABLE],
  [PortFeature.C_PORT_SUSPEND, PortChangeBit.C_SUSPEND],
  [PortFeature.C_PORT_OVER_CURRENT, PortChangeBit.C_OVER_CURRENT],
  [PortFeature.C_PORT_RESET, PortChangeBit.C_RESET],
]);

/** A device-to-host request (GetHubDescriptor, GetHubStatus, GetPortStatus). The data is not yet cut to `length`. */
export function answerHubRequestIn(hub: HubRequestTarget, setup: UsbControlSetup): HubRequestAnswer {
  if (setup.requestType !== 'class') return STALL;
  if (setup.recipient === 'device') {
    if (setup.request === HubRequest.GET_DESCRIPTOR && setup.value === HUB_DESCRIPTOR_TYPE << 8 && setup.index === 0) {
      return { status: 'ok', data: hub.descriptor() };
    }
    // wHubStatus, wHubChange: local power good, no over-current, nothing changed.
    if (setup.request === HubRequest.GET_STATUS && setup.value === 0 && setup.index === 0) return { status: 'ok', data: new Uint8Array(4) };
    return STALL;
  }
  if (setup.recipient === 'other' && setup.request === HubRequest.GET_STATUS && setup.value === 0 && isPort(hub, setup.index)) {
    const { status, change } = hub.portStatus(setup.index);
    return { status: 'ok', data: Uint8Array.of(status & 0xff, status >> 8, change & 0xff, change >> 8) };
  }
  return STALL;
}

/** A host-to-device request (Set/ClearPortFeature, ClearHubFeature). These carry no data stage. */
export function answerHubRequestOut(hub: HubRequestTarget, setup: UsbControlSetup, dataLength: number): HubRequestAnswer {
  if (setup.requestType !== 'class' || dataLength !== 0) return STALL;
  if (setup.recipient === 'device') {
    const clearsHubChange = setup.value === HubFeature.C_HUB_LOCAL_POWER || setup.value === HubFeature.C_HUB_OVER_CURRENT;
    return setup.request === HubRequest.CLEAR_FEATURE && clearsHubChange && setup.index === 0 ? OK_NO_DATA : STALL;
  }
  if (setup.recipient !== 'other') return STALL;
  // PORT_TEST and PORT_INDICATOR put a selector in wIndex's high byte; the port is the low byte.
  const port = setup.index & 0xff;
  if (!isPort(hub, port)) return STALL;
  if (setup.request === HubRequest.SET_FEATURE) return setPortFeature(hub, port, setup.value) ? OK_NO_DATA : STALL;
  if (setup.request === HubRequest.CLEAR_FEATURE) return clearPortFeature(hub, port, setup.value) ? OK_NO_DATA : STALL;
  return STALL;
}

function setPortFeature(hub: HubRequestTarget, port: number, feature: number): boolean {
  switch (feature) {
    case PortFeature.PORT_POWER:
      hub.switchPortPower(port, true);
      return true;
    case PortFeature.PORT_RESET:
      hub.resetPort(port);
      return true;
    case PortFeature.PORT_SUSPEND:
      hub.suspendPort(port, true);
      return true;
    default:
      // PORT_TEST is not simulated; PORT_INDICATOR needs indicators (the descriptor says none).
      return false;
  }
}

function clearPortFeature(hub: HubRequestTarget, port: number, feature: number): boolean {
  const changeBit = CHANGE_BIT_OF_FEATURE.get(feature);
  if (changeBit !== undefined) {
    hub.clearPortChange(port, changeBit);
    return true;
  }
  switch (feature) {
    case PortFeature.PORT_POWER:
      hub.switchPortPower(port, false);
      return true;
    case PortFeature.PORT_ENABLE:
      hub.disablePort(port);
      return true;
    case PortFeature.PORT_SUSPEND:
      hub.suspendPort(port, false);
      return true;
    default:
      return false;
  }
}

function isPort(hub: HubRequestTarget, port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= hub.portCount;
}
