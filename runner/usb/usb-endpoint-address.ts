/**
 * Endpoint addresses as the rig's callers write them (`0x82` = EP 2 IN, as in descriptors and
 * MicroPython's `submit_xfer`) checked before a transfer, because WebUSB takes the bare endpoint
 * number and the direction from the method: an OUT address passed to a read would silently read
 * another endpoint.
 */
import { HilError } from '../errors.ts';
import type { UsbConfiguration } from './descriptors/configuration-tree.ts';
import { describeEndpointAddress, hexByte } from './descriptors/descriptor-format.ts';
import { ENDPOINT_DIRECTION_IN, ENDPOINT_NUMBER_MASK, type EndpointDirection, type TransferType } from './descriptors/usb-constants.ts';
import { listEndpoints } from './descriptors/usb-numbering.ts';

/**
 * The endpoint number (1–15) of `address`.
 * @throws HilError `USAGE` for endpoint 0, reserved bits, or the wrong direction for `direction`.
 */
export function endpointNumberOf(portPath: string, address: number, direction: EndpointDirection): number {
  const number = address & ENDPOINT_NUMBER_MASK;
  const isIn = (address & ENDPOINT_DIRECTION_IN) !== 0;
  const reservedBits = (address & 0x70) !== 0;
  if (!Number.isInteger(address) || address < 0 || address > 0xff || reservedBits || number === 0) {
    throw new HilError('USAGE', `${portPath}: ${Number.isInteger(address) && address >= 0 && address <= 0xff ? hexByte(address) : String(address)} is not a bulk or interrupt endpoint address (1–15, bit 7 set for IN: e.g. 0x82, 0x02)`,
      { portPath, endpoint: address });
  }
  if (isIn !== (direction === 'in')) {
    const wanted = direction === 'in' ? `an IN address (bit 7 set), e.g. ${hexByte(number | ENDPOINT_DIRECTION_IN)}` : `an OUT address (bit 7 clear), e.g. ${hexByte(number)}`;
    throw new HilError('USAGE', `${portPath}: ${describeEndpointAddress(address)} is the wrong direction: this transfer needs ${wanted}`, { portPath, endpoint: hexByte(address) });
  }
  return number;
}

/**
 * Checks that the configuration describes `address` with `transferType` in some alternate setting.
 * @throws HilError `USAGE` naming the endpoints the device does have.
 */
export function checkEndpointDescribed(portPath: string, config: UsbConfiguration, address: number, transferType: TransferType): void {
  const endpoints = listEndpoints(config);
  const found = endpoints.find((located) => located.endpoint.address === address);
  if (found !== undefined && found.endpoint.transferType === transferType) return;
  const have = endpoints.map((located) => `${hexByte(located.endpoint.address)} ${located.endpoint.transferType} (interface ${located.interfaceNumber})`);
  const why = found === undefined
    ? `has no endpoint ${describeEndpointAddress(address)}`
    : `describes ${describeEndpointAddress(address)} as ${found.endpoint.transferType}, not ${transferType}`;
  throw new HilError('USAGE', `${portPath} ${why}; its endpoints: ${have.length === 0 ? 'none' : have.join(', ')}`, { portPath, endpoint: hexByte(address) });
}
