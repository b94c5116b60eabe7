/**
 * How the host's modem lines reach the chip. Three circuits, chosen per board and mode by
 * `console-profiles.ts` (data, not if-chains):
 *
 * - `transistor-auto-reset`: the two-transistor circuit of Espressif dev boards behind a USB-UART
 *   bridge (reference esptool-protocol.md §8.1): EN low ⇔ RTS ∧ ¬DTR, GPIO0 low ⇔ DTR ∧ ¬RTS.
 * - `usb-serial-jtag`: the ESP32-S3's USB-Serial-JTAG peripheral (§8.4; the exact rule is unverified
 *   on hardware): RTS rising resets the chip and latches "download" when DTR is asserted; RTS falling
 *   releases the reset. GPIO0 also reads low while DTR ∧ ¬RTS, so esptool's Classic sequence (which it
 *   uses over RFC 2217, where it cannot see the VID:PID) enters download mode too.
 * - `tinyusb-cdc`: MicroPython's TinyUSB CDC port on the S3 (micropython-host-protocols.md §2.5). The
 *   lines do not reach EN; the firmware calls `machine.bootloader()` on the esptool pattern
 *   (RTS=1, DTR=0) → (DTR=1, RTS=0). Deviation, on purpose: an intermediate (1,1) state is treated as
 *   transitional, because pyserial over RFC 2217 sets DTR and RTS in separate requests and so always
 *   passes through (1,1); real TinyUSB sees the pair atomically from the OS.
 */
import type { ModemLines } from './sim-uart.ts';

/** What the chip's EN and GPIO0 pins see. */
export interface ChipPins {
  readonly enLow: boolean;
  readonly io0Low: boolean;
}

/** The effect of a line change. */
export type LineEffect =
  /** EN/GPIO0 moved; the board applies the strapping logic (§8.3). */
  | { kind: 'pins'; pins: ChipPins }
  /** The running firmware asks to reboot into the ROM loader (as `machine.bootloader()`). */
  | { kind: 'firmware-bootloader' }
  /** No effect. */
  | { kind: 'none' };

/** Names of the circuits. */
export type ResetCircuitName = 'transistor-auto-reset' | 'usb-serial-jtag' | 'tinyusb-cdc';

/** One way the modem lines reach the chip. Instances may keep state (latches); one per board. */
export interface ResetCircuit {
  readonly name: ResetCircuitName;
  /** Pins at power-on (or when this circuit takes over) given the current lines. */
  initialPins(lines: ModemLines): ChipPins;
  /** Applies a non-redundant line change. */
  change(previous: ModemLines, next: ModemLines): LineEffect;
}

/** The two-transistor auto-reset circuit of §8.1. Stateless. */
export class TransistorAutoReset implements ResetCircuit {
  readonly name = 'transistor-auto-reset';

  initialPins(lines: ModemLines): ChipPins {
    return { enLow: lines.rts && !lines.dtr, io0Low: lines.dtr && !lines.rts };
  }

  change(_previous: ModemLines, next: ModemLines): LineEffect {
    return { kind: 'pins', pins: this.initialPins(next) };
  }
}

/** USB-Serial-JTAG reset logic of §8.4 (see the module note). */
export class UsbSerialJtagReset implements ResetCircuit {
  readonly name = 'usb-serial-jtag';
  #inReset = false;
  #downloadLatched = false;

  initialPins(_lines: ModemLines): ChipPins {
    this.#inReset = false;
    this.#downloadLatched = false;
    return { enLow: false, io0Low: false };
  }

  change(previous: ModemLines, next: ModemLines): LineEffect {
    if (!previous.rts && next.rts) {
      this.#inReset = true;
      this.#downloadLatched = next.dtr;
    } else if (previous.rts && !next.rts) {
      this.#inReset = false;
    }
    return { kind: 'pins', pins: { enLow: this.#inReset, io0Low: this.#downloadLatched || (next.dtr && !next.rts) } };
  }
}

/** MicroPython's TinyUSB CDC line-state hook (see the module note). */
export class TinyUsbCdcBootloaderHook implements ResetCircuit {
  readonly name = 'tinyusb-cdc';
  #armed = false;

  initialPins(lines: ModemLines): ChipPins {
    this.#armed = lines.rts && !lines.dtr;
    return { enLow: false, io0Low: false };
  }

  change(_previous: ModemLines, next: ModemLines): LineEffect {
    const rtsOnly = next.rts && !next.dtr;
    const dtrOnly = next.dtr && !next.rts;
    const both = next.dtr && next.rts;
    if (dtrOnly && this.#armed) {
      this.#armed = false;
      return { kind: 'firmware-bootloader' };
    }
    if (rtsOnly) this.#armed = true;
    else if (!both) this.#armed = false;
    return { kind: 'none' };
  }
}
