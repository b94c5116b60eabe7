import { describe, expect, it } from 'vitest';
import { TinyUsbCdcBootloaderHook, TransistorAutoReset, UsbSerialJtagReset, type ResetCircuit, type LineEffect } from '../../../sim/board/reset-circuits.ts';

type Lines = [dtr: 0 | 1, rts: 0 | 1];

/** Runs a line sequence through a circuit and returns every effect. */
function run(circuit: ResetCircuit, start: Lines, ...steps: Lines[]): LineEffect[] {
  let prev = { dtr: start[0] === 1, rts: start[1] === 1 };
  circuit.initialPins(prev);
  return steps.map(([dtr, rts]) => {
    const next = { dtr: dtr === 1, rts: rts === 1 };
    const effect = circuit.change(prev, next);
    prev = next;
    return effect;
  });
}

const pins = (e: LineEffect) => (e.kind === 'pins' ? `${e.pins.enLow ? 'EN' : 'en'}${e.pins.io0Low ? 'IO0' : 'io0'}` : e.kind);

describe('TransistorAutoReset (§8.1 truth table)', () => {
  it('maps DTR/RTS to EN and GPIO0', () => {
    const effects = run(new TransistorAutoReset(), [0, 0], [1, 1], [0, 1], [1, 0], [0, 0]);
    expect(effects.map(pins)).toEqual(['enio0', 'ENio0', 'enIO0', 'enio0']);
  });
});

describe('UsbSerialJtagReset (§8.4)', () => {
  it('latches download for the USB-JTAG sequence and releases on RTS falling', () => {
    // (0,0) → (1,0) → RTS=1 (1,1) → DTR=0 (0,1) → (0,0)
    const effects = run(new UsbSerialJtagReset(), [0, 0], [1, 0], [1, 1], [0, 1], [0, 0]);
    expect(effects.map(pins)).toEqual(['enIO0', 'ENIO0', 'ENIO0', 'enIO0']);
  });

  it('boots normally on the native-USB hard reset (RTS pulse with DTR released)', () => {
    const effects = run(new UsbSerialJtagReset(), [0, 0], [0, 1], [0, 0]);
    expect(effects.map(pins)).toEqual(['ENio0', 'enio0']);
  });

  it('sees GPIO0 low when esptool\'s Classic sequence releases RTS while DTR is asserted', () => {
    const effects = run(new UsbSerialJtagReset(), [0, 0], [0, 1], [1, 1], [1, 0], [0, 0]);
    expect(effects.map(pins)).toEqual(['ENio0', 'ENio0', 'enIO0', 'enio0']);
  });
});

describe('TinyUsbCdcBootloaderHook (micropython-host-protocols §2.5)', () => {
  it('fires on (RTS=1,DTR=0) → (DTR=1,RTS=0), atomic or through (1,1)', () => {
    expect(run(new TinyUsbCdcBootloaderHook(), [0, 0], [0, 1], [1, 0]).map(pins)).toEqual(['none', 'firmware-bootloader']);
    expect(run(new TinyUsbCdcBootloaderHook(), [0, 0], [0, 1], [1, 1], [1, 0]).map(pins)).toEqual(['none', 'none', 'firmware-bootloader']);
  });

  it('ignores what terminal programs do on open and close', () => {
    expect(run(new TinyUsbCdcBootloaderHook(), [0, 0], [1, 0], [1, 1], [0, 0], [1, 1], [1, 0]).map(pins)).toEqual(['none', 'none', 'none', 'none', 'none']);
    expect(run(new TinyUsbCdcBootloaderHook(), [0, 0], [0, 1], [0, 0], [1, 0]).map(pins)).toEqual(['none', 'none', 'none']);
  });
});
