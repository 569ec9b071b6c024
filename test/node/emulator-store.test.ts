// The platform's SQLite store on its own: a file keeps things, codes and values between
// instances; an activation code works once; reads are served by the (thing, key, datetime) index.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import { Store } from "../../emulator/store.js";

const dir = mkdtempSync(join(tmpdir(), "platform-store-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("store: a file keeps things, used codes and values between instances", () => {
  const path = join(dir, "keep.sqlite");
  const first = new Store(path);
  first.addActivationCode("C1");
  assert.equal(first.activate("C1", undefined, "T".repeat(43), 1000), true);
  assert.equal(first.activate("C1", undefined, "U".repeat(43), 1000), false, "a code activates one thing");
  assert.equal(first.activate("NOPE", undefined, "U".repeat(43), 1000), false);
  const thing = first.thingId("T".repeat(43));
  assert.ok(thing !== undefined);
  first.write(thing, [
    { key: "k", value: '"a"', datetime: 5 },
    { key: "k", value: "2", datetime: 7, geo: { lat: 1, long: 2 } },
  ]);
  first.close();

  const second = new Store(path);
  try {
    assert.equal(second.thingId("T".repeat(43)), thing);
    second.addActivationCode("C1");
    assert.equal(second.activate("C1", undefined, "V".repeat(43), 2000), false, "still used after reopening");
    assert.deepEqual(second.read(thing, "k", { limit: 10, startDate: 0, endDate: 100 }), [
      { key: "k", value: "2", datetime: 7, geo: { lat: 1, long: 2 } },
      { key: "k", value: '"a"', datetime: 5 },
    ]);
    assert.equal(second.hasKey(thing, "k"), true);
    assert.equal(second.hasKey(thing, "other"), false);
  } finally {
    second.close();
  }
});

test("store: a write that fails part-way stores none of its values", () => {
  const store = new Store(":memory:");
  try {
    store.addActivationCode("C");
    store.activate("C", undefined, "T".repeat(43), 0);
    const thing = store.thingId("T".repeat(43)) as number;
    // The second value breaks a NOT NULL constraint after the first was inserted.
    const broken = [
      { key: "k", value: "1", datetime: 1 },
      { key: "k", value: null as unknown as string, datetime: 2 },
    ];
    assert.throws(() => store.write(thing, broken), /NOT NULL/);
    assert.equal(store.hasKey(thing, "k"), false, "the first value was rolled back");
    assert.throws(
      () => store.write(thing + 1, [{ key: "k", value: "1", datetime: 1 }]),
      /FOREIGN KEY/,
      "no values for a thing that does not exist",
    );
  } finally {
    store.close();
  }
});

test("store: reads of a key in a date range use the (thing, key, datetime) index", () => {
  const path = join(dir, "plan.sqlite");
  new Store(path).close();
  const db = new Database(path);
  try {
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN SELECT key, value, datetime, geo_lat, geo_long FROM thing_values
      WHERE thing = ? AND key = ? AND datetime BETWEEN ? AND ? ORDER BY datetime DESC, id DESC LIMIT ?`)
      .all(1, "k", 0, 1, 10) as { detail: string }[];
    const details = plan.map((row) => row.detail).join("; ");
    assert.match(
      details,
      /USING INDEX thing_values_by_key_and_date \(thing=\? AND key=\? AND datetime>\? AND datetime<\?\)/,
    );
    assert.doesNotMatch(details, /TEMP B-TREE/, "the order comes from the index, no sort step");
  } finally {
    db.close();
  }
});

test("store: a file with an unknown schema version is refused", () => {
  const path = join(dir, "future.sqlite");
  const db = new Database(path);
  db.pragma("user_version = 99");
  db.close();
  assert.throws(() => new Store(path), /schema version 99/);
});
