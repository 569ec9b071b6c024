// The value datetime (sensors/utc-datetime.ts): YYYYMMDDHHmmss in UTC.
import { formatUtcDatetime, isPlausibleUtc, MIN_PLAUSIBLE_UTC_MS } from "../../sensors/utc-datetime.js";
import { equal, throws } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

suite("sensors: UTC datetime", () => {
  test("formats as YYYYMMDDHHmmss in UTC", () => {
    equal(formatUtcDatetime(Date.UTC(2015, 0, 1, 0, 0, 0)), "20150101000000");
    equal(formatUtcDatetime(Date.UTC(2024, 11, 31, 23, 59, 59)), "20241231235959");
    equal(formatUtcDatetime(Date.UTC(2024, 1, 29, 9, 5, 7)), "20240229090507");
    equal(formatUtcDatetime(0), "19700101000000");
  });

  test("sub-second parts are truncated, never rounded into the next second", () => {
    equal(formatUtcDatetime(Date.UTC(2024, 11, 31, 23, 59, 59, 999)), "20241231235959");
  });

  test("out-of-range instants throw RangeError", () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, Date.UTC(10000, 0, 1)]) {
      throws(() => formatUtcDatetime(bad), (e) => e instanceof RangeError, String(bad));
    }
  });

  test("a wall clock before 2020 or undefined counts as not set", () => {
    equal(isPlausibleUtc(undefined), false);
    equal(isPlausibleUtc(0), false);
    equal(isPlausibleUtc(12_345_678), false);
    equal(isPlausibleUtc(MIN_PLAUSIBLE_UTC_MS - 1), false);
    equal(isPlausibleUtc(Number.NaN), false);
    equal(isPlausibleUtc(MIN_PLAUSIBLE_UTC_MS), true);
    equal(isPlausibleUtc(Date.UTC(2031, 6, 1)), true);
  });
});
