// Clock over Moddable's `time` ticks and `timer`. Date.now() is no use here: on the board SNTP
// sets it (a jump of decades at boot), and protocol timing needs a clock that only goes forward.
// Time.ticks on the ESP32 is the tick count in ms as a signed 32-bit integer: negative after
// 24.8 days, back to 0 after 49.7. The unsigned difference between two readings stays right
// across both, so now() accumulates those differences into a number that never wraps, as long
// as it is read at least every 24 days (the endpoint's own timers read it far more often).
import Time from "time";
import Timer from "timer";
import type { Clock, TimerHandle } from "../clock.js";

const HALF_RANGE = 0x80000000;

export class ModdableClock implements Clock {
  #lastTicks: number;
  #now = 0;

  constructor() {
    this.#lastTicks = Time.ticks;
  }

  now(): number {
    const ticks = Time.ticks;
    const step = (ticks - this.#lastTicks) >>> 0;
    this.#lastTicks = ticks;
    // A "step" past half the range is the clock going back (the simulator's ticks follow the
    // host's wall clock): time stands still rather than leaping 49 days ahead.
    if (step < HALF_RANGE) this.#now += step;
    return this.#now;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    // Timer takes whole ms; rounding up never fires a timer before its time. The callback goes to
    // Timer as it is (it ignores the timer Timer passes): no wrapping closure per pending timer.
    return Timer.set(callback, Math.max(0, Math.ceil(delayMs)));
  }

  clearTimer(handle: TimerHandle): void {
    Timer.clear(handle as Timer);
  }
}
