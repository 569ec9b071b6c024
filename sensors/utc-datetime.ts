// theThings.IO's value datetime: "YYYYMMDDHHmmss" in UTC (thethings-coap-api.md, "JSON value items").

/**
 * Wall-clock readings before this instant (2020-01-01T00:00:00Z) are treated as "clock not set":
 * a board whose clock SNTP has not set yet counts from 1970, and a value stamped 1970 would be
 * stored in the wrong place for good.
 */
export const MIN_PLAUSIBLE_UTC_MS = 1577836800000;
/** 9999-12-31T23:59:59Z: the last instant a 4-digit year can express. */
const MAX_FORMATTABLE_UTC_MS = 253402300799999;

function pad2(value: number): string {
  return value < 10 ? `0${value}` : `${value}`;
}

/** Whether `utcMs` (milliseconds since 1970 UTC) is a usable wall-clock reading. */
export function isPlausibleUtc(utcMs: number | undefined): utcMs is number {
  return typeof utcMs === "number" && utcMs >= MIN_PLAUSIBLE_UTC_MS && utcMs <= MAX_FORMATTABLE_UTC_MS;
}

/** "YYYYMMDDHHmmss" for `utcMs`; seconds are truncated, never rounded up into the future. */
export function formatUtcDatetime(utcMs: number): string {
  if (!Number.isFinite(utcMs) || utcMs < 0 || utcMs > MAX_FORMATTABLE_UTC_MS) {
    throw new RangeError(`datetime out of range: ${utcMs}`);
  }
  const date = new Date(Math.floor(utcMs / 1000) * 1000);
  return (
    `${date.getUTCFullYear()}`.padStart(4, "0") +
    pad2(date.getUTCMonth() + 1) +
    pad2(date.getUTCDate()) +
    pad2(date.getUTCHours()) +
    pad2(date.getUTCMinutes()) +
    pad2(date.getUTCSeconds())
  );
}

/** The length of every formatted datetime. */
export const UTC_DATETIME_LENGTH = 14;
