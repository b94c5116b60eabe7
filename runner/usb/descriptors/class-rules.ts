/**
 * What class drivers need beyond chapter 9: HID 1.11 (§6.2.1 HID descriptor naming a report
 * descriptor; §4.4 an interrupt IN endpoint) and CDC 1.2 / PSTN 1.2 for ACM serial ports (union and
 * call management naming existing interfaces, a notification endpoint, a data interface with bulk IN
 * and OUT). The device still enumerates when these fail; the driver does not bind (`driver`), or binds
 * on a fallback (`warning`, e.g. Linux cdc-acm guesses the data interface without a union).
 */
import type { CdcUnionFields, UsbClassDescriptor } from './class-descriptors.ts';
import { alternateLabel, type ProblemSink } from './configuration-problem.ts';
import type { UsbAlternateSetting, UsbConfiguration, UsbInterface } from './configuration-tree.ts';
import { hexByte } from './descriptor-format.ts';
import { CDC_SUBCLASS_ACM, DescriptorType, UsbClass } from './usb-constants.ts';

/** Checks the class-level needs of every interface in `config`. */
export function checkClassRules(config: UsbConfiguration, report: ProblemSink): void {
  const byNumber = new Map(config.interfaces.map((itf) => [itf.number, itf]));
  for (const itf of config.interfaces) {
    for (const alternate of itf.alternates) {
      for (const descriptor of alternate.classDescriptors) {
        if (descriptor.kind === 'raw' && descriptor.defect !== undefined) {
          report('class-descriptor-malformed', 'driver', descriptor.offset, `${alternateLabel(alternate)}: ${descriptor.defect}`);
        }
      }
    }
    const defaultSetting = itf.alternates.find((alternate) => alternate.alternateSetting === 0);
    if (defaultSetting === undefined) continue;
    if (defaultSetting.interfaceClass === UsbClass.hid) checkHid(defaultSetting, report);
    if (defaultSetting.interfaceClass === UsbClass.cdc && defaultSetting.interfaceSubClass === CDC_SUBCLASS_ACM) {
      checkCdcAcm(defaultSetting, byNumber, report);
    }
  }
}

function checkHid(alternate: UsbAlternateSetting, report: ProblemSink): void {
  const where = alternateLabel(alternate);
  const hid = findKind(alternate.classDescriptors, 'hid');
  if (hid === undefined) {
    report('hid-descriptor-missing', 'driver', alternate.offset, `${where} is a HID interface without a HID descriptor (type 0x21)`);
  } else if (!hid.subordinateDescriptors.some((entry) => entry.descriptorType === DescriptorType.hidReport)) {
    report('hid-report-descriptor-missing', 'driver', hid.offset, `${where}: the HID descriptor names no report descriptor (type 0x22)`);
  }
  if (!alternate.endpoints.some((ep) => ep.transferType === 'interrupt' && ep.direction === 'in')) {
    report('hid-interrupt-in-missing', 'driver', alternate.offset, `${where} is a HID interface without an interrupt IN endpoint`);
  }
}

function checkCdcAcm(alternate: UsbAlternateSetting, byNumber: ReadonlyMap<number, UsbInterface>, report: ProblemSink): void {
  const where = alternateLabel(alternate);
  if (!alternate.endpoints.some((ep) => ep.transferType === 'interrupt' && ep.direction === 'in')) {
    report('cdc-notification-endpoint-missing', 'driver', alternate.offset, `${where} is a CDC-ACM control interface without an interrupt IN notification endpoint`);
  }
  const callManagement = findKind(alternate.classDescriptors, 'cdc-call-management');
  if (callManagement !== undefined && !byNumber.has(callManagement.dataInterface)) {
    report('cdc-call-management-interface-missing', 'warning', callManagement.offset,
      `${where}: call management names data interface ${callManagement.dataInterface}, which does not exist`);
  }
  const union = findKind(alternate.classDescriptors, 'cdc-union');
  if (union === undefined) {
    report('cdc-union-missing', 'warning', alternate.offset, `${where} is a CDC-ACM control interface without a union descriptor: hosts must guess its data interface`);
    return;
  }
  checkUnion(union, where, byNumber, report);
}

function checkUnion(union: CdcUnionFields & { offset: number }, where: string, byNumber: ReadonlyMap<number, UsbInterface>, report: ProblemSink): void {
  for (const number of [union.controlInterface, ...union.subordinateInterfaces]) {
    if (!byNumber.has(number)) {
      report('cdc-union-interface-missing', 'driver', union.offset, `${where}: the union names interface ${number}, which does not exist`);
    }
  }
  for (const number of union.subordinateInterfaces) {
    const data = byNumber.get(number);
    if (data === undefined) continue;
    const isData = data.alternates.some((alternate) => alternate.interfaceClass === UsbClass.cdcData);
    const hasBulkPair = data.alternates.some((alternate) =>
      alternate.endpoints.some((ep) => ep.transferType === 'bulk' && ep.direction === 'in')
      && alternate.endpoints.some((ep) => ep.transferType === 'bulk' && ep.direction === 'out'));
    if (isData && !hasBulkPair) {
      report('cdc-data-endpoints-missing', 'driver', data.alternates[0]!.offset,
        `interface ${number} (class ${hexByte(UsbClass.cdcData)}, data of ${where}) has no setting with both a bulk IN and a bulk OUT endpoint`);
    }
  }
}

function findKind<K extends UsbClassDescriptor['kind']>(descriptors: readonly UsbClassDescriptor[], kind: K): Extract<UsbClassDescriptor, { kind: K }> | undefined {
  return descriptors.find((descriptor): descriptor is Extract<UsbClassDescriptor, { kind: K }> => descriptor.kind === kind);
}
