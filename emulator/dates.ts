// Dates as theThings.IO speaks them. Its client libraries send `YYYYMMDDHHmmss` (UTC) and its
// reads return ISO 8601, so every date that comes in (a value's datetime, a read's startDate and
// endDate) may take either form. Internally a date is milliseconds since the Unix epoch.

const COMPACT = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/;
// Date, optional time (seconds and fraction optional), optional zone; no zone means UTC, the
// platform's only time zone.
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/** The largest date either form can name: 9999-12-31T23:59:59.999Z. */
export const MAX_DATE_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Milliseconds since the epoch, or undefined if `text` is neither form or names no real instant. */
export function parsePlatformDate(text: string): number | undefined {
  const compact = COMPACT.exec(text);
  if (compact !== null) {
    const [y, mo, d, h, mi, s] = compact.slice(1).map(Number) as [number, number, number, number, number, number];
    return utc(y, mo, d, h, mi, s, 0, 0);
  }
  const iso = ISO.exec(text);
  if (iso === null) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", fraction = "", zone = "Z"] = iso;
  // Only the first three fraction digits are milliseconds; finer digits are truncated.
  const ms = Number(fraction.padEnd(3, "0").slice(0, 3));
  const offset = zoneOffsetMinutes(zone);
  if (offset === undefined) return undefined;
  return utc(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s), ms, offset);
}

/** The ISO 8601 form the platform returns on reads, e.g. `2015-01-30T15:35:33.000Z`. */
export function formatIso(ms: number): string {
  return new Date(ms).toISOString();
}

function zoneOffsetMinutes(zone: string): number | undefined {
  if (zone === "Z") return 0;
  const sign = zone.startsWith("-") ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 23 || minutes > 59) return undefined;
  return sign * (hours * 60 + minutes);
}

// Rejects fields out of range (month 13, February 30th, hour 24, ...) by checking that Date.UTC
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
  return instant >= 0 && instant <= MAX_DATE_MS ? instant : undefined;
}
