// Exponential backoff with jitter and a cap, for anything that retries (activation, the
// endpoint's reconnects, telemetry uploads). The n-th delay (n from 0) is
//   base(n) = min(maxMs, initialMs × multiplier^n),  delay = base(n) × (1 − jitter × r),  r in [0, 1)
// so every delay lies in (base(n) × (1 − jitter), base(n)]: never above the cap, never near zero
// (no hot loop), and spread out so that many devices that lost the same server do not come back
// in lockstep. With jitter ≤ 1 − 1/multiplier (the defaults: 0.5 and 2) the delays grow strictly
// until they reach the cap.
import type { RandomSource } from "./random.js";

export interface BackoffOptions {
  readonly random: RandomSource;
  /** First delay before jitter (default 1 s). */
  readonly initialMs?: number;
  /** The largest delay (default 5 min). */
  readonly maxMs?: number;
  /** Growth per attempt, ≥ 1 (default 2). */
  readonly multiplier?: number;
  /** Fraction of a delay that randomness may take off, 0–1 (default 0.5); below 1 so no delay is 0. */
  readonly jitter?: number;
}

export class Backoff {
  static readonly DEFAULT_INITIAL_MS = 1_000;
  static readonly DEFAULT_MAX_MS = 300_000;
  static readonly DEFAULT_MULTIPLIER = 2;
  static readonly DEFAULT_JITTER = 0.5;

  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
  readonly jitter: number;
  #random: RandomSource;
  #attempts = 0;
  /** base(attempts), kept rather than recomputed so it stops growing at the cap (no overflow). */
  #base: number;

  constructor(options: BackoffOptions) {
    this.#random = options.random;
    this.initialMs = options.initialMs ?? Backoff.DEFAULT_INITIAL_MS;
    this.maxMs = options.maxMs ?? Backoff.DEFAULT_MAX_MS;
    this.multiplier = options.multiplier ?? Backoff.DEFAULT_MULTIPLIER;
    this.jitter = options.jitter ?? Backoff.DEFAULT_JITTER;
    if (!(Number.isFinite(this.initialMs) && this.initialMs >= 1))
      throw new RangeError(`initialMs must be ≥ 1, got ${this.initialMs}`);
    if (!(Number.isFinite(this.maxMs) && this.maxMs >= this.initialMs))
      throw new RangeError(`maxMs must be ≥ initialMs, got ${this.maxMs}`);
    if (!(Number.isFinite(this.multiplier) && this.multiplier >= 1))
      throw new RangeError(`multiplier must be ≥ 1, got ${this.multiplier}`);
    if (!(this.jitter >= 0 && this.jitter < 1)) throw new RangeError(`jitter must be in [0, 1), got ${this.jitter}`);
    this.#base = this.initialMs;
  }

  /** Delays handed out since construction or the last reset(). */
  get attempts(): number {
    return this.#attempts;
  }

  /** The next delay in whole ms (at least 1), and one step further along the curve. */
  next(): number {
    const delay = Math.max(1, Math.round(this.#base * (1 - this.jitter * this.#random.next())));
    this.#attempts++;
    this.#base = Math.min(this.maxMs, this.#base * this.multiplier);
    return delay;
  }

  /** Back to the first delay, after a success. */
  reset(): void {
    this.#attempts = 0;
    this.#base = this.initialMs;
  }
}
