// Clock over Node's monotonic performance.now() and setTimeout.
import { performance } from "node:perf_hooks";
import type { Clock, TimerHandle } from "../kernel/clock.js";

export interface NodeClockOptions {
  /** Timers do not keep the process alive (default false: pending exchanges do). */
  readonly unref?: boolean;
}

export class NodeClock implements Clock {
  readonly #unref: boolean;

  constructor(options: NodeClockOptions = {}) {
    this.#unref = options.unref === true;
  }

  now(): number {
    return performance.now();
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    if (this.#unref) timer.unref();
    return timer;
  }

  clearTimer(handle: TimerHandle): void {
    clearTimeout(handle as NodeJS.Timeout);
  }
}
