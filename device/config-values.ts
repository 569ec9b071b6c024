// The scalar settings: text as the mcconfig command line, a PC flag, a form field or a value
// written on the platform gives it (or the JSON number or boolean a manifest may hold) becomes a
// checked value, or a ConfigError that names the key and shows the value. Each parser stands on
// its own, so every front end validates with the same words; keep the messages stable, callers
// and tests match them.
import type { LogLevel } from "../kernel/log.js";
import { ConfigError } from "./config-error.js";

const MAX_CREDENTIAL_LENGTH = 128;
const MAX_SHOWN = 48;

const DURATION_UNITS: Readonly<Record<string, number>> = Object.freeze({ ms: 1, s: 1_000, m: 60_000, h: 3_600_000 });
const TRUE_WORDS = Object.freeze(["true", "1", "yes", "on"]);
const FALSE_WORDS = Object.freeze(["false", "0", "no", "off"]);
const LOG_LEVELS: readonly LogLevel[] = Object.freeze(["debug", "info", "warn", "error"] as const);
// Every pattern is written where it is used, never kept at module level: Moddable preloads this
// module into flash, and XS crashes in exec() on a RegExp stored there (SIGSEGV in
// fx_RegExp_prototype_exec, SDK 8.2.3). Configuration is parsed once per boot.

/** The value as it appears in messages: quoted, cut short. */
export function shown(value: unknown): string {
  const text = String(value);
  return JSON.stringify(text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text);
}

/** Manifest defaults may be JSON numbers or booleans; the command line gives strings. */
export function asText(key: string, value: unknown): string {
  if (typeof value === "string") return value.trim();
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new ConfigError(key, `expected text, got ${value === null ? "null" : typeof value}`);
}

/** A whole number, decimal or 0x hex, in [min, max]. */
export function parseInteger(key: string, value: unknown, min: number, max: number): number {
  const text = asText(key, value);
  const number = /^(?:\d+|0x[0-9a-f]+)$/i.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(number)) throw new ConfigError(key, `${shown(value)} is not a whole number`);
  if (number < min || number > max) throw new ConfigError(key, `${shown(value)} is outside ${min}–${max}`);
  return number;
}

/**
 * A duration in milliseconds: a number with a unit (`500ms`, `10s`, `2m`, `1h`), or a bare
 * number of milliseconds, which is what a JSON number in the manifest is too. The one grammar of
 * every front end: the mcconfig line, the manifest, the PC runner's flags (emulator/durations.ts
 * repeats it for the local platform, which imports nothing from the core; a test keeps the two
 * equal). The result must be a whole number of milliseconds in [minMs, maxMs].
 */
export function parseDuration(key: string, value: unknown, minMs: number, maxMs: number): number {
  const text = asText(key, value).toLowerCase();
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  const ms = match === null ? Number.NaN : Number(match[1]) * DURATION_UNITS[match[2] ?? "ms"]!;
  if (!Number.isSafeInteger(ms)) {
    throw new ConfigError(
      key,
      `${shown(value)} is not a duration in whole milliseconds (e.g. 500ms, 10s, 2m, 1h; a bare number is milliseconds)`,
    );
  }
  if (ms < minMs || ms > maxMs)
    throw new ConfigError(key, `${shown(value)} is outside ${describeMs(minMs)}–${describeMs(maxMs)}`);
  return ms;
}

const OFF_WORDS = Object.freeze(["", "off", "0", "false", "no"]);

/**
 * A period that may be switched off: "" (the default), off, 0, false or no give undefined,
 * anything else is a duration as parseDuration reads it.
 */
export function parseOptionalDuration(key: string, value: unknown, minMs: number, maxMs: number): number | undefined {
  if (OFF_WORDS.includes(asText(key, value).toLowerCase())) return undefined;
  return parseDuration(key, value, minMs, maxMs);
}

function describeMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

/** true/false, 1/0, yes/no, on/off, any case. */
export function parseBoolean(key: string, value: unknown): boolean {
  const text = asText(key, value).toLowerCase();
  if (TRUE_WORDS.includes(text)) return true;
  if (FALSE_WORDS.includes(text)) return false;
  throw new ConfigError(key, `${shown(value)} is not a boolean (true/false, 1/0, yes/no, on/off)`);
}

/**
 * An activation code or product ID: empty means "not given". The value is a credential, so
 * messages give its length, never its text.
 */
export function parseCredential(key: string, value: unknown): string | undefined {
  const text = asText(key, value);
  if (text === "") return undefined;
  if (text.length > MAX_CREDENTIAL_LENGTH)
    throw new ConfigError(key, `${text.length} characters, at most ${MAX_CREDENTIAL_LENGTH}`);
  // for…of, not charCodeAt(i), which makes the walk quadratic on XS. It steps by code point, but
  // everything before the first refused character is ASCII, so the position it reports is the
  // same as counting UTF-16 units.
  let position = 0;
  for (const character of text) {
    position++;
    const point = character.codePointAt(0)!;
    if (point <= 0x20 || point >= 0x7f) {
      throw new ConfigError(
        key,
        `character ${position} of ${text.length} is a space, control or non-ASCII character (a copy-and-paste slip?)`,
      );
    }
  }
  return text;
}

export function parseLogLevel(key: string, value: unknown): LogLevel {
  const text = asText(key, value).toLowerCase();
  const level = LOG_LEVELS.find((candidate) => candidate === text);
  if (level === undefined) throw new ConfigError(key, `${shown(value)} is not one of ${LOG_LEVELS.join(", ")}`);
  return level;
}
