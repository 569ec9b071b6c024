// RandomSource over Node's CSPRNG: tokens and message IDs an off-path attacker cannot predict.
import { randomFillSync } from "node:crypto";
import type { RandomSource } from "../coap/ports.js";

export class NodeRandom implements RandomSource {
  /** Bound: 64 words drawn at a time. */
  readonly #pool = new Uint32Array(64);
  #next = 64;

  next(): number {
    if (this.#next >= this.#pool.length) {
      randomFillSync(this.#pool);
      this.#next = 0;
    }
    return this.#pool[this.#next++]! / 4294967296;
  }

  fill(target: Uint8Array): void {
    randomFillSync(target);
  }
}
