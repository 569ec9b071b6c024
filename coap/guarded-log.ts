// The endpoint's log: the application's LogSink behind a guard, since a failing log must not
// take the protocol down with it. An object with a method, where a wrapping closure would keep a
// function and its environment for the life of the endpoint (11 slots against 3).
import type { LogLevel, LogSink } from "../kernel/log.js";

export class GuardedLog {
  readonly #sink: LogSink;

  constructor(sink: LogSink) {
    this.#sink = sink;
  }

  write(level: LogLevel, text: string): void {
    try {
      this.#sink(level, text);
    } catch {
      // Nowhere left to report it.
    }
  }
}
