// Uniform randomness as a port: message IDs, tokens, retransmission timeouts and backoff jitter
// all draw from it, so tests replace it with a seeded stream (test/sim/seeded-random.ts).

/** Uniform randomness: used for message IDs, tokens and timeouts, all replaceable in tests. */
export interface RandomSource {
  /** A float in [0, 1). */
  next(): number;
  /** Fills `target` with random bytes. */
  fill(target: Uint8Array): void;
}
