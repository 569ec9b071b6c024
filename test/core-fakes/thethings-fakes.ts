// Small fakes for the platform-client, provisioning and command specs: a log that keeps its
// lines, an in-memory KeyValueStore, and microtask flushing. Portable (Node and XS).

import type { KeyValueStore } from "../../kernel/key-value-store.js";
import type { LogSink } from "../../kernel/log.js";

export interface LogLine {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly message: string;
}

export class RecordingLog {
  readonly lines: LogLine[] = [];
  readonly sink: LogSink = (level, message) => {
    this.lines.push({ level, message });
  };

  /** Lines at `level` (or any of `levels`). */
  at(...levels: LogLine["level"][]): LogLine[] {
    return this.lines.filter((line) => levels.includes(line.level));
  }

  /** Lines whose text contains `text`. */
  matching(text: string): LogLine[] {
    return this.lines.filter((line) => line.message.includes(text));
  }

  /** Every line's text, one per line (to scan for secrets). */
  get text(): string {
    return this.lines.map((line) => line.message).join("\n");
  }
}

export class MemoryStore implements KeyValueStore {
  readonly data = new Map<string, string>();
  writes = 0;
  /** When set, read/write/remove throw it (a failing flash). */
  failure: Error | undefined;

  read(key: string): string | undefined {
    if (this.failure !== undefined) throw this.failure;
    return this.data.get(key);
  }

  write(key: string, value: string): void {
    if (this.failure !== undefined) throw this.failure;
    this.writes++;
    this.data.set(key, value);
  }

  remove(key: string): void {
    if (this.failure !== undefined) throw this.failure;
    this.data.delete(key);
  }
}

/** Lets pending promise callbacks run. */
export async function flush(turns = 32): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}
