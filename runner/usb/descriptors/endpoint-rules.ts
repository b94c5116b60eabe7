/**
 * Endpoint rules of USB 2.0: §9.6.6 (address and attribute bits, bInterval ranges) and the per-type
 * packet-size limits of §5.5.3 (control), §5.6.3 (isochronous), §5.7.3 (interrupt), §5.8.3 (bulk).
 * Hosts reject endpoint 0 in an interface, duplicates and zero packet sizes; they clamp the rest
 * (Linux rounds packet sizes and intervals with a warning), hence `warning` for those.
 */
import { alternateLabel, type ProblemSink } from './configuration-problem.ts';
import type { UsbAlternateSetting, UsbEndpoint } from './configuration-tree.ts';
import { describeEndpointAddress } from './descriptor-format.ts';
import type { TransferType, UsbSpeed } from './usb-constants.ts';

/** Allowed wMaxPacketSize (bits 10..0) per speed and type: a list of values or an inclusive maximum. */
const PACKET_SIZES: Record<UsbSpeed, Record<TransferType, readonly number[] | number | undefined>> = {
  low: { control: [8], interrupt: 8, bulk: undefined, isochronous: undefined },
  full: { control: [8, 16, 32, 64], interrupt: 64, bulk: [8, 16, 32, 64], isochronous: 1023 },
  high: { control: [64], interrupt: 1024, bulk: [512], isochronous: 1024 },
};

/** Checks every endpoint of one alternate setting, and the set of them. */
export function checkAlternateEndpoints(alternate: UsbAlternateSetting, speed: UsbSpeed, report: ProblemSink): void {
  const where = alternateLabel(alternate);
  if (alternate.declared.numEndpoints !== alternate.endpoints.length) {
    report('endpoint-count-mismatch', 'refuse', alternate.offset,
      `${where} declares bNumEndpoints ${alternate.declared.numEndpoints} but ${alternate.endpoints.length} endpoint descriptor(s) follow`);
  }
  const seen = new Set<number>();
  for (const endpoint of alternate.endpoints) {
    if (seen.has(endpoint.address)) {
      report('duplicate-endpoint', 'refuse', endpoint.offset, `${where} describes endpoint ${describeEndpointAddress(endpoint.address)} twice`);
    }
    seen.add(endpoint.address);
    checkEndpoint(endpoint, alternate, speed, report);
  }
}

function checkEndpoint(endpoint: UsbEndpoint, alternate: UsbAlternateSetting, speed: UsbSpeed, report: ProblemSink): void {
  const name = `${alternateLabel(alternate)} endpoint ${describeEndpointAddress(endpoint.address)}`;
  const at = endpoint.offset;
  if (endpoint.number === 0) {
    report('endpoint-zero', 'refuse', at, `${name}: endpoint 0 is the default control pipe and cannot belong to an interface`);
  }
  if ((endpoint.address & 0x70) !== 0) {
    report('endpoint-address-reserved-bits', 'warning', at, `${name}: bEndpointAddress bits 6..4 are reserved and must be zero`);
  }
  const reservedAttributes = endpoint.transferType === 'isochronous' ? 0xc0 : 0xfc;
  if ((endpoint.attributes & reservedAttributes) !== 0) {
    report('endpoint-attributes-reserved-bits', 'warning', at, `${name}: bmAttributes 0x${endpoint.attributes.toString(16)} sets reserved bits`);
  }
  checkPacketSize(endpoint, alternate, speed, name, report);
  checkInterval(endpoint, speed, name, report);
}

function checkPacketSize(endpoint: UsbEndpoint, alternate: UsbAlternateSetting, speed: UsbSpeed, name: string, report: ProblemSink): void {
  const { transferType: type, maxPacketSize: size, additionalTransactions: extra, offset: at } = endpoint;
  const rule = PACKET_SIZES[speed][type];
  if (rule === undefined) {
    report('transfer-type-speed', 'warning', at, `${name}: ${type} endpoints do not exist at ${speed} speed`);
    return;
  }
  if (type === 'isochronous') {
    // Default settings must not reserve isochronous bandwidth (§5.6.3); size 0 is how they don't.
    if (alternate.alternateSetting === 0 && size > 0) {
      report('max-packet-size', 'warning', at, `${name}: a default setting must not reserve isochronous bandwidth (wMaxPacketSize ${size}, expected 0)`);
    }
  } else if (size === 0) {
    report('max-packet-size-zero', 'refuse', at, `${name}: wMaxPacketSize 0, no data can ever move`);
    return;
  }
  const fits = typeof rule === 'number' ? size <= rule : rule.includes(size);
  if (!fits) {
    const allowed = typeof rule === 'number' ? `at most ${rule}` : rule.join(', ');
    report('max-packet-size', 'warning', at, `${name}: ${type} wMaxPacketSize ${size} at ${speed} speed (allowed: ${allowed})`);
  }
  const periodic = type === 'interrupt' || type === 'isochronous';
  if (extra === 3) {
    report('additional-transactions', 'warning', at, `${name}: wMaxPacketSize bits 12..11 = 3 is reserved`);
  } else if (extra > 0 && !(speed === 'high' && periodic)) {
    report('additional-transactions', 'warning', at, `${name}: additional transactions per microframe exist only for high-speed interrupt and isochronous endpoints`);
  }
}

function checkInterval(endpoint: UsbEndpoint, speed: UsbSpeed, name: string, report: ProblemSink): void {
  const { transferType: type, interval, offset: at } = endpoint;
  // Full/low-speed interrupt: 1..255 frames; isochronous and high-speed interrupt: 2^(bInterval-1), 1..16.
  const max = type === 'isochronous' || (type === 'interrupt' && speed === 'high') ? 16 : type === 'interrupt' ? 255 : undefined;
  if (max !== undefined && (interval < 1 || interval > max)) {
    report('interval', 'warning', at, `${name}: bInterval ${interval} outside 1..${max} for ${speed}-speed ${type} endpoints`);
  }
}
