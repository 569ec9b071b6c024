// Deterministic RandomSources for tests: a seeded generator (mulberry32: small, fast, good
// enough for simulation) and a constant one for exact timing assertions. Portable.
import type { RandomSource } from "../../kernel/random.js";

export class SeededRandom implements RandomSource {
  #state: number;

  constructor(seed: number = 1) {
    this.#state = seed >>> 0;
  }

  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) | 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  fill(target: Uint8Array): void {
    for (let i = 0; i < target.length; i++) target[i] = Math.floor(this.next() * 256);
  }

  /** An integer in [0, maxExclusive). */
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/**
 * next() always returns `value` (0 gives every timeout its lower bound); fill() writes a
 * counter, so successive tokens differ and are predictable.
 */
export class ConstantRandom implements RandomSource {
  readonly #value: number;
  #counter: number;

  constructor(value: number = 0, firstByte: number = 1) {
    this.#value = value;
    this.#counter = firstByte;
  }

  next(): number {
    return this.#value;
  }

  fill(target: Uint8Array): void {
    for (let i = 0; i < target.length; i++) target[i] = this.#counter++ & 0xff;
  }
}
