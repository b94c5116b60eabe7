import { describe, expect, it } from 'vitest';
import { controllerOnHub, FakeFirmware, hidFunction, runtimeConfig, runtimeDeviceDescriptor, settle, summary, vendorFunction, cdcFunction } from './usbd-fixture.ts';

describe('BoardUsbController on the simulated hub: what the host enumerates', () => {
  it('stays off the bus until the firmware connects, then enumerates the built-in CDC', () => {
    const { clock, hub, controller, firmware, events } = controllerOnHub();
    clock.advance(1000);
    expect(events).toEqual([]);
    expect(controller.presentation).toBeNull();
    firmware.connect('cdc', null);
    clock.advance(120);
    expect(events.map(summary)).toEqual(['attach 303a:4001 addr 3 ttyACM0']);
    expect(hub.list()[1]).toMatchObject({ manufacturer: 'Espressif Systems', product: 'Espressif Device', serialNumber: '246f28aabbcc0000' });
    // The built-in CDC alone has no runtime driver behind it: Python hears neither the reset nor the configuration.
    expect(firmware.kinds()).toEqual([]);
  });

  it('re-enumerates with the runtime descriptors: detach, then attach with a new address; the host configures it', async () => {
    const { clock, hub, firmware, events } = controllerOnHub();
    firmware.connect('cdc', null);
    clock.advance(120);
    const runtime = runtimeConfig('cdc', [vendorFunction(2, 3)], { strings: [null, null, 'Test Rig Device', null] });
    firmware.send({ kind: 'disconnect' });
    firmware.connect('cdc', runtime);
    expect(events.map(summary)).toEqual(['attach 303a:4001 addr 3 ttyACM0', 'detach']);
    clock.advance(120);
    expect(events.map(summary)).toEqual(['attach 303a:4001 addr 3 ttyACM0', 'detach', 'attach 303a:4001 addr 4 ttyACM0']);
    // Runtime string 2 overrides the product; null falls back to the built-in strings (serial kept).
    expect(hub.list()[1]).toMatchObject({ product: 'Test Rig Device', manufacturer: 'Espressif Systems', serialNumber: '246f28aabbcc0000' });
    await settle();
    // Linux resets the port, addresses the device and selects configuration 1 without being asked.
    expect(firmware.kinds()).toEqual(['bus-reset', 'configured']);
    // The vendor interface follows the 75 bytes of the built-in CDC: interface (9) + two endpoints (7 + 7).
    expect(firmware.ofKind('configured')[0]).toEqual({ kind: 'configured', configured: true, openInterfaces: [{ offset: 75, length: 23 }] });
  });

  it('sees active(False)/active(True) with identical descriptors as unplug and replug', () => {
    const { clock, firmware, events } = controllerOnHub();
    const runtime = runtimeConfig('cdc', [vendorFunction(2, 3)]);
    firmware.connect('cdc', runtime);
    clock.advance(120);
    firmware.send({ kind: 'disconnect' });
    firmware.connect('cdc', runtime);
    clock.advance(120);
    expect(events.map(summary)).toEqual(['attach 303a:4001 addr 3 ttyACM0', 'detach', 'attach 303a:4001 addr 4 ttyACM0']);
    // A connect that replaces a live connection is a new attachment too, though nothing dropped in between.
    firmware.connect('cdc', runtime);
    clock.advance(120);
    expect(events.map(summary).slice(3)).toEqual(['detach', 'attach 303a:4001 addr 5 ttyACM0']);
  });

  it('makes no tty for a BUILTIN_NONE device without CDC, and a ttyACM for a runtime CDC whatever its VID', () => {
    const { clock, hub, firmware, events } = controllerOnHub();
    firmware.connect('none', runtimeConfig('none', [hidFunction(0, 1)]));
    clock.advance(120);
    expect(events.map(summary)).toEqual(['attach 303a:4001 addr 3 -']);
    expect(hub.list()[1]?.serial).toBeNull();
    firmware.send({ kind: 'disconnect' });
    firmware.connect('none', runtimeConfig('none', [cdcFunction(0, 1)], { deviceDescriptor: runtimeDeviceDescriptor({ vendorId: 0x1209, productId: 0x0001 }) }));
    clock.advance(120);
    expect(events.map(summary).slice(1)).toEqual(['detach', 'attach 1209:1 addr 4 ttyACM0']);
  });

  it('refuses descriptors a host refuses: enumeration-failed with the reason, no address kept, no attach, a warning', () => {
    const { clock, hub, firmware, events, warnings } = controllerOnHub();
    // wTotalLength says 200 bytes; the buffer holds 98: the host's read comes up short.
    firmware.connect('cdc', runtimeConfig('cdc', [vendorFunction(2, 3)], { declared: { totalLength: 200 } }));
    clock.advance(120);
    expect(events.map(summary)).toEqual(['enumeration-failed total-length-mismatch']);
    const failed = events[0]!;
    expect(failed).toMatchObject({ type: 'enumeration-failed', portPath: '1-1.2', atMs: 220 });
    expect(failed.type === 'enumeration-failed' && failed.reason).toMatch(/^configuration descriptor: .*wTotalLength/);
    expect(hub.list().map((d) => d.portPath)).toEqual(['1-1']);
    expect(warnings.join('\n')).toContain("usb 1-1.2: device not accepted, can't set config");
    // Not retried while the same device stays connected.
    clock.advance(1000);
    expect(events).toHaveLength(1);

    firmware.send({ kind: 'disconnect' });
    firmware.connect('cdc', runtimeConfig('cdc', [{
      interfaces: [{ number: 2, alternates: [{ interfaceClass: 0xff, endpoints: [
        { address: 0x83, transferType: 'bulk', maxPacketSize: 64 },
        { address: 0x83, transferType: 'bulk', maxPacketSize: 64 },
      ] }] }],
    }]));
    clock.advance(120);
    expect(events.map(summary)[1]).toBe('enumeration-failed duplicate-endpoint');
    expect(events[1]!.type === 'enumeration-failed' && events[1]!.reason).toContain('describes endpoint 0x83 (EP 3 IN) twice');

    firmware.send({ kind: 'disconnect' });
    firmware.connect('cdc', runtimeConfig('cdc', [vendorFunction(2, 3)]));
    clock.advance(120);
    // The failed attempts used addresses 3 and 4 and gave them back; the host's counter moved on.
    expect(events.map(summary)[2]).toBe('attach 303a:4001 addr 5 ttyACM0');
  });

  it('refuses a device descriptor with a bMaxPacketSize0 full speed does not allow', () => {
    const { clock, firmware, events } = controllerOnHub();
    firmware.connect('none', runtimeConfig('none', [vendorFunction(0, 1)], { deviceDescriptor: runtimeDeviceDescriptor({ maxPacketSize0: 12 }) }));
    clock.advance(120);
    expect(events.map(summary)).toEqual(['enumeration-failed device-max-packet-size0']);
  });

  it('leaves the bus when the firmware detaches (interpreter stopped) or the chip stops', () => {
    const { clock, controller, firmware, events } = controllerOnHub();
    firmware.connect('cdc', null);
    clock.advance(120);
    firmware.detach();
    expect(events.map(summary)).toEqual(['attach 303a:4001 addr 3 ttyACM0', 'detach']);
    // A later message of the detached firmware changes nothing.
    firmware.connect('cdc', null);
    clock.advance(120);
    expect(events).toHaveLength(2);
    // The next interpreter attaches and connects; the run ends with a chip reset.
    const next = new FakeFirmware(controller);
    next.connect('cdc', null);
    clock.advance(120);
    controller.endRun();
    expect(events.map(summary).slice(2)).toEqual(['attach 303a:4001 addr 4 ttyACM0', 'detach']);
  });

  it('presents the built-in CDC for an interpreter that never drives the stack', () => {
    const { clock, controller, firmware, events } = controllerOnHub();
    firmware.detach();
    controller.endRun();
    controller.startRun('v1.23.0');
    controller.runStarted();
    clock.advance(120);
    expect(events.map(summary)).toEqual(['attach 303a:4001 addr 3 ttyACM0']);
    expect(controller.presentation?.identity.serialNumber).toBe('123456');
  });
});
