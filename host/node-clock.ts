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
    // libuv measures timers against a loop time cached at the start of each turn, so a timeout
    // can fire up to a millisecond before performance.now() says it is due. The Clock contract
    // is "never early" (an uptime floored at that moment would read a second short): re-arm
    // for what remains.
    const dueAt = this.now() + Math.max(0, delayMs);
    const handle: { timer: NodeJS.Timeout | undefined } = { timer: undefined };
    const arm = (ms: number): void => {
      handle.timer = setTimeout(() => {
        const left = dueAt - this.now();
        if (left > 0) arm(Math.ceil(left));
        else callback();
      }, ms);
      if (this.#unref) handle.timer.unref();
    };
    arm(Math.ceil(Math.max(0, delayMs)));
    return handle;
  }

  clearTimer(handle: TimerHandle): void {
    const armed = handle as { timer: NodeJS.Timeout | undefined } | undefined;
    if (armed?.timer !== undefined) clearTimeout(armed.timer);
  }
}
