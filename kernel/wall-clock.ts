// Wall-clock UTC as a port, apart from the monotonic Clock: on the board it is unknown until SNTP
// sets it, and it may step when it does, so nothing that times protocol work may use it.

/** Wall-clock UTC time, unknown until set (SNTP on the board). */
export interface WallClock {
  /** Milliseconds since 1970-01-01 UTC, or undefined while the clock is not set. */
  utcNow(): number | undefined;
}
