// At boot, before the subscription starts, each actuator gets back the last value commanded on
// the platform, so a reboot or a power cut does not lose actuator state: one read with limit=1
// per actuator key, one at a time. A key never written yet (4.04 [lib]) has nothing to restore,
// and is read as an empty answer rather than an exception (ReadOptions.absentIsEmpty); any other
// failure is logged and leaves that output as it is, so a bad network cannot hold
// the boot: the subscription brings the next command anyway.
import type { LogSink } from "../kernel/log.js";
import { ThethingsError } from "../thethings/errors.js";
import type { ValueReader } from "../thethings/paging.js";
import type { ThingValue } from "../thethings/values.js";
import type { CommandDispatcher, CommandSource } from "./commands.js";

export interface RestoreOptions {
  /** ThethingsClient (its read). */
  readonly reader: ValueReader;
  readonly dispatcher: CommandDispatcher;
  readonly log: LogSink;
  /** "restore" at boot (default); "catch-up" after a subscription gap. */
  readonly source?: Exclude<CommandSource, "subscription">;
}

export interface RestoreReport {
  /** Keys whose stored value was applied. */
  readonly restored: string[];
  /** Keys with no stored value, or whose stored value the dispatcher ignored (malformed). */
  readonly nothingToRestore: string[];
  /** Keys whose read failed; the error of each, in the same order. */
  readonly failed: { readonly key: string; readonly error: ThethingsError }[];
}

export async function restoreActuators(options: RestoreOptions): Promise<RestoreReport> {
  const { reader, dispatcher, log } = options;
  const source = options.source ?? "restore";
  const report: RestoreReport = { restored: [], nothingToRestore: [], failed: [] };
  for (const key of dispatcher.actuatorKeys) {
    let latest: ThingValue | undefined;
    try {
      latest = (await reader.read(key, { limit: 1, absentIsEmpty: true }))[0];
    } catch (failure) {
      const error =
        failure instanceof ThethingsError
          ? failure
          : new ThethingsError("network", "read", String(failure), { cause: failure });
      if (error.kind === "not-found") {
        report.nothingToRestore.push(key);
        continue;
      }
      log("warn", `actuator ${key}: could not read its last command (${error.message}); left as it is`);
      report.failed.push({ key, error });
      continue;
    }
    if (latest !== undefined && dispatcher.apply(latest, source)) report.restored.push(key);
    else report.nothingToRestore.push(key);
  }
  return report;
}
