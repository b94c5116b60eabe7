/**
 * The control server's device routes (`/usb/devices/<portPath>...`, see lab-control-wire.ts): a
 * device's identity, and control transfers, interface claims and bulk/interrupt transfers on it,
 * through the lab discovery's `openDevice`. Transfers are long polls: the answer waits for the
 * device, so an IN that has no data yet keeps its request open until data comes, the device goes
 * (410), the lab closes (503) or the client goes away — then the IN is kept for the next reader of
 * that endpoint, since it cannot be cancelled.
 */
import type { Logger } from 'pino';
import { isDevicePortPath } from '../../runner/usb/port-path.ts';
import type { UsbTransferDevice } from '../../runner/usb/usb-transfer-device.ts';
import { parseControlTransferBody } from './control-transfer-body.ts';
import { controlTransferOn } from './control-transfer-call.ts';
import { messageOf, Refusal } from './control-request.ts';
import { parseEndpointTransferBody, parseInterfaceBody } from './device-request-bodies.ts';
import { fromBase64, toBase64, type ControlTransferResponse, type DeviceAction, type DeviceInfo } from './lab-control-wire.ts';
import type { OpenedDevice, OpenedDevices } from './opened-devices.ts';

const DEVICE_ROUTE = /^\/usb\/devices\/([^/]+)(?:\/(control|claim|release|transfer))?$/;

/** A device route: the escaped port path segment and the action (none: the device's identity). */
export interface DeviceRoute {
  segment: string;
  action: DeviceAction | undefined;
}

/** The device route `pathname` names, or null. */
export function matchDeviceRoute(pathname: string): DeviceRoute | null {
  const match = DEVICE_ROUTE.exec(pathname);
  return match === null ? null : { segment: match[1]!, action: match[2] as DeviceAction | undefined };
}

export class DeviceRoutes {
  readonly #devices: OpenedDevices;
  readonly #logger: Logger;

  constructor(devices: OpenedDevices, logger: Logger) {
    this.#devices = devices;
    this.#logger = logger;
  }

  /** `GET /usb/devices/<portPath>`: 404 with the reason when the path is malformed or nothing is there. */
  async info(portPath: string): Promise<DeviceInfo> {
    checkPortPath(portPath);
    const opened = await this.#devices.get(portPath);
    if (opened === 'absent' || opened === 'gone') throw new Refusal(404, { error: `no USB device is enumerated at ${portPath}`, name: 'NotFoundError' });
    return { portPath, vendorId: opened.device.vendorId, productId: opened.device.productId, enumeration: opened.enumeration };
  }

  /**
   * `POST /usb/devices/<portPath>/<action>?enumeration=N`. `clientGone` fires when the client stops
   * waiting for the answer.
   */
  async act(portPath: string, action: DeviceAction, enumerationText: string | null, body: unknown, clientGone: AbortSignal): Promise<unknown> {
    checkPortPath(portPath);
    const enumeration = Number(enumerationText);
    if (enumerationText === null || enumerationText === '' || !Number.isInteger(enumeration) || enumeration < 0) {
      throw new Refusal(400, { error: `enumeration: the query must give the enumeration the device was opened in (?enumeration=N), got ${enumerationText === null ? 'none' : JSON.stringify(enumerationText)}` });
    }
    const call = this.#call(action, body);
    const opened = await this.#devices.get(portPath, enumeration);
    if (opened === 'absent' || opened === 'gone') throw new Refusal(410, { error: `the USB device at ${portPath} has gone (detached or re-enumerated since it was opened)`, name: 'NotFoundError' });
    try {
      return await call(opened, clientGone);
    } catch (err: unknown) {
      throw this.#refusalFor(opened, err);
    }
  }

