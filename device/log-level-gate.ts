// A log level that can change at run time (settings.logLevel): the composition root puts the
// gate in front of the target's sink (trace() on Moddable, stderr on the PC), hands `log` to
// everything and the gate itself to the device as its LogLevelControl port.
import type { LogLevel, LogSink } from "../kernel/log.js";

/** The device's handle on which levels the target's log keeps. */
export interface LogLevelControl {
  setLevel(level: LogLevel): void;
}

const RANKS: Readonly<Record<LogLevel, number>> = Object.freeze({ debug: 0, info: 1, warn: 2, error: 3 });

export class LogLevelGate implements LogLevelControl {
  /** The gated sink: lines below the level stop here. */
  readonly log: LogSink;
  #minimumRank: number;

  constructor(sink: LogSink, level: LogLevel) {
    this.#minimumRank = RANKS[level];
    this.log = (lineLevel, message) => {
      if (RANKS[lineLevel] >= this.#minimumRank) sink(lineLevel, message);
    };
  }

  setLevel(level: LogLevel): void {
    this.#minimumRank = RANKS[level];
  }
}
