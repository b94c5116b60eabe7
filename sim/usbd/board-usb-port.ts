/**
 * The seam between a native-USB board's MicroPython firmware (the interpreter worker's TinyUSB glue and
 * `machine.USBDevice`, reference micropython-host-protocols.md §8) and the board's USB device controller
 * on the host thread, which is what the simulated hub and USB host talk to.
 *
 * The firmware side owns what Python can see synchronously (the runtime configuration, `active()`,
 * which endpoints have a transfer pending, stall flags); the controller owns what the bus sees
 * (connected or not, the descriptors the host reads, the host's transfers). Messages go firmware →
 * controller in order through {@link BoardUsbPort.fromFirmware}; events go controller → firmware
 * through the sink given to {@link BoardUsbPort.attachFirmware}.
 */

/** A runtime device, as `USBDevice.config()` received it. */
export interface RuntimeUsbConfig {
  /** `desc_dev`, 18 bytes as given (the controller checks it as a host would at enumeration). */
  deviceDescriptor: Uint8Array;
  /** `desc_cfg`, the complete configuration descriptor as given. */
  configurationDescriptor: Uint8Array;
  /**
   * `desc_strs` resolved for indexes 1…255: the text for an index, or null where Python gave `None`,
   * raised `KeyError`/`IndexError`, or gave nothing (the built-in string then applies, if any).
   * Index 0 (languages) is always English.
   */
  strings: readonly (string | null)[];
}

/** Which built-in driver is compiled into what the device presents (`USBDevice.builtin_driver`). */
export type BuiltinDriver = 'none' | 'cdc';

/** What the firmware asks of the controller. */
export type UsbdFirmwareMessage =
  /**
   * `tud_connect()` presenting either the built-in CDC alone (`runtime` null: mp_usbd_init after
   * boot.py when no runtime device is configured) or a runtime device with the built-in driver it keeps
   * (`active(True)`, or mp_usbd_init when boot.py configured and activated one).
   */
  | { kind: 'connect'; builtin: BuiltinDriver; runtime: RuntimeUsbConfig | null }
  /** `tud_disconnect()`: the device leaves the bus (active(False), soft reset's mp_usbd_deinit). */
  | { kind: 'disconnect' }
  /** `submit_xfer(ep, buffer)` accepted: IN endpoints (bit 7 set) carry the bytes, OUT endpoints the buffer size. */
  | { kind: 'submit'; endpoint: number; data?: Uint8Array; length?: number }
  /** `stall(ep, flag)`. */
  | { kind: 'stall'; endpoint: number; stall: boolean }
  /**
   * The answer of `control_xfer_cb` for control transfer `id` at `stage`: stall (False or an
   * exception), continue (True), or at the SETUP stage a buffer — IN: the bytes to send; OUT: how many
   * bytes the host may write (the DATA stage event then carries them).
   */
  | { kind: 'control-reply'; id: number; stage: 1 | 2 | 3; action: 'stall' | 'continue' | 'data'; data?: Uint8Array; length?: number };

/** What the controller tells the firmware (each becomes a callback in Python, run as a scheduled callback). */
export type UsbdFirmwareEvent =
  /** Host bus reset: `reset_cb()`; transfers pending at the reset never complete. */
  | { kind: 'bus-reset' }
  /**
   * SET_CONFIGURATION(1) on a runtime device: one `open_itf_cb(memoryview(desc_cfg)[offset:offset+length])`
   * per runtime interface or IAD (interfaces numbered from the built-in driver's itf_max), in
   * descriptor order. SET_CONFIGURATION(0) gives `configured: false` and an empty list.
   */
  | { kind: 'configured'; configured: boolean; openInterfaces: readonly { offset: number; length: number }[] }
  /**
   * A control transfer TinyUSB passes to the runtime device (class/vendor requests, and standard
   * requests to runtime interfaces that the stack does not answer itself): `control_xfer_cb(stage, setup)`.
   * Stage 2 (DATA) of an OUT transfer carries the host's bytes, written into the SETUP stage's buffer
   * before the callback. Each stage waits for its `control-reply`.
   */
  | { kind: 'control'; id: number; stage: 1 | 2 | 3; setup: Uint8Array; data?: Uint8Array }
  /** A submitted transfer completed: `xfer_cb(ep, 0, length)`; OUT transfers carry the bytes received. */
  | { kind: 'xfer-complete'; endpoint: number; length: number; data?: Uint8Array };

/** The controller as the firmware's host-thread bridge sees it. */
export interface BoardUsbPort {
  /**
   * The interpreter starting now drives the USB stack itself (it will send `connect` after boot.py).
   * Events go to `sink` until the returned function is called (the interpreter stopped: the device
   * leaves the bus). Without an attached firmware the controller presents the built-in CDC while
   * MicroPython runs, as firmware that never touches the stack would (fake interpreters in tests).
   */
  attachFirmware(sink: (event: UsbdFirmwareEvent) => void): () => void;
  /** One message of the attached firmware, in the order sent. */
  fromFirmware(message: UsbdFirmwareMessage): void;
}
