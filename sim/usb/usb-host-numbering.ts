/**
 * The names a USB host gives enumerated devices, shared by every hub of one lab: device addresses
 * (per bus) and serial tty names (per host). Neither is an identity: both change on re-enumeration.
 */
import type { UsbDeviceIdentity } from '../board/usb-identity.ts';

/** Linux tty name families: `cdc_acm` makes `ttyACM<n>`, usb-serial drivers (cp210x, ch341…) `ttyUSB<n>`. */
export type TtyFamily = 'ttyACM' | 'ttyUSB';

/** Espressif's USB vendor id; its USB-Serial-JTAG and MicroPython's TinyUSB CDC both present CDC ACM. */
const ESPRESSIF_VID = 0x303a;

/** Which Linux driver family claims a serial device with this identity. */
export function ttyFamilyOf(identity: UsbDeviceIdentity): TtyFamily {
  return identity.vid === ESPRESSIF_VID ? 'ttyACM' : 'ttyUSB';
}

/** Highest USB device address (7-bit, 0 is the default address before SET_ADDRESS). */
const MAX_ADDRESS = 127;

/** The host controller's root hub is the first device Linux enumerates on a bus. */
const ROOT_HUB_ADDRESS = 1;

/** A tty name that is no longer enumerated but still held open by a program. */
interface HeldTty {
  name: string;
  stillOpen: () => boolean;
}

/**
 * Hands out addresses and tty names the way Linux does:
 * - addresses: per bus, round robin from the last one given, 1..127 wrapping, skipping those in use;
 *   the root hub has address 1 (so the first device on a bus gets 2);
 * - ttys: the lowest number not in use in the family, where a name stays in use after its device
 *   left while a program still has it open.
 */
export class UsbHostNumbering {
  readonly #addressesInUse = new Map<number, Set<number>>();
  readonly #nextAddress = new Map<number, number>();
  readonly #ttysInUse = new Set<string>();
  #heldTtys: HeldTty[] = [];

  /** A free address on `bus`. RangeError when all 127 are taken. */
  reserveAddress(bus: number): number {
    const inUse = this.#busAddresses(bus);
    const start = this.#nextAddress.get(bus) ?? 1;
    for (let step = 0; step < MAX_ADDRESS; step++) {
      const address = ((start - 1 + step) % MAX_ADDRESS) + 1;
      if (inUse.has(address)) continue;
      inUse.add(address);
      this.#nextAddress.set(bus, address === MAX_ADDRESS ? 1 : address + 1);
      return address;
    }
    throw new RangeError(`USB bus ${bus} has no free device address (127 devices enumerated)`);
  }

  /** Frees `address` on `bus`. */
  releaseAddress(bus: number, address: number): void {
    this.#addressesInUse.get(bus)?.delete(address);
  }

  /** The lowest free tty name of `family`, now in use. */
  claimTty(family: TtyFamily): string {
    this.#heldTtys = this.#heldTtys.filter((held) => held.stillOpen());
    const taken = new Set([...this.#ttysInUse, ...this.#heldTtys.map((held) => held.name)]);
    let n = 0;
    while (taken.has(`${family}${n}`)) n++;
    const name = `${family}${n}`;
    this.#ttysInUse.add(name);
    return name;
  }

  /** The device behind `name` left; the name stays taken while `stillOpen()` says so. */
  releaseTty(name: string, stillOpen?: () => boolean): void {
    this.#ttysInUse.delete(name);
    if (stillOpen?.() === true) this.#heldTtys.push({ name, stillOpen });
  }

  #busAddresses(bus: number): Set<number> {
    let inUse = this.#addressesInUse.get(bus);
    if (inUse === undefined) {
      inUse = new Set([ROOT_HUB_ADDRESS]);
      this.#addressesInUse.set(bus, inUse);
      this.#nextAddress.set(bus, ROOT_HUB_ADDRESS + 1);
    }
    return inUse;
  }
}
