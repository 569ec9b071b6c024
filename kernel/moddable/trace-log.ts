// LogSink on Moddable's trace(): one line per message, prefixed with seconds since boot and the
// level. On a board trace goes to the serial console (and xsbug); in the simulator only to xsbug
// in debug builds (tools/xsbug-log.ts prints it headless). Lines below `minimum` are dropped.
import type { LogLevel, LogSink } from "../log.js";

const RANKS: Readonly<Record<LogLevel, number>> = Object.freeze({ debug: 0, info: 1, warn: 2, error: 3 });
const LABELS: Readonly<Record<LogLevel, string>> = Object.freeze({
  debug: "debug",
  info: "info ",
  warn: "warn ",
  error: "error",
});

export interface TraceLogOptions {
  readonly minimum: LogLevel;
  /** Monotonic milliseconds for the line prefix (the Clock port's now). */
  readonly now: () => number;
}

export function createTraceLog(options: TraceLogOptions): LogSink {
  const minimumRank = RANKS[options.minimum];
  const now = options.now;
  return (level, message) => {
    if (RANKS[level] < minimumRank) return;
    trace(`[${(now() / 1000).toFixed(3).padStart(9)}] ${LABELS[level]} ${message}\n`);
  };
}