  /** The validated request as a call on an opened device (400 before anything reaches the device). */
  #call(action: DeviceAction, body: unknown): (opened: OpenedDevice, clientGone: AbortSignal) => Promise<unknown> {
    if (action === 'control') {
      const parsed = parseControlTransferBody(body);
      if ('problems' in parsed) throw malformed('control transfer', parsed.problems);
      return (opened) => untilEnded(controlTransferOn(opened.device, parsed.request), opened.ended);
    }
    if (action === 'claim' || action === 'release') {
      const parsed = parseInterfaceBody(body);
      if ('problems' in parsed) throw malformed(`${action} request`, parsed.problems);
      const { interfaceNumber } = parsed.request;
      return async (opened) => {
        const device: UsbTransferDevice = opened.device;
        await untilEnded(action === 'claim' ? device.claimInterface(interfaceNumber) : device.releaseInterface(interfaceNumber), opened.ended);
        return {};
      };
    }
    const parsed = parseEndpointTransferBody(body);
    if ('problems' in parsed) throw malformed('transfer', parsed.problems);
    const request = parsed.request;
    if (request.direction === 'out') {
      return async (opened) => {
        const result = await untilEnded(opened.device.transferOut(request.endpointNumber, fromBase64(request.data)), opened.ended);
        return { status: result.status, bytesWritten: result.bytesWritten } satisfies ControlTransferResponse;
      };
    }
    return async (opened, clientGone) => {
      const { endpointNumber, length } = request;
      const transfer = opened.abandonedIns.take(endpointNumber, () => opened.device.transferIn(endpointNumber, length));
      const keep = (): void => {
        opened.abandonedIns.abandon(endpointNumber, transfer);
        this.#logger.debug({ portPath: opened.portPath, endpointNumber }, 'the client stopped waiting; its IN transfer is kept for the next read of the endpoint');
      };
      let result;
      try {
        result = await untilEnded(transfer, opened.ended, clientGone);
      } catch (err: unknown) {
        if (clientGone.aborted && !opened.ended.aborted) keep();
        throw err;
      }
      // The client went as the data came: its answer would be lost, so the next reader gets it.
      if (clientGone.aborted) keep();
      const data = result.data;
      return (data === undefined
        ? { status: result.status }
        : { status: result.status, data: toBase64(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) }) satisfies ControlTransferResponse;
    };
  }

  /** The answer for a device's rejection, by its WebUSB name; a device that says it has gone is forgotten. */
  #refusalFor(opened: OpenedDevice, err: unknown): Refusal {
    if (err instanceof Refusal) return err;
    const where = `USB device ${opened.portPath}`;
    if (err instanceof TypeError) return new Refusal(400, { error: `${where}: ${err.message}`, name: 'TypeError' });
    const name = err instanceof Error ? err.name : undefined;
    if (name === 'NotFoundError' && !opened.device.opened) {
      this.#devices.forget(opened);
      return new Refusal(410, { error: `${where} has gone: ${messageOf(err)}`, name });
    }
    const statusCode = name === 'NotFoundError' ? 404 : name === 'InvalidStateError' ? 409 : 500;
    return new Refusal(statusCode, { error: `${where}: ${messageOf(err)}`, ...(name === undefined ? {} : { name }) });
  }
}

function checkPortPath(portPath: string): void {
  if (!isDevicePortPath(portPath)) {
    throw new Refusal(404, { error: `"${portPath}" is not a device port path (bus-port[.port...], e.g. 1-1.3)`, name: 'NotFoundError' });
  }
}

function malformed(what: string, problems: readonly string[]): Refusal {
  return new Refusal(400, { error: `malformed ${what}: ${problems.join('; ')}` });
}

/**
 * `work`, unless one of `signals` aborts first: then its reason (a {@link Refusal} for a device that
 * went or a closing lab; anything for a client that went, whose answer is never sent).
 */
function untilEnded<T>(work: Promise<T>, ...signals: AbortSignal[]): Promise<T> {
  work.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const stop = (): void => {
      for (const signal of signals) signal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      stop();
      const signal = signals.find((candidate) => candidate.aborted);
      reject(signal?.reason instanceof Refusal ? signal.reason : new Refusal(499, { error: 'the client went away' }));
    };
    if (signals.some((signal) => signal.aborted)) {
      onAbort();
      return;
    }
    for (const signal of signals) signal.addEventListener('abort', onAbort, { once: true });
    work.then((value) => { stop(); resolve(value); }, (err: unknown) => { stop(); reject(err); });
  });
}
