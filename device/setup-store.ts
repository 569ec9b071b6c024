// What a person entered on the setup page, kept in flash (KeyValueStore, Preference on the board)
// and preferred to the build's values at every boot: fleet builds keep their defaults, and one
// board's entries win on that board. Each value is checked again when read, with the same parser
// as the build's configuration, so a damaged entry is dropped with a log line instead of
// stopping the device. Writes happen only when a value changed (each one wears flash).
import type { KeyValueStore } from "../kernel/key-value-store.js";
import type { LogSink } from "../kernel/log.js";
import { ConfigError } from "./config-error.js";
import { parseCredential, parseSsid, parseWifiPassword } from "./config-values.js";
import { parseServer } from "./server-uri.js";

/** Setting name → store key (Preference keys hold at most 15 characters). */
export const ENTERED_KEYS = Object.freeze({
  activationCode: "activationCode",
  productId: "productId",
  server: "server",
  ssid: "ssid",
  password: "wifiPassword",
});

export type EnteredSetting = keyof typeof ENTERED_KEYS;

export const ENTERED_SETTINGS: readonly EnteredSetting[] = Object.freeze(Object.keys(ENTERED_KEYS) as EnteredSetting[]);

export type EnteredSettings = Partial<Record<EnteredSetting, string>>;

/** Checks one entered value; throws ConfigError. */
export function checkEntered(setting: EnteredSetting, value: string): void {
  if (setting === "activationCode" || setting === "productId") parseCredential(setting, value);
  else if (setting === "server") parseServer(setting, value);
  else if (setting === "ssid") parseSsid(setting, value);
  else parseWifiPassword(setting, value);
}

/** The entries in `store` that still pass their parser; others are removed and logged. */
export function readEntered(store: KeyValueStore, log: LogSink): EnteredSettings {
  const entered: EnteredSettings = {};
  for (const setting of ENTERED_SETTINGS) {
    const key = ENTERED_KEYS[setting];
    let value: string | undefined;
    try {
      value = store.read(key);
    } catch (error) {
      log("error", `setup: could not read the entered ${setting} (${String(error)})`);
      continue;
    }
    if (value === undefined) continue;
    try {
      checkEntered(setting, value);
      entered[setting] = value;
    } catch (error) {
      log(
        "warn",
        `setup: the entered ${setting} is unusable (${error instanceof ConfigError ? error.message : String(error)}): removing it`,
      );
      removeEntry(store, key, log);
    }
  }
  return entered;
}

/** Writes each value that differs from the stored one; an empty value removes the entry. */
export function writeEntered(store: KeyValueStore, values: EnteredSettings, log: LogSink): number {
  let writes = 0;
  for (const setting of ENTERED_SETTINGS) {
    const value = values[setting];
    if (value === undefined) continue;
    const key = ENTERED_KEYS[setting];
    if (value === "") {
      if (store.read(key) !== undefined) {
        removeEntry(store, key, log);
        writes++;
      }
    } else if (store.read(key) !== value) {
      store.write(key, value);
      writes++;
    }
  }
  return writes;
}

/** Removes every entry ("Forget this device"). */
export function forgetEntered(store: KeyValueStore, log: LogSink): void {
  for (const setting of ENTERED_SETTINGS) removeEntry(store, ENTERED_KEYS[setting], log);
}

function removeEntry(store: KeyValueStore, key: string, log: LogSink): void {
  try {
    store.remove(key);
  } catch (error) {
    log("error", `setup: could not remove ${key} (${String(error)})`);
  }
}

/**
 * The settings as the build gives them with the entries laid over them: what main.ts and the PC
 * runner pass to parseDeviceConfig. The Wi-Fi password's setting is `password` on both sides.
 */
export function withEntered(
  values: Readonly<Record<string, unknown>>,
  entered: EnteredSettings,
): Readonly<Record<string, unknown>> {
  return { ...values, ...entered };
}
