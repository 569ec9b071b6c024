// Pure parts of the local platform: dates, request checks, routes, notification payloads.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../../device/config-error.js";
import { parseDuration } from "../../device/config-values.js";
import { formatIso, parsePlatformDate } from "../../emulator/dates.js";
import { parseDurationMs } from "../../emulator/durations.js";
import { PlatformError } from "../../emulator/errors.js";
import { NOTIFICATION_MAX_BYTES, notificationArrays } from "../../emulator/payloads.js";
import { resolveTarget } from "../../emulator/routes.js";
import { checkActivation, checkReadQuery, checkWrite, parseJsonObject } from "../../emulator/validate.js";

const refusedWith = (code: string, pattern?: RegExp) => (err: unknown) =>
  err instanceof PlatformError && err.code === code && (pattern === undefined || pattern.test(err.message));

test("dates: the compact form and ISO 8601 name the same instant", () => {
  const expected = Date.UTC(2015, 0, 30, 15, 35, 33);
  assert.equal(parsePlatformDate("20150130153533"), expected);
  assert.equal(parsePlatformDate("2015-01-30T15:35:33.000Z"), expected);
  assert.equal(parsePlatformDate("2015-01-30T15:35:33Z"), expected);
  assert.equal(parsePlatformDate("2015-01-30T16:35:33+01:00"), expected);
  assert.equal(parsePlatformDate("2015-01-30T15:35:33"), expected, "no zone means UTC");
  assert.equal(parsePlatformDate("2015-01-30T15:35:33.5Z"), expected + 500);
  assert.equal(parsePlatformDate("2015-01-30"), Date.UTC(2015, 0, 30));
  assert.equal(formatIso(expected), "2015-01-30T15:35:33.000Z");
});

test("dates: impossible or malformed dates are refused", () => {
  for (const bad of [
    "20150230000000",
    "20151301000000",
    "20150101240000",
    "2015013015353",
    "201501301535330",
    "2015-02-30T00:00:00Z",
    "2015-01-30T15:35:33+25:00",
    "yesterday",
    "",
    "1969-12-31T23:59:59Z",
    "1425048000",
  ]) {
    assert.equal(parsePlatformDate(bad), undefined, bad);
  }
});

test("activation: needs a code; productId is optional; every fault is the platform's one message", () => {
  assert.deepEqual(checkActivation({ activationCode: "abc" }), { activationCode: "abc" });
  assert.deepEqual(checkActivation({ activationCode: "abc", productId: "p1" }), {
    activationCode: "abc",
    productId: "p1",
  });
  for (const bad of [{}, { activationCode: 5 }, { activationCode: "" }, { activationCode: "a", productId: 3 }]) {
    assert.throws(() => checkActivation(bad), refusedWith("4.00", /^Error creating thing$/));
  }
});

