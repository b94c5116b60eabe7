/**
 * Which reset circuit, link behaviour and USB identity a board's serial port has, by how the board is
 * wired (`usbKind`) and who currently owns the console. One table instead of chip/bridge if-chains.
 */
import type { ResetCircuitName } from './reset-circuits.ts';
import { UART_LINK_PROFILE, type ConsoleLinkProfile } from './sim-uart.ts';

/** How the board's serial port reaches the USB host. */
export type UsbKind =
  /** A USB-UART bridge (CP2104, CH340…) with the auto-reset transistors: ESP32 DevKits. */
  | 'uart-bridge'
  /** The chip's own USB (ESP32-S3): USB-Serial-JTAG in ROM mode, TinyUSB CDC under MicroPython. */
  | 'native-usb';

/** Who drives the console: the chip (ROM, bootloader, a non-MicroPython app) or MicroPython. */
export type ConsoleOwner = 'chip' | 'micropython';

/**
 * Which identity the USB host sees: the bridge's, the ROM's USB-Serial-JTAG, or whatever MicroPython's
 * TinyUSB stack presents through the board's USB device controller (the built-in CDC, a runtime
 * `machine.USBDevice` device, or nothing while it is disconnected).
 */
export type UsbIdentityKind = 'bridge' | 'usb-serial-jtag' | 'tinyusb-cdc';

/** One row of the table. */
export interface ConsoleProfile {
  circuit: ResetCircuitName;
  link: ConsoleLinkProfile;
  identity: UsbIdentityKind;
}

/**
 * USB full-speed bulk transfers carry at most 19 × 64-byte packets per 1 ms frame (USB 2.0 spec
 * §5.8.4): ≈1.2 MB/s; CDC and JTAG-serial reach somewhat less. The baud rate does not matter.
 */
const USB_FULL_SPEED_BYTES_PER_SECOND = 1_000_000;

const USB_SERIAL_JTAG_LINK: ConsoleLinkProfile = Object.freeze({
  whenDetached: 'drop',
  fifoBytes: 0,
  wireBytesPerSecond: () => USB_FULL_SPEED_BYTES_PER_SECOND,
});

/**
 * TinyUSB CDC keeps the latest output in its TX FIFO while no host is connected (§2.5); the FIFO is
 * `CFG_TUD_CDC_TX_BUFSIZE` = 256 bytes in MicroPython's `shared/tinyusb/tusb_config.h`.
 */
const TINYUSB_CDC_LINK: ConsoleLinkProfile = Object.freeze({
  whenDetached: 'overwrite-fifo',
  fifoBytes: 256,
  wireBytesPerSecond: () => USB_FULL_SPEED_BYTES_PER_SECOND,
});

/** The table. */
export const CONSOLE_PROFILES: Readonly<Record<UsbKind, Readonly<Record<ConsoleOwner, ConsoleProfile>>>> = Object.freeze({
  'uart-bridge': {
    chip: { circuit: 'transistor-auto-reset', link: UART_LINK_PROFILE, identity: 'bridge' },
    micropython: { circuit: 'transistor-auto-reset', link: UART_LINK_PROFILE, identity: 'bridge' },
  },
  'native-usb': {
    chip: { circuit: 'usb-serial-jtag', link: USB_SERIAL_JTAG_LINK, identity: 'usb-serial-jtag' },
    micropython: { circuit: 'tinyusb-cdc', link: TINYUSB_CDC_LINK, identity: 'tinyusb-cdc' },
  },
});
