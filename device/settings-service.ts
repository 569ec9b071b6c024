// Device settings written on the platform (desired) and reported back (reported), in the manner
// of a device shadow. A value on `settings.NAME` is checked by the build-time parser of NAME
// (settable-settings.ts), applied at once, kept in flash and wins over the build-time value until
// `settings.reset` is written (any value), which returns to the build-time values. Values are
// ordered by their datetimes: one older than the newest seen for its name, or than the latest
// reset, is not applied. After applying or refusing, the device writes device.settings: every
// effective setting in the configuration grammar and an `errors` object for the refused ones.
//
// Hostile values (wrong type, long text, an unknown name, deep JSON) are refused and reported,
// never applied. Nothing grows with what arrives: one slot per settable name for its override,
// its last datetime and its error, and one for the latest unknown name's error. A name from the
// network is compared as a string and never becomes a property key (XS keeps property keys for
// the life of the machine).
import type { Clock, TimerHandle } from "../kernel/clock.js";
import type { KeyValueStore } from "../kernel/key-value-store.js";
import type { LogSink } from "../kernel/log.js";
import { isJsonObject } from "../thethings/json.js";
import type { JsonObjectValue, ThingValue } from "../thethings/values.js";
import { type DeviceConfig, SETTING_KEYS } from "./config.js";
import { isRefusal, type Refusal, shown } from "./config-values.js";
import { SETTINGS_PREFIX } from "./reserved-keys.js";
import { SETTABLE_SETTINGS, type SettingTargets, type SettingValue } from "./settable-settings.js";

/** The flash key of the overrides (KeyValueStore names are at most 15 characters). */
export const SETTINGS_STORE_KEY = "settings";
/** The name whose value, any value, returns every setting to its build-time value. */
export const RESET_NAME = "reset";
/** The longest text taken as a setting's value: every real one ("250ms", "debug") is far shorter. */
export const MAX_SETTING_TEXT = 32;
/** The member of `errors` that holds the latest refusal of a name that is not a setting. */
export const UNKNOWN_NAME_ERROR = "unknown";

/**
 * The bound on flash wear: one settings write a minute at most (1,440 a day) however fast values
 * alternate on the platform. A change within the gap is written at its end if the values then
 * still differ from flash; one lost to a reboot meanwhile comes back in the boot's catch-up, as
 * the platform keeps the desired values.
 */
export const MIN_FLASH_WRITE_GAP_MS = 60_000;

/** Where a settings value came from: pushed on the subscription, or read back after a gap or at boot. */
export type SettingSource = "subscription" | "catch-up";

export type SettingOutcome =
  /** The effective value changed and took effect. */
  | "applied"
  /** Accepted, but the effective value was already that. */
  | "unchanged"
  /** Settings returned to their build-time values. */
  | "reset"
  /** Not a valid value, or not a settable name: reported in `errors`. */
  | "refused"
  /** Older than the newest value seen for its name, or than the latest reset. */
  | "stale"
  /** A catch-up read found the value already taken. */
  | "already-taken"
  /** Not a `settings.*` key. */
  | "not-a-setting";

export interface SettingsServiceOptions {
  /** The build-time configuration: the values settings.reset returns to, and the fixed bounds (bufferSize). */
  readonly config: DeviceConfig;
  readonly store: KeyValueStore;
  readonly clock: Clock;
  readonly log: LogSink;
  readonly targets: SettingTargets;
}

interface Override {
  readonly value: SettingValue;
  readonly datetime: number | undefined;
}

export class SettingsService {
  readonly #options: SettingsServiceOptions;
  /** Per entry of SETTABLE_SETTINGS (the bound on every array here): the value in force. */
  readonly #effective: SettingValue[];
  /** The value written on the platform that wins over the build-time one, if any. */
  readonly #overrides: (Override | undefined)[];
  /** The datetime of the newest value taken (applied or refused) per name: older ones are stale. */
  readonly #seenAt: (number | undefined)[];
  /** Why the newest value of a name was refused. */
  readonly #errors: (string | undefined)[];
  #unknownError: string | undefined;
  /** The datetime of the latest settings.reset taken. */
  #resetAt: number | undefined;
  /** The overrides' values as flash holds them (datetimes aside): a write that would keep the same is skipped. */
  #inFlash: string;
  #lastWriteAt: number | undefined;
  /** A write held back by MIN_FLASH_WRITE_GAP_MS; it writes what is kept when it runs. */
  #writeTimer: TimerHandle | undefined;

  /** Loads the overrides kept in flash and applies those that differ from the build-time values. */
  constructor(options: SettingsServiceOptions) {
    this.#options = options;
    const { config } = options;
    this.#effective = SETTABLE_SETTINGS.map((setting) => setting.initial(config));
    this.#overrides = SETTABLE_SETTINGS.map(() => undefined);
    this.#seenAt = SETTABLE_SETTINGS.map(() => undefined);
    this.#errors = SETTABLE_SETTINGS.map(() => undefined);
    this.load();
    this.#inFlash = this.keptValues();
    this.settle();
  }

