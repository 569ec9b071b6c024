// Monotonic time and one-shot timers: the port every retrying, timing-out or sampling part of
// the core takes instead of reaching for Date or setTimeout (adapters: kernel/moddable/clock.ts
// over Moddable's ticks and Timer; host/node-clock.ts; test/sim/fake-clock.ts).

export type TimerHandle = unknown;

/** Monotonic milliseconds and one-shot timers. */
export interface Clock {
  now(): number;
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}
