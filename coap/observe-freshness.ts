// Ordering of notifications (RFC 7641 §3.4): a notification is fresher than the last one
// delivered if its 24-bit sequence number is ahead of the last one's within half the number
// space (which makes wrap-around work), or if more than 128 s have passed since the last one
// (after which the numbers say nothing any more).
import { OBSERVE_MODULUS } from "./options.js";

/** 2^23: half the sequence number space. */
const HALF = OBSERVE_MODULUS / 2;
/** §3.4: 128 seconds. */
export const OBSERVE_FRESHNESS_WINDOW_MS = 128_000;

/** §3.4: whether (v2, t2) is fresher than (v1, t1); values are sequence numbers, times in ms. */
export function isFresher(v1: number, t1: number, v2: number, t2: number): boolean {
  return (v1 < v2 && v2 - v1 < HALF) || (v1 > v2 && v1 - v2 > HALF) || t2 > t1 + OBSERVE_FRESHNESS_WINDOW_MS;
}

/** The last delivered notification of one registration. */
export class ObserveFreshness {
  #sequence: number | undefined;
  #at = 0;

  /** A new registration: its first notification is fresh whatever its number. */
  reset(): void {
    this.#sequence = undefined;
  }

  /** Records (sequence, now) and returns true if it is fresher than the last one; false means stale. */
  accept(sequence: number, now: number): boolean {
    if (this.#sequence !== undefined && !isFresher(this.#sequence, this.#at, sequence, now)) return false;
    this.#sequence = sequence;
    this.#at = now;
    return true;
  }
}
