/**
 * The host's view of a parsed configuration: every rule of USB 2.0 chapter 9, the IAD ECN and the
 * class drivers that the tree breaks, as a list of located problems. The rig (and the simulated host)
 * refuses to enumerate a device with any `refuse` problem — see {@link assertEnumerable}.
 */
import { checkClassRules } from './class-rules.ts';
import { alternateLabel, type ProblemSink, type UsbConfigurationProblem } from './configuration-problem.ts';
import type { UsbConfiguration, UsbInterface } from './configuration-tree.ts';
import type { UsbDeviceDescriptor } from './device-descriptor.ts';
import { describeEndpointAddress } from './descriptor-format.ts';
import { checkAlternateEndpoints } from './endpoint-rules.ts';
import { UsbClass, type UsbSpeed } from './usb-constants.ts';
import { validateDeviceDescriptor } from './validate-device.ts';

export interface ValidationOptions {
  /** The device descriptor: adds its own problems and the IAD device-class check. */
  device?: UsbDeviceDescriptor;
  /** Speed the packet-size and interval rules apply for. Default `full` (ESP32-S2/S3 native USB). */
  speed?: UsbSpeed;
}

/** USB 2.0 ports supply at most 500 mA (§7.2.1); hosts leave a configuration asking for more unselected. */
const MAX_POWER_MA = 500;

/**
 * Every problem a host has with `config` (and `options.device`), device problems first, then in the
 * order of the checks. An empty list means a host configures the device and class drivers bind.
 */
export function validateConfiguration(config: UsbConfiguration, options: ValidationOptions = {}): UsbConfigurationProblem[] {
  const speed = options.speed ?? 'full';
  const problems: UsbConfigurationProblem[] = options.device === undefined ? [] : validateDeviceDescriptor(options.device, speed);
  const report: ProblemSink = (code, severity, offset, message) => problems.push({ code, severity, descriptor: 'configuration', offset, message });
  checkHeader(config, report);
  checkInterfaces(config, report);
  checkAssociations(config, options.device, report);
  for (const itf of config.interfaces) {
    for (const alternate of itf.alternates) checkAlternateEndpoints(alternate, speed, report);
  }
  checkEndpointConflicts(config.interfaces, report);
  checkClassRules(config, report);
  return problems;
}

function checkHeader(config: UsbConfiguration, report: ProblemSink): void {
  if (config.configurationValue === 0) {
    report('configuration-value-zero', 'refuse', 0, 'bConfigurationValue 0 means "not configured" (USB 2.0 §9.4.7): SET_CONFIGURATION cannot select it');
  }
  if ((config.attributes & 0x80) === 0 || (config.attributes & 0x1f) !== 0) {
    report('configuration-attributes-reserved', 'warning', 0, `bmAttributes 0x${config.attributes.toString(16)}: bit 7 must be set and bits 4..0 clear`);
  }
  if (config.maxPowerMa > MAX_POWER_MA) {
    report('configuration-power-over-limit', 'refuse', 0, `asks for ${config.maxPowerMa} mA; a USB 2.0 port supplies at most ${MAX_POWER_MA} mA, so hosts will not select it`);
  }
  if (config.declared.numInterfaces !== config.interfaces.length) {
    report('num-interfaces-mismatch', 'refuse', 0,
      `bNumInterfaces ${config.declared.numInterfaces} but ${config.interfaces.length} interface(s) are described (${numberList(config.interfaces)})`);
  }
  if (config.interfaces.length === 0) report('no-interfaces', 'warning', 0, 'the configuration describes no interface');
}

