// The scalar settings: text as the mcconfig command line, a PC flag, a form field or a value
// written on the platform gives it (or the JSON number or boolean a manifest may hold) becomes a
// checked value, or a ConfigError that names the key and shows the value. Each parser stands on
// its own, so every front end validates with the same words; keep the messages stable, callers
// and tests match them. The check* functions are the same parsers answering a Refusal instead
// of throwing, for values that arrive while the device runs (settings written on the platform):
// a refused value there is an expected input, and xsbug breaks on every exception.
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

/** Why a check refused a value: the problem, without the key (ConfigError adds it). */
export interface Refusal {
  readonly refused: string;
}

export function isRefusal(result: unknown): result is Refusal {
  return typeof result === "object" && result !== null && "refused" in result;
}

function refuse(problem: string): Refusal {
  return { refused: problem };
}

function orThrow<T>(key: string, result: T | Refusal): T {
  if (isRefusal(result)) throw new ConfigError(key, result.refused);
  return result;
}

/** Manifest defaults may be JSON numbers or booleans; the command line gives strings. */
export function textOf(value: unknown): string | Refusal {
  if (typeof value === "string") return value.trim();
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return refuse(`expected text, got ${value === null ? "null" : typeof value}`);
}

export function asText(key: string, value: unknown): string {
  return orThrow(key, textOf(value));
}

/** A whole number, decimal or 0x hex, in [min, max]. */
export function checkInteger(value: unknown, min: number, max: number): number | Refusal {
  const text = textOf(value);
  if (isRefusal(text)) return text;
  const number = /^(?:\d+|0x[0-9a-f]+)$/i.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(number)) return refuse(`${shown(value)} is not a whole number`);
  if (number < min || number > max) return refuse(`${shown(value)} is outside ${min}–${max}`);
  return number;
}

export function parseInteger(key: string, value: unknown, min: number, max: number): number {
  return orThrow(key, checkInteger(value, min, max));
}

/**
 * A duration in milliseconds: a number with a unit (`500ms`, `10s`, `2m`, `1h`), or a bare
 * number of milliseconds, which is what a JSON number in the manifest is too. The one grammar of
 * every front end: the mcconfig line, the manifest, the PC runner's flags (emulator/durations.ts
 * repeats it for the local platform, which imports nothing from the core; a test keeps the two
 * equal). The result must be a whole number of milliseconds in [minMs, maxMs].
 */
export function checkDuration(value: unknown, minMs: number, maxMs: number): number | Refusal {
  const text = textOf(value);
  if (isRefusal(text)) return text;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.toLowerCase());
  const ms = match === null ? Number.NaN : Number(match[1]) * DURATION_UNITS[match[2] ?? "ms"]!;
  if (!Number.isSafeInteger(ms)) {
    return refuse(
      `${shown(value)} is not a duration in whole milliseconds (e.g. 500ms, 10s, 2m, 1h; a bare number is milliseconds)`,
    );
  }
  if (ms < minMs || ms > maxMs)
    return refuse(`${shown(value)} is outside ${formatDuration(minMs)}–${formatDuration(maxMs)}`);
  return ms;
}

export function parseDuration(key: string, value: unknown, minMs: number, maxMs: number): number {
  return orThrow(key, checkDuration(value, minMs, maxMs));
}

/**
 * A duration that 0 or `off` turns off (`0`, `0s`, `off`, any case; the result is 0): otherwise a
 * duration as parseDuration takes it, in [minMs, maxMs].
 */
export function checkDurationOrOff(value: unknown, minMs: number, maxMs: number): number | Refusal {
  if (typeof value === "string" && value.trim().toLowerCase() === "off") return 0;
  const ms = checkDuration(value, 0, maxMs);
  if (isRefusal(ms) || ms === 0 || ms >= minMs) return ms;
  return refuse(`${shown(value)} is outside ${formatDuration(minMs)}–${formatDuration(maxMs)} (0 turns it off)`);
}

export function parseDurationOrOff(key: string, value: unknown, minMs: number, maxMs: number): number {
  return orThrow(key, checkDurationOrOff(value, minMs, maxMs));
}

/** Whole milliseconds in the grammar parseDuration reads, in the largest unit that divides them (`90s`, `2m`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
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

export function checkLogLevel(value: unknown): LogLevel | Refusal {
  const text = textOf(value);
  if (isRefusal(text)) return text;
  const lower = text.toLowerCase();
  const level = LOG_LEVELS.find((candidate) => candidate === lower);
  return level === undefined ? refuse(`${shown(value)} is not one of ${LOG_LEVELS.join(", ")}`) : level;
}

export function parseLogLevel(key: string, value: unknown): LogLevel {
  return orThrow(key, checkLogLevel(value));
}

/** One of `choices`, any case. */
export function parseChoice<T extends string>(key: string, value: unknown, choices: readonly T[]): T {
  const text = asText(key, value).toLowerCase();
  const choice = choices.find((candidate) => candidate === text);
  if (choice === undefined) throw new ConfigError(key, `${shown(value)} is not one of ${choices.join(", ")}`);
  return choice;
}

/** IEEE 802.11: an SSID is 1–32 bytes (the SDK's drivers refuse longer: "ssid too long - 32 bytes max"). */
const MAX_SSID_BYTES = 32;

/** A Wi-Fi network name: 1–32 bytes of UTF-8, no control characters. Not trimmed: spaces can be part of it. */
export function parseSsid(key: string, value: unknown): string {
  if (typeof value !== "string" || value === "") throw new ConfigError(key, "the network name is empty");
  let bytes = 0;
  for (const character of value) {
    const point = character.codePointAt(0)!;
    if (point < 0x20 || point === 0x7f) throw new ConfigError(key, "the network name holds a control character");
    bytes += point < 0x80 ? 1 : point < 0x800 ? 2 : point < 0x10000 ? 3 : 4;
  }
  if (bytes > MAX_SSID_BYTES)
    throw new ConfigError(key, `the network name is ${bytes} bytes, at most ${MAX_SSID_BYTES}`);
  return value;
}

/**
 * A WPA2 passphrase (IEEE 802.11i: 8–63 printable ASCII characters, or 64 hex digits), or empty
 * for an open network. A credential: messages give its length, never its text. Not trimmed.
 */
export function parseWifiPassword(key: string, value: unknown): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (typeof value !== "string")
    throw new ConfigError(key, `expected text, got ${value === null ? "null" : typeof value}`);
  let length = 0;
  let hex = true;
  for (const character of value) {
    length++;
    const point = character.codePointAt(0)!;
    if (point < 0x20 || point > 0x7e)
      throw new ConfigError(key, `character ${length} is not a printable ASCII character (WPA2 allows only those)`);
    const lower = point | 0x20;
    hex &&= (point >= 0x30 && point <= 0x39) || (lower >= 0x61 && lower <= 0x66);
  }
  if (length < 8) throw new ConfigError(key, `${length} characters, WPA2 needs at least 8`);
  if (length > 64 || (length === 64 && !hex))
    throw new ConfigError(key, `${length} characters, at most 63 (or 64 hex digits)`);
  return value;
}
