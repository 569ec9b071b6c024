// What both catch-ups (command-catch-up.ts, settings-catch-up.ts) share: a round of reads after a
// gap, tried again on a backoff from 2 s up to keepAlive while some read got no answer, at most
// maxRounds rounds; a newer run() supersedes a catch-up still retrying (its late result schedules
// nothing). A base class, so the two keep no extra object or closure for the device's life; the
// constants are getters on the prototypes (in flash on the board), not fields of each instance.
import { Backoff } from "../kernel/backoff.js";
import type { Clock, TimerHandle } from "../kernel/clock.js";
import type { LogSink } from "../kernel/log.js";
import type { RandomSource } from "../kernel/random.js";

export interface CatchUpRoundsOptions {
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly log: LogSink;
  /** The longest wait between rounds (the subscription's keep-alive). */
  readonly maxWaitMs: number;
}

export abstract class CatchUpRounds<Options extends CatchUpRoundsOptions> {
  /** The subclass's options, which include the base's: one slot for both. */
  protected readonly options: Options;
  #timer: TimerHandle | undefined;
  /** Which catch-up is current: an older one's late result does not schedule retries. */
  #generation = 0;
  #closed = false;

  constructor(options: Options) {
    this.options = options;
  }

  /** Rounds of reads per catch-up, at most, while reads fail. */
  protected abstract get maxRounds(): number;

  /** What is caught up on, for the log ("commands", "settings"). */
  protected abstract get what(): string;

  /** Starts a catch-up now; one still retrying is superseded. */
  run(): void {
    if (this.#closed || !this.wanted()) return;
    this.cancelRetry();
    const backoff = new Backoff({ initialMs: 2_000, maxMs: this.options.maxWaitMs, random: this.options.random });
    this.attempt(++this.#generation, backoff, 1);
  }

  close(): void {
    this.#closed = true;
    this.cancelRetry();
  }

  /** Whether a round of `generation` still matters (not closed, not superseded). */
  protected isCurrent(generation: number): boolean {
    return !this.#closed && generation === this.#generation;
  }

  /** Whether there is anything to catch up on at all. */
  protected wanted(): boolean {
    return true;
  }

  /** One round of reads; resolves to what got no answer (empty: done). */
  protected abstract round(generation: number): Promise<readonly string[]>;

  private cancelRetry(): void {
    if (this.#timer !== undefined) this.options.clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  private attempt(generation: number, backoff: Backoff, round: number): void {
    const { clock, log } = this.options;
    this.round(generation).then(
      (failed) => {
        if (failed.length === 0 || !this.isCurrent(generation)) return;
        if (round >= this.maxRounds) {
          log("warn", `gave up catching up on ${this.what} (${failed.join(", ")}) after ${round} rounds`);
          return;
        }
        this.#timer = clock.setTimer(() => {
          this.#timer = undefined;
          this.attempt(generation, backoff, round + 1);
        }, backoff.next());
      },
      (error: unknown) => log("warn", `catching up on ${this.what} failed: ${String(error)}`),
    );
  }
}