function checkInterfaces(config: UsbConfiguration, report: ProblemSink): void {
  const count = config.interfaces.length;
  const outOfRange = config.interfaces.find((itf) => itf.number >= count);
  if (outOfRange !== undefined) {
    report('interface-number-gap', 'warning', outOfRange.alternates[0]!.offset,
      `interface numbers ${numberList(config.interfaces)} are not 0..${count - 1} (USB 2.0 §9.6.5 numbers them from zero)`);
  }
  for (const itf of config.interfaces) {
    const settings = new Set<number>();
    for (const alternate of itf.alternates) {
      if (settings.has(alternate.alternateSetting)) {
        report('duplicate-interface', 'refuse', alternate.offset, `${alternateLabel(alternate)} is described twice`);
      }
      settings.add(alternate.alternateSetting);
    }
    if (!settings.has(0)) {
      report('missing-default-alternate', 'refuse', itf.alternates[0]!.offset,
        `interface ${itf.number} has no alternate setting 0, which SET_CONFIGURATION selects`);
    } else if (Math.max(...settings) >= settings.size) {
      report('alternate-gap', 'warning', itf.alternates[0]!.offset,
        `interface ${itf.number} alternate settings ${[...settings].sort((a, b) => a - b).join(', ')} are not consecutive from 0`);
    }
  }
}

function checkAssociations(config: UsbConfiguration, device: UsbDeviceDescriptor | undefined, report: ProblemSink): void {
  const byNumber = new Map(config.interfaces.map((itf) => [itf.number, itf]));
  const claimedBy = new Map<number, number>();
  for (const iad of config.associations) {
    const last = iad.firstInterface + iad.interfaceCount - 1;
    const name = `IAD at byte ${iad.offset} (interfaces ${iad.firstInterface}..${last})`;
    if (iad.interfaceCount === 0) {
      report('iad-empty', 'refuse', iad.offset, `IAD at byte ${iad.offset} has bInterfaceCount 0`);
      continue;
    }
    const missing: number[] = [];
    const claimed: UsbInterface[] = [];
    for (let number = iad.firstInterface; number <= last; number++) {
      const itf = byNumber.get(number);
      if (itf === undefined) missing.push(number);
      const earlier = claimedBy.get(number);
      if (earlier !== undefined) {
        report('iad-overlap', 'refuse', iad.offset, `${name} claims interface ${number}, already grouped by the IAD at byte ${earlier}`);
      } else {
        claimedBy.set(number, iad.offset);
        if (itf !== undefined) claimed.push(itf);
      }
    }
    if (missing.length > 0) {
      report('iad-past-interfaces', 'refuse', iad.offset,
        `${name} points past the interfaces: ${missing.join(', ')} not described (have ${numberList(config.interfaces)})`);
    }
    const before = claimed.find((itf) => itf.alternates.some((alternate) => alternate.offset < iad.offset));
    if (before !== undefined) {
      report('iad-misplaced', 'warning', iad.offset, `${name} comes after interface ${before.number}; an IAD must precede the interfaces it groups`);
    }
    if (iad.functionClass === 0) report('iad-function-class-zero', 'warning', iad.offset, `${name} has bFunctionClass 0, which the IAD ECN forbids`);
  }
  if (device !== undefined && config.associations.length > 0) {
    const triple = [device.deviceClass, device.deviceSubClass, device.deviceProtocol];
    if (triple[0] !== UsbClass.miscellaneous || triple[1] !== 0x02 || triple[2] !== 0x01) {
      report('iad-device-class', 'warning', config.associations[0]!.offset,
        `the configuration uses IADs but the device class is ${triple.map((v) => v.toString(16).padStart(2, '0')).join('/')}, not ef/02/01 as the IAD ECN asks`);
    }
  }
}

/** Interfaces active together (their default settings) cannot share an endpoint address. */
function checkEndpointConflicts(interfaces: readonly UsbInterface[], report: ProblemSink): void {
  const owner = new Map<number, number>();
  for (const itf of interfaces) {
    const defaultSetting = itf.alternates.find((alternate) => alternate.alternateSetting === 0);
    for (const endpoint of defaultSetting?.endpoints ?? []) {
      const other = owner.get(endpoint.address);
      if (other !== undefined && other !== itf.number) {
        report('endpoint-conflict', 'refuse', endpoint.offset,
          `interfaces ${other} and ${itf.number} both use endpoint ${describeEndpointAddress(endpoint.address)} in their default settings`);
      } else {
        owner.set(endpoint.address, itf.number);
      }
    }
  }
}

function numberList(interfaces: readonly UsbInterface[]): string {
  return interfaces.length === 0 ? 'none' : interfaces.map((itf) => itf.number).join(', ');
}