test("write: keys, value types, datetime forms and geo are checked", () => {
  const items = checkWrite({
    values: [
      { key: "fun", value: "9000" },
      { key: "a.b-c_D9", value: 1.5, datetime: "20150130153533", geo: { lat: 41.41, long: 2.21 } },
      { key: "arr", value: [1, true, null], datetime: "2015-01-30T15:35:33.250Z" },
      { key: "obj", value: { on: true } },
    ],
  });
  assert.deepEqual(
    items.map((i) => i.key),
    ["fun", "a.b-c_D9", "arr", "obj"],
  );
  assert.equal(items[0]?.datetime, undefined);
  assert.equal(items[1]?.datetime, Date.UTC(2015, 0, 30, 15, 35, 33));
  assert.deepEqual(items[1]?.geo, { lat: 41.41, long: 2.21 });
  assert.equal(items[2]?.datetime, Date.UTC(2015, 0, 30, 15, 35, 33, 250));

  const refused: [unknown, RegExp][] = [
    [{}, /values must be an array/],
    [{ values: [] }, /must not be empty/],
    [{ values: {} }, /values must be an array/],
    [{ values: ["x"] }, /values\[0\] must be an object/],
    [{ values: [{ key: "bad key", value: 1 }] }, /values\[0\]\.key/],
    [{ values: [{ key: "é", value: 1 }] }, /values\[0\]\.key/],
    [{ values: [{ key: "", value: 1 }] }, /values\[0\]\.key/],
    [{ values: [{ key: "k", value: 1 }, { key: "k" }] }, /values\[1\]\.value/],
    [{ values: [{ key: "k", value: null }] }, /values\[0\]\.value/],
    [{ values: [{ key: "k", value: true }] }, /values\[0\]\.value/],
    [{ values: [{ key: "k", value: 1, datetime: "2015-13-01" }] }, /datetime/],
    [{ values: [{ key: "k", value: 1, datetime: 1422632133 }] }, /datetime/],
    [{ values: [{ key: "k", value: 1, geo: { lat: 91, long: 0 } }] }, /geo/],
    [{ values: [{ key: "k", value: 1, geo: { lat: 1 } }] }, /geo/],
  ];
  for (const [body, message] of refused) {
    assert.throws(
      () => checkWrite(body as Record<string, unknown>),
      refusedWith("4.00", message),
      JSON.stringify(body),
    );
  }
});

test("bodies: malformed JSON, non-object JSON and invalid UTF-8 are 4.00", () => {
  assert.deepEqual(parseJsonObject(Buffer.from('{"a":1}')), { a: 1 });
  for (const bad of ["{", "[1]", "3", "null", ""]) {
    assert.throws(() => parseJsonObject(Buffer.from(bad)), refusedWith("4.00"), bad);
  }
  assert.throws(() => parseJsonObject(Buffer.from([0x7b, 0xff, 0x7d])), refusedWith("4.00", /Malformed/));
});

test("read query: limit defaults to 1 and is capped at 100; dates in both forms, inclusive", () => {
  assert.deepEqual(checkReadQuery(new Map()), { limit: 1, startDate: 0, endDate: Number.MAX_SAFE_INTEGER });
  assert.equal(checkReadQuery(new Map([["limit", "10"]])).limit, 10);
  assert.equal(checkReadQuery(new Map([["limit", "500"]])).limit, 100);
  const q = checkReadQuery(
    new Map([
      ["startDate", "20150101000000"],
      ["endDate", "2015-01-02T00:00:00Z"],
    ]),
  );
  assert.equal(q.startDate, Date.UTC(2015, 0, 1));
  assert.equal(q.endDate, Date.UTC(2015, 0, 2));
  for (const [name, value] of [
    ["limit", "0"],
    ["limit", "-1"],
    ["limit", "ten"],
    ["limit", "1.5"],
    ["startDate", "soon"],
    ["endDate", "2015"],
  ]) {
    assert.throws(
      () => checkReadQuery(new Map([[name as string, value as string]])),
      refusedWith("4.00"),
      `${name}=${value}`,
    );
  }
  assert.throws(
    () =>
      checkReadQuery(
        new Map([
          ["startDate", "20150102000000"],
          ["endDate", "20150101000000"],
        ]),
      ),
    refusedWith("4.00", /after/),
  );
});

const uri = (path: string[], query: string[] = []) => [
  ...path.map((p) => ({ name: "Uri-Path", value: Buffer.from(p) })),
  ...query.map((q) => ({ name: "Uri-Query", value: Buffer.from(q) })),
];

test("routes: the three paths, with or without a trailing empty segment", () => {
  assert.deepEqual(resolveTarget(uri(["v2", "things"])).route, { kind: "activate" });
  assert.deepEqual(resolveTarget(uri(["v2", "things", ""])).route, { kind: "activate" });
  assert.deepEqual(resolveTarget(uri(["v2", "things", "TOK"])).route, { kind: "thing", token: "TOK" });
  assert.deepEqual(resolveTarget(uri(["v2", "things", "TOK", "resources", "fun"])).route, {
    kind: "resource",
    token: "TOK",
    key: "fun",
  });
  for (const bad of [
    [],
    ["v2"],
    ["v1", "things"],
    ["v2", "things", "TOK", "values", "fun"],
    ["v2", "things", "TOK", "resources"],
    ["v2", "things", "TOK", "resources", "fun", "more"],
    ["v2", "things", "", "resources", "fun"],
  ]) {
    assert.throws(() => resolveTarget(uri(bad)), refusedWith("4.04"), bad.join("/"));
  }
});

