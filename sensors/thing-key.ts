// Keys of theThings.IO values: alphanumerics and ".", "-", "_" (thethings-coap-api.md, "JSON value
// items"; "_" is inferred from a garbled page, so the firmware's own reserved keys avoid it).
import { hasKeyCharactersOnly } from "../thethings/values.js";

/** Our bound, not the platform's (which is undocumented): keeps every value item small. */
export const MAX_KEY_LENGTH = 64;

export function isValidThingKey(key: unknown): key is string {
  return typeof key === "string" && key.length <= MAX_KEY_LENGTH && hasKeyCharactersOnly(key);
}

/** Throws a TypeError naming `what` when `key` is not a valid key. */
export function checkThingKey(key: unknown, what: string): string {
  if (!isValidThingKey(key)) {
    throw new TypeError(
      `${what}: ${JSON.stringify(key)} is not a theThings.IO key ([A-Za-z0-9._-], 1–${MAX_KEY_LENGTH} characters)`,
    );
  }
  return key;
}
