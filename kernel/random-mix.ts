// A RandomSource that adds, modulo 1, a seeded stream to a base source. Moddable's simulator
// draws Math.random from the C library's rand() and never seeds it (xsMath.c leaves its srand
// call commented out), so every launch would pick the same first message ID and the same tokens:
// RFC 7252 §4.4 wants a restarted endpoint not to repeat the message IDs a server may still
// remember, and §5.3.1 wants tokens that differ from one run to the next. A second stream seeded
// from the launch time breaks the repetition. The sum modulo 1 of two independent streams is at
// least as uniform as the better of them, so a board whose Math.random is its hardware
// generator loses nothing by the mix.
import type { RandomSource } from "./random.js";

const TWO_TO_32 = 4294967296;

/** Folds any finite number (a millisecond date is beyond 32 bits) into a 32-bit state. */
function foldSeed(seed: number): number {
  if (!Number.isFinite(seed)) throw new TypeError(`random seed ${seed} is not a finite number`);
  const whole = Math.floor(Math.abs(seed));
  const low = whole % TWO_TO_32;
  const high = Math.floor(whole / TWO_TO_32) % TWO_TO_32;
  return (low ^ Math.imul(high, 0x9e3779b9)) >>> 0;
}

/** Only draws of the base are mixed; its fill() is not needed. */
export type RandomDraws = Pick<RandomSource, "next">;

export class MixedRandom implements RandomSource {
  readonly #base: RandomDraws;
  #state: number;

  constructor(base: RandomDraws, seed: number) {
    this.#base = base;
    this.#state = foldSeed(seed);
  }

  next(): number {
    const sum = this.#base.next() + this.#seeded();
    return sum >= 1 ? sum - 1 : sum;
  }

  fill(target: Uint8Array): void {
    for (let i = 0; i < target.length; i++) target[i] = Math.floor(this.next() * 256);
  }

  /** mulberry32: one 32-bit state, full period 2^32, a float in [0, 1). */
  #seeded(): number {
    this.#state = (this.#state + 0x6d2b79f5) | 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / TWO_TO_32;
  }
}