test("routes: Uri-Query options and a query inside the last Uri-Path segment are both read", () => {
  const standard = resolveTarget(
    uri(["v2", "things", "TOK", "resources", "fun"], ["limit=10", "startDate=20150101000000"]),
  );
  assert.equal(standard.query.get("limit"), "10");
  assert.equal(standard.query.get("startDate"), "20150101000000");
  const embedded = resolveTarget(uri(["v2", "things", "TOK", "resources", "fun?limit=15&endDate=20150101000000"]));
  assert.deepEqual(embedded.route, { kind: "resource", token: "TOK", key: "fun" });
  assert.equal(embedded.query.get("limit"), "15");
  assert.equal(embedded.query.get("endDate"), "20150101000000");
  assert.equal(resolveTarget(uri(["v2", "things", "TOK?keepAlive=5000"])).query.get("keepAlive"), "5000");
});

test("notifications: items split into arrays that each fit one datagram, order kept", () => {
  const items = Array.from({ length: 60 }, (_, i) => JSON.stringify({ key: "k", value: "x".repeat(40), n: i }));
  const arrays = notificationArrays(items);
  assert.ok(arrays.length > 1, "60 items of ~60 bytes need more than one notification");
  for (const a of arrays) assert.ok(a.length <= NOTIFICATION_MAX_BYTES, `${a.length} bytes`);
  const back = arrays.flatMap((a) => JSON.parse(a.toString()) as { n: number }[]).map((i) => i.n);
  assert.deepEqual(
    back,
    items.map((_, i) => i),
  );
  assert.deepEqual(notificationArrays(['{"a":1}']).map(String), ['[{"a":1}]']);
});

test("durations: the platform's flags read the device's grammar; a bare number is milliseconds", () => {
  assert.equal(parseDurationMs("500"), 500);
  assert.equal(parseDurationMs("500ms"), 500);
  assert.equal(parseDurationMs("10s"), 10_000);
  assert.equal(parseDurationMs("1.5S"), 1_500);
  assert.equal(parseDurationMs("2m"), 120_000);
  assert.equal(parseDurationMs("1h"), 3_600_000);
  assert.equal(parseDurationMs(" 60000 "), 60_000);
  for (const bad of ["", "10 s", "10sec", "-1", "1e3", "0x10", "2d", "1.5", "0.0001s", "fast"])
    assert.equal(parseDurationMs(bad), undefined, JSON.stringify(bad));
});

test("durations: the platform's parser and the device's (device/config-values.ts) agree on every input", () => {
  const device = (text: string): number | undefined => {
    try {
      return parseDuration("d", text, 0, Number.MAX_SAFE_INTEGER);
    } catch (error) {
      if (error instanceof ConfigError) return undefined;
      throw error;
    }
  };
  const inputs = [
    "0",
    "1",
    "500",
    "60000",
    "86400000",
    "250.0",
    "1.5",
    "500ms",
    "500MS",
    "10s",
    "1.5s",
    "0.5s",
    "2m",
    "2.5m",
    "1h",
    "24h",
    "0.001s",
    "0.0001s",
    "",
    " ",
    "10 s",
    "10sec",
    "s",
    "ms",
    ".5s",
    "5.s",
    "-1",
    "+1",
    "1e3",
    "0x10",
    "2d",
    "1h30m",
    "fast",
    " 7s ",
    "9007199254740993",
    "9999999999999h",
  ];
  for (const text of inputs) assert.equal(parseDurationMs(text), device(text), JSON.stringify(text));
});
