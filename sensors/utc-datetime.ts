// Which wall-clock readings telemetry trusts for a value's datetime. The text form,
// "YYYYMMDDHHmmss" UTC, is thethings/dates.ts formatCompactDate, the one the client writes.

/**
 * Wall-clock readings before this instant (2020-01-01T00:00:00Z) are treated as "clock not set":
 * a board whose clock SNTP has not set yet counts from 1970, and a value stamped 1970 would be
 * stored in the wrong place for good.
 */
export const MIN_PLAUSIBLE_UTC_MS = 1577836800000;
/** 9999-12-31T23:59:59Z: the last second a 4-digit year can express. */
const MAX_FORMATTABLE_UTC_MS = 253402300799000;

/** Whether `utcMs` (milliseconds since 1970 UTC) is a usable wall-clock reading. */
export function isPlausibleUtc(utcMs: number | undefined): utcMs is number {
  return typeof utcMs === "number" && utcMs >= MIN_PLAUSIBLE_UTC_MS && utcMs <= MAX_FORMATTABLE_UTC_MS;
}
