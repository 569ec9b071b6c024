// Message IDs (RFC 7252 §4.4): 16 bits, starting at a random value so that a rebooted device
// does not repeat the IDs the server still remembers from before, then incremented.
import type { RandomSource } from "../kernel/random.js";

export const MESSAGE_ID_MODULUS = 0x10000;

export class MessageIdSequence {
  #next: number;

  constructor(random: RandomSource) {
    this.#next = Math.floor(random.next() * MESSAGE_ID_MODULUS) % MESSAGE_ID_MODULUS;
  }

  /**
   * The next ID not rejected by `inUse`. §4.4 forbids reusing an ID within EXCHANGE_LIFETIME;
   * incrementing meets that unless more than 65536 messages go out in that time, and `inUse`
   * covers the IDs of exchanges that are still live.
   */
  next(inUse?: (id: number) => boolean): number {
    for (let tries = 0; tries < MESSAGE_ID_MODULUS; tries++) {
      const id = this.#next;
      this.#next = (id + 1) % MESSAGE_ID_MODULUS;
      if (inUse === undefined || !inUse(id)) return id;
    }
    throw new RangeError("every message ID is in use");
  }
}
