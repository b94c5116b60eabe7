/**
 * The class requests TinyUSB's CDC driver answers for the built-in REPL port (cdc_device.c
 * `cdcd_control_xfer_cb`, PSTN 1.2 §6.3): SET/GET_LINE_CODING, SET_CONTROL_LINE_STATE and
 * SEND_BREAK on the communication interface. Requests to the data interface and anything else stall.
 * Line settings only affect what is reported back (the REPL does not care about the baud rate).
 */
import { ACK, STALL, type ControlAnswer, type SetupRequest } from './standard-requests.ts';

/** PSTN 1.2 Table 13 request codes. */
const CdcRequest = { SET_LINE_CODING: 0x20, GET_LINE_CODING: 0x21, SET_CONTROL_LINE_STATE: 0x22, SEND_BREAK: 0x23 } as const;

/** The 7-byte line coding: dwDTERate, bCharFormat, bParityType, bDataBits. */
const LINE_CODING_BYTES = 7;

/** The REPL port's CDC state on one connection. */
export class BuiltinCdcState {
  /** TinyUSB's default: 115200 baud, 1 stop bit, no parity, 8 data bits. */
  lineCoding: Uint8Array = Uint8Array.of(0x00, 0xc2, 0x01, 0x00, 0, 0, 8);
  dtr = false;
  rts = false;
  readonly #communicationInterface: number;

  constructor(communicationInterface = 0) {
    this.#communicationInterface = communicationInterface;
  }

  /** A class request to interface `setup.index & 0xff`, with the host's OUT data. */
  answer(setup: SetupRequest, data: Uint8Array): ControlAnswer {
    if ((setup.index & 0xff) !== this.#communicationInterface) return STALL;
    switch (setup.request) {
      case CdcRequest.SET_LINE_CODING:
        if (setup.direction !== 'out' || data.length < LINE_CODING_BYTES) return STALL;
        this.lineCoding = data.slice(0, LINE_CODING_BYTES);
        return ACK;
      case CdcRequest.GET_LINE_CODING:
        return setup.direction === 'in' ? { status: 'ok', data: this.lineCoding.slice() } : STALL;
      case CdcRequest.SET_CONTROL_LINE_STATE:
        if (setup.direction !== 'out') return STALL;
        this.dtr = (setup.value & 0x01) !== 0;
        this.rts = (setup.value & 0x02) !== 0;
        return ACK;
      case CdcRequest.SEND_BREAK:
        return setup.direction === 'out' ? ACK : STALL;
      default:
        return STALL;
    }
  }
}
