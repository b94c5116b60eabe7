import { SERVER_COMMAND_OFFSET } from './telnet-codec.ts';

interface AckWaiter {
  /** The one-byte value the acknowledgement should echo; undefined accepts any value. */
  readonly expected: number | undefined;
  resolve(value: Uint8Array): void;
  reject(err: Error): void;
}

/**
 * Matches RFC 2217 acknowledgements (server command = client command + 100) to the commands waiting
 * for them. Servers answer in order, so waiters are served first in, first out; among waiters for
 * the same command, one whose expected value matches is preferred, so a SET_CONTROL DTR ack cannot
 * complete an RTS request that is still in flight.
 */
export class ComPortAcks {
  readonly #queues = new Map<number, AckWaiter[]>();

  /**
   * Registers interest in the acknowledgement of `command`. Returns the promise of its value and a
   * `forget` function for a caller that stops waiting (deadline passed), so a late ack is not taken
   * for the next command's.
   */
  expect(command: number, expected: number | undefined): { ack: Promise<Uint8Array>; forget: () => void } {
    const queue = this.#queues.get(command) ?? [];
    this.#queues.set(command, queue);
    let waiter: AckWaiter | undefined;
    const ack = new Promise<Uint8Array>((resolve, reject) => {
      waiter = { expected, resolve, reject };
      queue.push(waiter);
    });
    const forget = (): void => {
      const index = waiter === undefined ? -1 : queue.indexOf(waiter);
      if (index >= 0) queue.splice(index, 1);
    };
    return { ack, forget };
  }

  /**
   * Hands a server reply (`[reply command, ...value]`) to its waiter. Replies nobody waits for
   * (NOTIFY_LINESTATE/MODEMSTATE, late or unsolicited acks) are ignored.
   */
  settle(reply: number, value: Uint8Array): void {
    if (reply < SERVER_COMMAND_OFFSET) return;
    const queue = this.#queues.get(reply - SERVER_COMMAND_OFFSET);
    if (queue === undefined || queue.length === 0) return;
    let index = queue.findIndex((w) => w.expected === undefined || (value.length === 1 && w.expected === value[0]));
    if (index < 0) index = 0;
    const [waiter] = queue.splice(index, 1);
    waiter?.resolve(value);
  }

  /** Rejects every waiter (link closed or gone). */
  failAll(err: Error): void {
    for (const queue of this.#queues.values()) for (const waiter of queue.splice(0)) waiter.reject(err);
  }
}
