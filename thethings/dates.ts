// Dates as theThings.IO speaks them [thethings-coap-api.md]: the device sends `YYYYMMDDHHmmss`
// (UTC), reads may return either that form or ISO 8601 (`2015-01-30T15:35:33.000Z`). Inside the
// firmware a date is a number: milliseconds since 1970-01-01 UTC.

// No RegExp is kept at module level: Moddable preloads this module into flash, and XS crashes in
// exec() on a RegExp stored there (SIGSEGV in fx_RegExp_prototype_exec, SDK 8.2.3).

/** `YYYYMMDDHHmmss`: the form every value item the device writes carries, parsed without a RegExp. */
const COMPACT_LENGTH = 14;

// Date and time, optional seconds and fraction, optional zone; no zone means UTC, the platform's
// only time zone.
function isoPattern(): RegExp {
  return /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;
}

/** The longest date text worth matching (ISO with nanoseconds and a zone is 35 characters). */
const MAX_DATE_TEXT = 40;

/** The last instant both forms can name: 9999-12-31T23:59:59.999Z. */
export const MAX_PLATFORM_DATE_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** True for milliseconds from the epoch up to the end of year 9999. */
export function isPlatformTime(ms: number): boolean {
  return Number.isFinite(ms) && ms >= 0 && ms <= MAX_PLATFORM_DATE_MS;
}

/** `YYYYMMDDHHmmss` in UTC; the sub-second part is dropped. Throws RangeError outside 1970..9999. */
export function formatCompactDate(ms: number): string {
  if (!isPlatformTime(ms)) throw new RangeError(`not a platform date: ${ms}`);
  const date = new Date(ms);
  return (
    pad(date.getUTCFullYear(), 4) +
    pad(date.getUTCMonth() + 1, 2) +
    pad(date.getUTCDate(), 2) +
    pad(date.getUTCHours(), 2) +
    pad(date.getUTCMinutes(), 2) +
    pad(date.getUTCSeconds(), 2)
  );
}

/** Milliseconds since the epoch from either form, or undefined for anything else (never throws). */
export function parsePlatformDate(text: unknown): number | undefined {
  if (typeof text !== "string" || text.length > MAX_DATE_TEXT) return undefined;
  if (text.length === COMPACT_LENGTH && allDigits(text)) {
    const field = (start: number, end: number): number => Number(text.slice(start, end));
    return utc(field(0, 4), field(4, 6), field(6, 8), field(8, 10), field(10, 12), field(12, 14), 0, 0);
  }
  const iso = isoPattern().exec(text);
  if (iso === null) return undefined;
  // Only the first three fraction digits are milliseconds; finer digits are truncated.
  const ms = Number((iso[7] ?? "").padEnd(3, "0").slice(0, 3));
  const offset = zoneOffsetMinutes(iso[8] ?? "Z");
  if (offset === undefined) return undefined;
  return utc(num(iso[1]), num(iso[2]), num(iso[3]), num(iso[4]), num(iso[5]), num(iso[6] ?? "0"), ms, offset);
}

/** for…of, not charCodeAt(i): XS keeps strings as UTF-8, where indexing is quadratic (kernel/utf8.ts). */
function allDigits(text: string): boolean {
  for (const character of text) {
    if (character < "0" || character > "9") return false;
  }
  return true;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

function num(digits: string | undefined): number {
  return Number(digits);
}

function zoneOffsetMinutes(zone: string): number | undefined {
  if (zone === "Z") return 0;
  const sign = zone.charCodeAt(0) === 0x2d ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 23 || minutes > 59) return undefined;
  return sign * (hours * 60 + minutes);
}

// Rejects fields out of range (month 13, February 30th, hour 24 ...) by checking that Date.UTC
// did not roll them over, and instants before the epoch or past year 9999.
function utc(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  ms: number,
  offsetMinutes: number,
): number | undefined {
  const local = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const back = new Date(local);
  if (
    back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== mo - 1 ||
    back.getUTCDate() !== d ||
    back.getUTCHours() !== h ||
    back.getUTCMinutes() !== mi ||
    back.getUTCSeconds() !== s
  ) {
    return undefined;
  }
  const instant = local - offsetMinutes * 60_000;
  return isPlatformTime(instant) ? instant : undefined;
}
