// A Clock whose time moves only when a test says so. Timers fire in due order (ties in the
// order they were set); between two timers the pending promise callbacks run, so code that
// awaits a response and then sends the next request does so at the simulated instant the
// response arrived, not after the whole advance. Portable: runs on Node and on XS.
import type { Clock, TimerHandle } from "../../kernel/clock.js";

interface PendingTimer {
  readonly id: number;
  readonly dueAt: number;
  readonly callback: () => void;
}

export interface FakeClockOptions {
  /** The initial value of now() (default 0). */
  readonly startAt?: number;
  /**
   * Microtask turns to let pass after each timer (default 64): enough for any promise chain in
   * this code base to run to its next wait. XS has no macrotask hook to flush them completely.
   */
  readonly settleTurns?: number;
}

export class FakeClock implements Clock {
  #now: number;
  #nextId = 1;
  readonly #settleTurns: number;
  /** Kept sorted by (dueAt, id). Bound: whatever the code under test sets; tests only. */
  #timers: PendingTimer[] = [];
  #fired = 0;

  constructor(options: FakeClockOptions = {}) {
    this.#now = options.startAt ?? 0;
    this.#settleTurns = options.settleTurns ?? 64;
  }

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    const timer: PendingTimer = { id: this.#nextId++, dueAt: this.#now + delay, callback };
    let at = this.#timers.length;
    while (at > 0 && this.#timers[at - 1]!.dueAt > timer.dueAt) at--;
    this.#timers.splice(at, 0, timer);
    return timer.id;
  }

  clearTimer(handle: TimerHandle): void {
    const at = this.#timers.findIndex((t) => t.id === handle);
    if (at >= 0) this.#timers.splice(at, 1);
  }

  /** Timers waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Timers fired so far. */
  get firedTimers(): number {
    return this.#fired;
  }

  /** When the next timer is due, or undefined if none is set. */
  nextDueAt(): number | undefined {
    return this.#timers[0]?.dueAt;
  }

  /** Lets pending promise callbacks run (a fixed number of microtask turns). */
  async settle(): Promise<void> {
    for (let i = 0; i < this.#settleTurns; i++) await Promise.resolve();
  }

  /** Fires the earliest timer if it is due by `limit`; returns whether one fired. */
  #fireNext(limit: number): boolean {
    const timer = this.#timers[0];
    if (timer === undefined || timer.dueAt > limit) return false;
    this.#timers.shift();
    if (timer.dueAt > this.#now) this.#now = timer.dueAt;
    this.#fired++;
    timer.callback();
    return true;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, settling after each. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.#now + ms);
  }

  async advanceTo(time: number): Promise<void> {
    await this.settle();
    while (this.#fireNext(time)) await this.settle();
    if (time > this.#now) this.#now = time;
  }

  /** Like advance() but without letting promise callbacks run in between. */
  advanceSync(ms: number): void {
    const target = this.#now + ms;
    while (this.#fireNext(target));
    if (target > this.#now) this.#now = target;
  }

  /**
   * Fires timers one at a time until `done()` holds, or time would pass `maxMs` from now
   * (then throws: a test waiting for something that never happens should fail, not hang).
   */
  async runUntil(done: () => boolean, maxMs: number = 3_600_000): Promise<void> {
    const limit = this.#now + maxMs;
    await this.settle();
    while (!done()) {
      if (!this.#fireNext(limit)) throw new Error(`runUntil: condition not met within ${maxMs} ms (now ${this.#now})`);
      await this.settle();
    }
  }

  /** Fires timers until none remain; throws after `maxTimers` (a periodic timer never idles). */
  async runUntilIdle(maxTimers: number = 100_000): Promise<void> {
    await this.settle();
    for (let fired = 0; this.#timers.length > 0; fired++) {
      if (fired >= maxTimers) throw new Error(`runUntilIdle: still busy after ${maxTimers} timers`);
      this.#fireNext(Number.POSITIVE_INFINITY);
      await this.settle();
    }
  }
}
