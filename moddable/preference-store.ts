// KeyValueStore on Moddable's Preference module: NVS flash on ESP32, a JSON file in the host's
// temporary folder on the simulator. NVS limits domain and key names to 15 characters and values
// to 4000 bytes; every set/delete wears flash, so this skips writes that change nothing and the
// core writes rarely (the thing token once per activation, never per sample).
import Preference from "preference";
import type { KeyValueStore } from "../kernel/key-value-store.js";
import { utf8Length } from "../kernel/utf8.js";

export interface PreferenceStoreOptions {
  /** The Preference domain all keys live in, 1–15 characters. */
  readonly domain: string;
}

function checkName(name: string, what: string): string {
  if (typeof name !== "string" || name.length === 0 || name.length > PreferenceStore.MAX_NAME_LENGTH) {
    throw new RangeError(
      `PreferenceStore: ${what} ${JSON.stringify(name)} must be 1–${PreferenceStore.MAX_NAME_LENGTH} characters`,
    );
  }
  return name;
}

export class PreferenceStore implements KeyValueStore {
  static readonly MAX_NAME_LENGTH = 15;
  static readonly MAX_VALUE_BYTES = 4000;

  readonly #domain: string;

  constructor(options: PreferenceStoreOptions) {
    this.#domain = checkName(options.domain, "domain");
  }

  /** The stored string; undefined when absent or when an older firmware stored another type. */
  read(key: string): string | undefined {
    const value = Preference.get(this.#domain, checkName(key, "key"));
    return typeof value === "string" ? value : undefined;
  }

  write(key: string, value: string): void {
    checkName(key, "key");
    if (typeof value !== "string") throw new TypeError(`PreferenceStore: value for ${key} is not a string`);
    const bytes = utf8Length(value);
    if (bytes > PreferenceStore.MAX_VALUE_BYTES) {
      throw new RangeError(
        `PreferenceStore: value for ${key} is ${bytes} bytes, at most ${PreferenceStore.MAX_VALUE_BYTES}`,
      );
    }
    if (Preference.get(this.#domain, key) === value) return;
    Preference.set(this.#domain, key, value);
  }

  /** Deleting an absent key is a no-op (NVS would report "not found"). */
  remove(key: string): void {
    if (Preference.get(this.#domain, checkName(key, "key")) === undefined) return;
    Preference.delete(this.#domain, key);
  }
}
