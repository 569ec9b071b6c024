// Request tokens (RFC 7252 §5.3.1): random, so that an off-path attacker cannot guess them
// (plain CoAP has no other protection against spoofed responses), and unique among the live
// exchanges and observations, so that every response matches one request.
import type { RandomSource } from "../kernel/random.js";

export const MIN_TOKEN_LENGTH = 4;
export const MAX_TOKEN_LENGTH = 8;

const HEX = "0123456789abcdef";

/** A token as a map key: lowercase hex ("" for the empty token). */
export function tokenKey(token: Uint8Array): string {
  let key = "";
  for (let i = 0; i < token.length; i++) key += HEX[token[i]! >> 4]! + HEX[token[i]! & 15]!;
  return key;
}

/** The token whose key tokenKey() gave: `key` is lowercase hex of whole bytes. */
export function tokenBytes(key: string): Uint8Array {
  const token = new Uint8Array(key.length / 2);
  let at = 0;
  let high = -1;
  for (const digit of key) {
    const value = HEX.indexOf(digit);
    if (high < 0) high = value;
    else {
      token[at++] = (high << 4) | value;
      high = -1;
    }
  }
  return token;
}

/** Adds one to `token` as a big-endian number, wrapping. */
function increment(token: Uint8Array): void {
  for (let i = token.length - 1; i >= 0; i--) {
    token[i] = (token[i]! + 1) & 0xff;
    if (token[i] !== 0) return;
  }
}

/**
 * Hands out random tokens and remembers which are live. Bound: the live list holds one key per live exchange or
 * observation, both bounded by the endpoint (a handful: an array, smaller than a Set for so few).
 */
export class TokenRegistry {
  readonly #random: RandomSource;
  readonly #length: number;
  readonly #live: string[] = [];

  constructor(random: RandomSource, length: number = MAX_TOKEN_LENGTH) {
    if (!Number.isInteger(length) || length < MIN_TOKEN_LENGTH || length > MAX_TOKEN_LENGTH) {
      throw new RangeError(`token length must be ${MIN_TOKEN_LENGTH}..${MAX_TOKEN_LENGTH}: ${length}`);
    }
    this.#random = random;
    this.#length = length;
  }

  get liveCount(): number {
    return this.#live.length;
  }

  isLive(key: string): boolean {
    return this.#live.includes(key);
  }

  /** A fresh random token, marked live until released. */
  allocate(): Uint8Array {
    const token = new Uint8Array(this.#length);
    this.#random.fill(token);
    let key = tokenKey(token);
    // A collision is astronomically rare with a good source; stepping from the random value
    // ends the search even with a broken one (the live set is far smaller than the token space).
    while (this.#live.includes(key)) {
      increment(token);
      key = tokenKey(token);
    }
    this.#live.push(key);
    return token;
  }

  /** Marks a caller-supplied token live (resend); false if it already is. */
  claim(key: string): boolean {
    if (this.#live.includes(key)) return false;
    this.#live.push(key);
    return true;
  }

  release(key: string): void {
    const at = this.#live.indexOf(key);
    if (at >= 0) this.#live.splice(at, 1);
  }

  clear(): void {
    this.#live.length = 0;
  }
}
