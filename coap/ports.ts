// The small interfaces through which the portable core reaches the outside world. Adapters:
// host/ (Node: dgram, setTimeout, crypto) and moddable/ (ECMA-419 UDP, Timer, Math.random).

/** Where a datagram came from or goes to. */
export interface PeerAddress {
  readonly address: string;
  readonly port: number;
}

/** A bound UDP socket. */
export interface DatagramPort {
  /** Sends one datagram; `bytes` may be reused by the caller as soon as this returns. */
  send(bytes: Uint8Array, to: PeerAddress): void;
  /** Installs the one receiver; `bytes` is only valid during the call. */
  onReceive(handler: (bytes: Uint8Array, from: PeerAddress) => void): void;
  close(): void;
}

export type TimerHandle = unknown;

/** Monotonic milliseconds and one-shot timers. */
export interface Clock {
  now(): number;
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** Uniform randomness: used for message IDs, tokens and timeouts, all replaceable in tests. */
export interface RandomSource {
  /** A float in [0, 1). */
  next(): number;
  /** Fills `target` with random bytes. */
  fill(target: Uint8Array): void;
}

/** One log line; the core never prints by itself. */
export type LogSink = (level: "debug" | "info" | "warn" | "error", message: string) => void;
