// The one logging port: the core never prints by itself; each target decides where lines go
// (trace() on Moddable, stderr on the PC) and which levels it keeps.

export type LogLevel = "debug" | "info" | "warn" | "error";

/** One log line. */
export type LogSink = (level: LogLevel, message: string) => void;