  /** Writes a change held back by the flash gap at once (a clean shutdown keeps the latest). */
  close(): void {
    if (this.#writeTimer === undefined) return;
    this.#options.clock.clearTimer(this.#writeTimer);
    this.#writeTimer = undefined;
    this.writeFlash();
  }

  /** The value in force for `name` (a SETTABLE_SETTINGS name), or undefined for another name. */
  value(name: string): SettingValue | undefined {
    const index = SETTABLE_SETTINGS.findIndex((setting) => setting.name === name);
    return index < 0 ? undefined : this.#effective[index];
  }

  /** Whether `key` is a settings key (`settings.NAME`). */
  static isSettingKey(key: string): boolean {
    return key.startsWith(SETTINGS_PREFIX);
  }

  /**
   * A value pushed on the subscription: taken, then reported at once unless it was stale. Never
   * throws.
   */
  dispatch(value: ThingValue): SettingOutcome {
    const outcome = this.take(value, "subscription");
    if (outcome !== "stale" && outcome !== "already-taken" && outcome !== "not-a-setting") this.report(true);
    return outcome;
  }

  /** Takes one value on a `settings.*` key without reporting (a catch-up reports once at its end). Never throws. */
  take(value: ThingValue, source: SettingSource): SettingOutcome {
    if (!SettingsService.isSettingKey(value.key)) return "not-a-setting";
    const name = value.key.slice(SETTINGS_PREFIX.length);
    if (name === RESET_NAME) return this.reset(value.datetime, source);
    const index = SETTABLE_SETTINGS.findIndex((setting) => setting.name === name);
    if (index < 0) {
      this.#unknownError = SETTING_KEYS.some((key) => key === name)
        ? `${shown(name)} cannot change at run time`
        : `${shown(name)} is not a setting (${SETTABLE_SETTINGS.map((setting) => setting.name).join(", ")})`;
      this.#options.log("warn", `settings: ${this.#unknownError}`);
      return "refused";
    }
    return this.set(index, value, source);
  }

  /** Writes device.settings: every effective setting in the configuration grammar, and the errors. */
  report(urgent: boolean): void {
    const problem = this.#options.targets.reportSettings(this.snapshot(), urgent);
    if (problem !== undefined) this.#options.log("warn", `device.settings not reported: ${problem}`);
  }

  /** What device.settings carries. */
  snapshot(): JsonObjectValue {
    const body: Record<string, unknown> = {};
    const errors: Record<string, string> = {};
    SETTABLE_SETTINGS.forEach((setting, index) => {
      body[setting.name] = setting.show(this.#effective[index]!);
      const error = this.#errors[index];
      if (error !== undefined) errors[setting.name] = error;
    });
    if (this.#unknownError !== undefined) errors[UNKNOWN_NAME_ERROR] = this.#unknownError;
    body.errors = errors;
    return body;
  }

  private set(index: number, item: ThingValue, source: SettingSource): SettingOutcome {
    const setting = SETTABLE_SETTINGS[index]!;
    const { datetime } = item;
    if (datetime !== undefined) {
      if (this.#resetAt !== undefined && datetime < this.#resetAt) return "stale";
      const seenAt = this.#seenAt[index];
      if (seenAt !== undefined && datetime < seenAt) return "stale";
      if (source === "catch-up" && datetime === seenAt) return "already-taken";
      this.#seenAt[index] = datetime;
    }
    const parsed = this.check(index, item.value);
    if (isRefusal(parsed)) {
      this.#errors[index] = parsed.refused;
      this.#options.log("warn", `settings: ${setting.name} refused: ${parsed.refused}`);
      return "refused";
    }
    this.#errors[index] = undefined;
    const previous = this.#overrides[index];
    this.#overrides[index] = { value: parsed, datetime };
    // Flash wears: written when what it keeps changes, not for a newer datetime on the same value.
    if (previous?.value !== parsed) this.persist();
    if (parsed === this.#effective[index]) return "unchanged";
    this.#options.log(
      "info",
      `settings: ${setting.name} = ${shown(setting.show(parsed))} (was ${shown(setting.show(this.#effective[index]!))})`,
    );
    this.#effective[index] = parsed;
    this.applyOne(index);
    return "applied";
  }

  /** The build-time parser and bounds, after the checks that keep hostile values cheap. Never throws. */
  private check(index: number, value: unknown): SettingValue | Refusal {
    if (typeof value === "string" && value.length > MAX_SETTING_TEXT)
      return { refused: `${value.length} characters, at most ${MAX_SETTING_TEXT}` };
    if (value !== null && typeof value === "object")
      return { refused: `expected text or a number, got ${Array.isArray(value) ? "an array" : "an object"}` };
    return SETTABLE_SETTINGS[index]!.check(value, this.#options.config);
  }

  private reset(datetime: number | undefined, source: SettingSource): SettingOutcome {
    if (datetime !== undefined && this.#resetAt !== undefined && datetime <= this.#resetAt) {
      return source === "catch-up" && datetime === this.#resetAt ? "already-taken" : "stale";
    }
    if (datetime !== undefined) this.#resetAt = datetime;
    let removed = false;
    this.#overrides.forEach((override, index) => {
      // A value written after the reset (read back after a gap) stays.
      if (override === undefined) return;
      if (datetime !== undefined && override.datetime !== undefined && override.datetime >= datetime) return;
      this.#overrides[index] = undefined;
      removed = true;
    });
    this.#errors.fill(undefined);
    this.#unknownError = undefined;
    if (removed) this.persist();
    this.#options.log("info", "settings: reset to the build-time values");
    this.settle();
    return "reset";
  }

  /** Makes the effective values the overrides or the build-time values, applying each that changes. */
  private settle(): void {
    SETTABLE_SETTINGS.forEach((setting, index) => {
      const value = this.#overrides[index]?.value ?? setting.initial(this.#options.config);
      if (value === this.#effective[index]) return;
      this.#effective[index] = value;
      this.applyOne(index);
    });
  }

  private applyOne(index: number): void {
    try {
      SETTABLE_SETTINGS[index]!.apply(this.#effective[index]!, this.#options.targets);
    } catch (error) {
      this.#options.log("error", `settings: applying ${SETTABLE_SETTINGS[index]!.name} failed: ${String(error)}`);
    }
  }

  /** Keeps the overrides in flash now, or at the end of MIN_FLASH_WRITE_GAP_MS after the last write. */
  private persist(): void {
    if (this.#writeTimer !== undefined) return;
    const { clock } = this.#options;
    const wait = this.#lastWriteAt === undefined ? 0 : this.#lastWriteAt + MIN_FLASH_WRITE_GAP_MS - clock.now();
    if (wait <= 0) {
      this.writeFlash();
      return;
    }
    this.#writeTimer = clock.setTimer(() => {
      this.#writeTimer = undefined;
      this.writeFlash();
    }, wait);
  }

  /**
   * The overrides' values in the configuration grammar, one entry per settable name; "" for none
   * (the usual state, and then no string is kept on the heap).
   */
  private keptValues(): string {
    if (this.#overrides.every((override) => override === undefined)) return "";
    return JSON.stringify(
      this.#overrides.map((override, index) =>
        override === undefined ? null : SETTABLE_SETTINGS[index]!.show(override.value),
      ),
    );
  }

  /** The overrides as kept in flash: `{"interval":["1s",DATETIME|null],…}`, values in the configuration grammar. */
  private writeFlash(): void {
    const values = this.keptValues();
    if (values === this.#inFlash) return;
    // A failed write counts for the gap too: a failing flash is not tried at every change.
    this.#lastWriteAt = this.#options.clock.now();
    const kept: Record<string, [SettingValue, number | null]> = {};
    this.#overrides.forEach((override, index) => {
      if (override === undefined) return;
      const setting = SETTABLE_SETTINGS[index]!;
      kept[setting.name] = [setting.show(override.value), override.datetime ?? null];
    });
    try {
      if (values === "") this.#options.store.remove(SETTINGS_STORE_KEY);
      else this.#options.store.write(SETTINGS_STORE_KEY, JSON.stringify(kept));
      this.#inFlash = values;
    } catch (error) {
      this.#options.log("warn", `settings: could not keep them in flash (${String(error)}); they last until reboot`);
    }
  }

  private load(): void {
    let text: string | undefined;
    try {
      text = this.#options.store.read(SETTINGS_STORE_KEY);
    } catch (error) {
      this.#options.log("warn", `settings: could not read them from flash (${String(error)})`);
      return;
    }
    if (text === undefined) return;
    let kept: unknown;
    try {
      kept = JSON.parse(text);
    } catch {
      kept = undefined;
    }
    if (!isJsonObject(kept)) {
      this.#options.log("warn", "settings: the copy in flash is not readable; build-time values apply");
      return;
    }
    SETTABLE_SETTINGS.forEach((setting, index) => {
      if (!Object.hasOwn(kept, setting.name)) return;
      const entry = kept[setting.name];
      const datetime = Array.isArray(entry) ? entry[1] : undefined;
      const pair = Array.isArray(entry) && entry.length === 2 && (datetime === null || Number.isSafeInteger(datetime));
      const value: SettingValue | Refusal = pair
        ? this.check(index, entry[0])
        : { refused: "not a [value, datetime] pair" };
      if (isRefusal(value)) {
        this.#options.log("warn", `settings: ${setting.name} in flash left out: ${value.refused}`);
        return;
      }
      const at = datetime === null ? undefined : (datetime as number);
      this.#overrides[index] = { value, datetime: at };
      this.#seenAt[index] = at;
    });
  }
}
