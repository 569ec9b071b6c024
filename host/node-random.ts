// RandomSource over Node's CSPRNG: tokens and message IDs an off-path attacker cannot predict.
// Drawn from the kernel in batches: one randomFillSync per request would cost more than the
// rest of building the request.
import { randomFillSync } from "node:crypto";
import type { RandomSource } from "../kernel/random.js";

const POOL_BYTES = 256;

export class NodeRandom implements RandomSource {
  /** Bound: POOL_BYTES drawn at a time. */
  readonly #pool = new Uint8Array(POOL_BYTES);
  readonly #view = new DataView(this.#pool.buffer);
  #used = POOL_BYTES;

  #take(count: number): number {
    if (this.#used + count > POOL_BYTES) {
      randomFillSync(this.#pool);
      this.#used = 0;
    }
    const at = this.#used;
    this.#used += count;
    return at;
  }

  next(): number {
    return this.#view.getUint32(this.#take(4)) / 4294967296;
  }

  fill(target: Uint8Array): void {
    if (target.length > POOL_BYTES) {
      randomFillSync(target);
      return;
    }
    const at = this.#take(target.length);
    target.set(this.#pool.subarray(at, at + target.length));
  }
}
