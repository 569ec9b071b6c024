// Which wall-clock readings give values a datetime (sensors/utc-datetime.ts).
import { isPlausibleUtc, MIN_PLAUSIBLE_UTC_MS } from "../../sensors/utc-datetime.js";
import { equal } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

suite("sensors: wall clock plausibility", () => {
  test("a wall clock before 2020, past 9999 or undefined counts as not set", () => {
    equal(isPlausibleUtc(undefined), false);
    equal(isPlausibleUtc(0), false);
    equal(isPlausibleUtc(12_345_678), false);
    equal(isPlausibleUtc(MIN_PLAUSIBLE_UTC_MS - 1), false);
    equal(isPlausibleUtc(Number.NaN), false);
    equal(isPlausibleUtc(Number.POSITIVE_INFINITY), false);
    equal(isPlausibleUtc(Date.UTC(10000, 0, 1)), false);
    equal(isPlausibleUtc(MIN_PLAUSIBLE_UTC_MS), true);
    equal(isPlausibleUtc(Date.UTC(2031, 6, 1)), true);
  });
});
