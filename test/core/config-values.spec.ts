// The scalar parsers (device/config-values.ts): strings as mcconfig delivers them (and the JSON
// numbers/booleans a manifest may hold) become checked values, and every bad value throws a
// ConfigError that names the key and shows the value.

import { ConfigError } from "../../device/config-error.js";
import {
  parseBoolean,
  parseCredential,
  parseDuration,
  parseDurationOrOff,
  parseInteger,
  parseLogLevel,
  shown,
} from "../../device/config-values.js";
import * as assert from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { rejected } from "./config-rejected.js";

suite("config values", () => {
  test("ConfigError constructs where Error.prototype.name is read-only, as on Moddable (built-ins frozen at build time)", () => {
    const original = Object.getPrototypeOf(ConfigError.prototype) as object;
    const frozen = Object.freeze(
      Object.create(Error.prototype, { name: { value: "Error", writable: false } }) as object,
    );
    Object.setPrototypeOf(ConfigError.prototype, frozen);
    try {
      const error = new ConfigError("batch", "bad");
      assert.equal(error.name, "ConfigError");
      assert.equal(error.message, "config batch: bad");
      assert.ok(error instanceof Error, "still an Error");
    } finally {
      Object.setPrototypeOf(ConfigError.prototype, original);
    }
  });

  test("integers: decimal and 0x hex, as text or JSON numbers, inside the range", () => {
    assert.equal(parseInteger("batch", "20", 1, 100), 20);
    assert.equal(parseInteger("batch", " 7 ", 1, 100), 7, "surrounding spaces are trimmed");
    assert.equal(parseInteger("batch", 42, 1, 100), 42, "a JSON number from the manifest");
    assert.equal(parseInteger("address", "0x44", 0, 0x7f), 0x44);
    assert.equal(parseInteger("batch", "1", 1, 100), 1, "the minimum is allowed");
    assert.equal(parseInteger("batch", "100", 1, 100), 100, "the maximum is allowed");
  });

  test("integers: anything else names the key and the value", () => {
    rejected(() => parseInteger("batch", "ten", 1, 100), "batch", '"ten"', "not a whole number");
    rejected(() => parseInteger("batch", "1.5", 1, 100), "batch", "not a whole number");
    rejected(() => parseInteger("batch", "-3", 1, 100), "batch", "not a whole number");
    rejected(() => parseInteger("batch", "1e3", 1, 100), "batch", "not a whole number");
    rejected(() => parseInteger("batch", "", 1, 100), "batch", "not a whole number");
    rejected(() => parseInteger("batch", "0", 1, 100), "batch", "outside 1–100");
    rejected(() => parseInteger("batch", "101", 1, 100), "batch", "outside 1–100");
    rejected(() => parseInteger("batch", 2.5, 1, 100), "batch", "not a whole number");
    rejected(() => parseInteger("batch", null, 1, 100), "batch", "expected text, got null");
    rejected(() => parseInteger("batch", {}, 1, 100), "batch", "expected text, got object");
  });

  test("durations: units ms, s, m, h; a bare number is milliseconds", () => {
    assert.equal(parseDuration("interval", "500ms", 100, 86_400_000), 500);
    assert.equal(parseDuration("interval", "10s", 100, 86_400_000), 10_000);
    // "10" and the JSON number 10 meant 10 s before the one grammar; now they are 10 ms, below 100 ms.
    rejected(() => parseDuration("interval", "10", 100, 86_400_000), "interval", '"10"', "outside 100ms–24h");
    rejected(() => parseDuration("interval", 10, 100, 86_400_000), "interval", '"10"', "outside 100ms–24h");
    assert.equal(parseDuration("interval", "1.5s", 100, 86_400_000), 1_500);
    assert.equal(parseDuration("interval", "2m", 100, 86_400_000), 120_000);
    assert.equal(parseDuration("interval", "1H", 100, 86_400_000), 3_600_000, "units in any case");
  });

  test("durations: a bare number, as text or as a JSON number, is whole milliseconds", () => {
    assert.equal(parseDuration("interval", "500", 100, 86_400_000), 500);
    assert.equal(parseDuration("interval", 500, 100, 86_400_000), 500, "a JSON number from the manifest");
    assert.equal(parseDuration("interval", "10000", 100, 86_400_000), 10_000);
    assert.equal(parseDuration("keepAlive", 30_000, 5_000, 3_600_000), 30_000);
    assert.equal(parseDuration("interval", " 250 ", 100, 86_400_000), 250, "surrounding spaces are trimmed");
    assert.equal(
      parseDuration("interval", "250.0", 100, 86_400_000),
      250,
      "a decimal point is fine while the value stays whole",
    );
    assert.equal(parseDuration("interval", "86400000", 100, 86_400_000), 86_400_000, "the maximum, in milliseconds");
    rejected(
      () => parseDuration("interval", "1.5", 0, 86_400_000),
      "interval",
      "whole milliseconds",
      "a bare number is milliseconds",
    );
    rejected(() => parseDuration("interval", "86400001", 100, 86_400_000), "interval", "outside 100ms–24h");
    rejected(() => parseDuration("keepAlive", 45, 5_000, 3_600_000), "keepAlive", '"45"', "outside 5s–1h");
  });

  test("durations: the same value with and without its unit", () => {
    for (const [bare, withUnit] of [
      ["500", "500ms"],
      ["10000", "10s"],
      ["120000", "2m"],
      ["3600000", "1h"],
      ["1500", "1.5s"],
    ] as const) {
      assert.equal(
        parseDuration("interval", bare, 100, 86_400_000),
        parseDuration("interval", withUnit, 100, 86_400_000),
        `${bare} = ${withUnit}`,
      );
    }
  });

  test("durations: malformed, fractional milliseconds or out of range", () => {
    const error = rejected(
      () => parseDuration("interval", "10 s", 100, 86_400_000),
      "interval",
      '"10 s"',
      "not a duration",
    );
    assert.equal(
      error.message,
      'config interval: "10 s" is not a duration in whole milliseconds (e.g. 500ms, 10s, 2m, 1h; a bare number is milliseconds)',
    );
    rejected(() => parseDuration("interval", "10sec", 100, 86_400_000), "interval", "not a duration");
    rejected(() => parseDuration("interval", "-1s", 100, 86_400_000), "interval", "not a duration");
    rejected(() => parseDuration("interval", "0.0001s", 0, 86_400_000), "interval", "whole milliseconds");
    rejected(() => parseDuration("interval", "50ms", 100, 86_400_000), "interval", "outside 100ms–24h");
    rejected(() => parseDuration("interval", "2d", 100, 86_400_000), "interval", "not a duration");
    rejected(() => parseDuration("keepAlive", "2h", 5_000, 3_600_000), "keepAlive", "outside 5s–1h");
  });

  test("durations that can be off: 0 or off in any case, else a duration with its range", () => {
    for (const off of ["off", "OFF", " off ", "0", "0s"])
      assert.equal(parseDurationOrOff("memory", off, 1_000, 86_400_000), 0, JSON.stringify(off));
    assert.equal(parseDurationOrOff("memory", 0, 1_000, 86_400_000), 0, "a JSON 0");
    assert.equal(parseDurationOrOff("memory", "30s", 1_000, 86_400_000), 30_000);
    assert.equal(parseDurationOrOff("memory", "2m", 1_000, 86_400_000), 120_000);
    assert.equal(parseDurationOrOff("memory", "5000", 1_000, 86_400_000), 5_000, "a bare number is milliseconds");
    rejected(() => parseDurationOrOff("memory", "500ms", 1_000, 86_400_000), "memory", "outside 1s–24h");
    rejected(() => parseDurationOrOff("memory", "sometimes", 1_000, 86_400_000), "memory", "not a duration");
    rejected(() => parseDurationOrOff("memory", "", 1_000, 86_400_000), "memory", "not a duration");
  });

  test("booleans: the usual words in any case", () => {
    for (const word of ["true", "TRUE", "1", "yes", "on", true])
      assert.equal(parseBoolean("flag", word), true, String(word));
    for (const word of ["false", "False", "0", "no", "off", false])
      assert.equal(parseBoolean("flag", word), false, String(word));
    rejected(
      () => parseBoolean("reactivateOnAuthFailure", "maybe"),
      "reactivateOnAuthFailure",
      '"maybe"',
      "not a boolean",
    );
    rejected(() => parseBoolean("flag", ""), "flag", "not a boolean");
    rejected(() => parseBoolean("flag", 2), "flag", "not a boolean");
  });

  test("credentials: empty means not given; the text never appears in messages", () => {
    assert.equal(parseCredential("activationCode", ""), undefined);
    assert.equal(parseCredential("activationCode", "  "), undefined, "only spaces is empty");
    const code = "aBcD1234eFgH5678iJkL9012mNoP3456qR";
    assert.equal(parseCredential("activationCode", code), code);
    assert.equal(parseCredential("productId", 1234), "1234", "a JSON number is kept as text");
    const secret = "s3cret-code";
    for (const bad of [`${secret} x`, `${secret}\u00e9`, `${secret}\t1`]) {
      const error = assert.throws(
        () => parseCredential("activationCode", bad),
        (e) => e instanceof ConfigError,
      ) as ConfigError;
      assert.ok(!error.message.includes(secret), `the code is not echoed: ${error.message}`);
      assert.ok(error.message.includes(`of ${bad.length}`), `the position is given: ${error.message}`);
    }
    rejected(() => parseCredential("activationCode", "x".repeat(129)), "activationCode", "129 characters, at most 128");
  });

  test("credentials: the refused character's position is exact, counted as before in UTF-16 units", () => {
    const cases: readonly (readonly [string, string])[] = [
      ["\u00e9t\u00e9", "character 1 of 3"],
      ["s3cret-code x", "character 12 of 13"],
      ["s3cret-code\u00e9", "character 12 of 12"],
      ["ab\u{1F600}cd", "character 3 of 6"],
      ["abc\u007f", "character 4 of 4"],
      ["abc\u0000", "character 4 of 4"],
    ];
    for (const [bad, where] of cases) {
      const error = rejected(() => parseCredential("activationCode", bad), "activationCode", where);
      assert.equal(
        error.message,
        `config activationCode: ${where} is a space, control or non-ASCII character (a copy-and-paste slip?)`,
      );
    }
    const longest = `${"a".repeat(64)}~!${"Z9".repeat(31)}`;
    assert.equal(longest.length, 128);
    assert.equal(
      parseCredential("activationCode", longest),
      longest,
      "128 printable ASCII characters, the edges 0x21 and 0x7e included",
    );
  });

  test("shown: quoted, and cut at 48 characters for messages", () => {
    assert.equal(shown("10 s"), '"10 s"');
    assert.equal(shown(42), '"42"');
    assert.equal(shown("x".repeat(60)), `"${"x".repeat(48)}…"`);
  });

  test("log level", () => {
    assert.equal(parseLogLevel("logLevel", "debug"), "debug");
    assert.equal(parseLogLevel("logLevel", "WARN"), "warn");
    rejected(() => parseLogLevel("logLevel", "verbose"), "logLevel", '"verbose"', "debug, info, warn, error");
  });
});
