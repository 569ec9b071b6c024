// Settings written while the device could not hear them (switched off, or the subscription
// away) were pushed to nobody: at boot and after a subscription gap the newest value of each
// settings key is read back (limit=1 per key), settings.reset first, so that the datetimes
// decide: a value older than the latest reset, or already taken, changes nothing. A round whose
// reads did not all get an answer is tried again on a backoff up to keepAlive, at most
// MAX_ROUNDS rounds; a newer gap starts its own catch-up instead. device.settings is written at
// the end of the first complete round (the settings in force after boot) and of any round that
// changed or refused something.
import type { LogSink } from "../kernel/log.js";
import { ThethingsError } from "../thethings/errors.js";
import type { ValueReader } from "../thethings/paging.js";
import type { ThingValue } from "../thethings/values.js";
import { CatchUpRounds, type CatchUpRoundsOptions } from "./catch-up-rounds.js";
import { SETTINGS_PREFIX } from "./reserved-keys.js";
import { SETTABLE_SETTINGS } from "./settable-settings.js";
import { RESET_NAME, type SettingOutcome, type SettingsService } from "./settings-service.js";

export interface SettingsCatchUpOptions extends CatchUpRoundsOptions {
  readonly reader: ValueReader;
  readonly settings: SettingsService;
  readonly log: LogSink;
}

/** Outcomes that change nothing: a round that only met these writes no report. */
const QUIET: readonly SettingOutcome[] = Object.freeze(["stale", "already-taken", "not-a-setting"]);

export class SettingsCatchUp extends CatchUpRounds<SettingsCatchUpOptions> {
  /** Rounds of reads per catch-up, at most, while reads fail. */
  static readonly MAX_ROUNDS = 6;
  #reported = false;

  protected override get maxRounds(): number {
    return SettingsCatchUp.MAX_ROUNDS;
  }

  protected override get what(): string {
    return "settings";
  }

  /** One round: the reset, then every setting. Resolves to the keys whose read failed. */
  protected override async round(generation: number): Promise<string[]> {
    const { settings } = this.options;
    const reset = await this.readLatest(`${SETTINGS_PREFIX}${RESET_NAME}`);
    if (!this.isCurrent(generation)) return [];
    // Without the latest reset, older values cannot be told apart: the round waits for it.
    if (reset === "failed") return [`${SETTINGS_PREFIX}${RESET_NAME}`];
    let changed = false;
    if (reset !== undefined) changed = !QUIET.includes(settings.take(reset, "catch-up"));
    const failed: string[] = [];
    for (const setting of SETTABLE_SETTINGS) {
      const key = `${SETTINGS_PREFIX}${setting.name}`;
      const latest = await this.readLatest(key);
      if (!this.isCurrent(generation)) return [];
      if (latest === "failed") failed.push(key);
      else if (latest !== undefined && !QUIET.includes(settings.take(latest, "catch-up"))) changed = true;
    }
    if (changed || (!this.#reported && failed.length === 0)) {
      settings.report(changed);
      this.#reported = true;
    }
    return failed;
  }

  /** The newest value of `key`, undefined when it was never written, "failed" when the read got no answer. */
  private async readLatest(key: string): Promise<ThingValue | undefined | "failed"> {
    try {
      return (await this.options.reader.read(key, { limit: 1, absentIsEmpty: true }))[0];
    } catch (failure) {
      const error =
        failure instanceof ThethingsError
          ? failure
          : new ThethingsError("network", "read", String(failure), { cause: failure });
      if (error.kind === "not-found") return undefined;
      this.options.log("warn", `settings: could not read ${key} (${error.message}); read again later`);
      return "failed";
    }
  }
}
