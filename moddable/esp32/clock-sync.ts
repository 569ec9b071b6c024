// Sets the board's clock by SNTP (the SDK's `sntp` module, host from config.sntp) whenever the
// link comes up and the clock is not known to be fresh: after boot, since main no longer waits
// for setup/network (moddable/esp32/setup-network.ts), and again every day, because the ESP32's
// RTC drifts by seconds a day. Until the first answer, telemetry sends values without a
// datetime (kernel/moddable/wall-clock.ts). A failed attempt is retried while online, on a backoff from
// 30 s to 30 min.
import SNTP from "sntp";
import Time from "time";
import { Backoff } from "../../kernel/backoff.js";
import type { Clock, TimerHandle } from "../../kernel/clock.js";
import type { LogSink } from "../../kernel/log.js";
import type { RandomSource } from "../../kernel/random.js";

/** How long a clock set by SNTP counts as fresh. */
export const RESYNC_MS = 86_400_000;

export interface ClockSyncOptions {
  /** The SNTP server (config.sntp); undefined or "" leaves the clock alone. */
  readonly host: string | undefined;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly log: LogSink;
}

/** The SDK's SNTP closes itself after an answer or a final error; close() is for an early stop. */
type Closable = { close?: () => void };

export class ClockSync {
  readonly #options: ClockSyncOptions;
  readonly #backoff: Backoff;
  #request: SNTP | undefined;
  /** The next attempt: a retry after a failure, or the daily re-sync. */
  #timer: TimerHandle | undefined;
  #online = false;
  /** Clock time of the last answer, undefined before the first. */
  #syncedAt: number | undefined;
  #closed = false;

  constructor(options: ClockSyncOptions) {
    this.#options = options;
    this.#backoff = new Backoff({ random: options.random, initialMs: 30_000, maxMs: 1_800_000 });
  }

  /** The link has an address: sync now unless the clock is fresh or a request is out. */
  online(): void {
    this.#online = true;
    const syncedAt = this.#syncedAt;
    if (syncedAt !== undefined && this.#options.clock.now() - syncedAt < RESYNC_MS) return;
    this.#sync();
  }

  offline(): void {
    this.#online = false;
  }

  close(): void {
    this.#closed = true;
    this.#clearTimer();
    const request = this.#request as Closable | undefined;
    this.#request = undefined;
    request?.close?.();
  }

  #sync(): void {
    const host = this.#options.host;
    if (this.#closed || host === undefined || host === "" || this.#request !== undefined) return;
    this.#clearTimer();
    try {
      this.#request = new SNTP({ host }, (message, value) => this.#answered(message, value));
    } catch (error) {
      this.#request = undefined;
      this.#failed(error instanceof Error ? error.message : String(error));
    }
  }

  #answered(message: number, value: unknown): void {
    if (message === SNTP.time && typeof value === "number") {
      this.#request = undefined;
      Time.set(value);
      this.#syncedAt = this.#options.clock.now();
      this.#backoff.reset();
      this.#options.log(
        "info",
        `clock set by SNTP from ${this.#options.host ?? "?"}: ${new Date(value * 1000).toISOString()}`,
      );
      this.#schedule(RESYNC_MS);
    } else if (message === SNTP.error) {
      // Returning nothing lets the SNTP object close itself.
      this.#request = undefined;
      this.#failed(String(value));
    }
  }

  #failed(reason: string): void {
    if (this.#closed) return;
    const delay = this.#backoff.next();
    this.#options.log(
      "warn",
      `SNTP: ${reason}; values go without a datetime until the clock is set; trying again in ${Math.round(delay / 1000)} s`,
    );
    this.#schedule(delay);
  }

  #schedule(delayMs: number): void {
    this.#clearTimer();
    this.#timer = this.#options.clock.setTimer(() => {
      this.#timer = undefined;
      if (this.#online) this.#sync();
    }, delayMs);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }
}
