// Commands written while the subscription was away were pushed to nobody: after a gap (loss, a
// new token, a platform restart, or reads lost at boot) each output's last command is read back.
// A read lost on a bad link is tried again on a backoff up to keepAlive, at most MAX_READS reads
// in all, until every output has its answer; a newer gap starts its own catch-up instead.
import { Backoff } from "../kernel/backoff.js";
import type { Clock, TimerHandle } from "../kernel/clock.js";
import type { LogSink } from "../kernel/log.js";
import type { RandomSource } from "../kernel/random.js";
import type { ValueReader } from "../thethings/paging.js";
import { restoreActuators } from "./actuator-restore.js";
import type { CommandDispatcher } from "./commands.js";

export interface CommandCatchUpOptions {
  readonly reader: ValueReader;
  readonly dispatcher: CommandDispatcher;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly log: LogSink;
  /** The longest wait between reads (the subscription's keep-alive). */
  readonly maxWaitMs: number;
}

export class CommandCatchUp {
  /** Reads of the outputs' last commands per catch-up, at most, while reads fail. */
  static readonly MAX_READS = 6;
  readonly #options: CommandCatchUpOptions;
  #timer: TimerHandle | undefined;
  /** Which catch-up is current: an older one's late result does not schedule retries. */
  #generation = 0;
  #closed = false;

  constructor(options: CommandCatchUpOptions) {
    this.#options = options;
  }

  /** Starts a catch-up now; one still retrying is superseded. */
  run(): void {
    if (this.#options.dispatcher.actuatorKeys.length === 0 || this.#closed) return;
    this.cancelRetry();
    const backoff = new Backoff({ initialMs: 2_000, maxMs: this.#options.maxWaitMs, random: this.#options.random });
    this.read(++this.#generation, backoff, 1);
  }

  close(): void {
    this.#closed = true;
    this.cancelRetry();
  }

  private cancelRetry(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  private read(generation: number, backoff: Backoff, attempt: number): void {
    const { reader, dispatcher, log } = this.#options;
    restoreActuators({ reader, dispatcher, log, source: "catch-up" }).then(
      (report) => {
        if (report.failed.length === 0 || this.#closed || generation !== this.#generation) return;
        if (attempt >= CommandCatchUp.MAX_READS) {
          log(
            "warn",
            `gave up catching up on commands for ${report.failed.map((f) => f.key).join(", ")} after ${attempt} reads`,
          );
          return;
        }
        this.#timer = this.#options.clock.setTimer(() => {
          this.#timer = undefined;
          this.read(generation, backoff, attempt + 1);
        }, backoff.next());
      },
      (error: unknown) => log("warn", `catching up on commands failed: ${String(error)}`),
    );
  }
}
