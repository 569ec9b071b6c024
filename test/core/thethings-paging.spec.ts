// readHistory against a fake platform store that answers reads exactly as documented: newest
// first, at most `limit`, endDate inclusive, dates in whole seconds (YYYYMMDDHHmmss).
import type { RequestOptions } from "../../coap/client-api.js";
import { ThethingsClient } from "../../thethings/client.js";
import { formatCompactDate, parsePlatformDate } from "../../thethings/dates.js";
import { readHistory, type ValueReader } from "../../thethings/paging.js";
import type { ThingValue } from "../../thethings/values.js";
import { FakeCoapClient, reply } from "../core-fakes/fake-coap-client.js";
import { deepEqual, equal, ok, rejects } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

const TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-ABCDE";
const T0 = Date.UTC(2026, 0, 1);

interface Stored {
  readonly value: unknown;
  readonly at: number;
}

/** A client whose fake endpoint serves reads from `stored`, as the platform would. */
function platformWith(stored: readonly Stored[], isoDates = true) {
  const coap = new FakeCoapClient();
  coap.fallback = (request) => {
    const query = (request as RequestOptions).query ?? {};
    const limit = Math.min(Number(query.limit ?? 1), 100);
    const start = query.startDate === undefined ? 0 : parsePlatformDate(query.startDate)!;
    const end = query.endDate === undefined ? Infinity : parsePlatformDate(query.endDate)!;
    const page = stored
      .filter((s) => s.at >= start && s.at <= end)
      .sort((a, b) => b.at - a.at)
      .slice(0, limit)
      .map((s) => ({
        key: "k",
        value: s.value,
        datetime: isoDates ? new Date(s.at).toISOString() : formatCompactDate(s.at),
      }));
    return reply("2.05", page);
  };
  return { coap, client: new ThethingsClient({ coap, log: () => undefined, thingToken: TOKEN }) };
}

function series(count: number, stepMs: number): Stored[] {
  return Array.from({ length: count }, (_, i) => ({ value: i, at: T0 + i * stepMs }));
}

suite("thethings paging", () => {
  test("reads 250 values across three pages, newest first, none twice, none lost", async () => {
    const { coap, client } = platformWith(series(250, 60_000));
    const history = await readHistory(client, "k", { maxValues: 1000 });
    equal(history.complete, true);
    equal(history.values.length, 250);
    deepEqual(
      history.values.map((v) => v.value),
      Array.from({ length: 250 }, (_, i) => 249 - i),
    );
    equal(coap.requests.length, 3);
    equal(coap.requests[0]!.query?.endDate, undefined, "the first page has no endDate");
    equal(coap.requests[1]!.query?.endDate, formatCompactDate(T0 + 150 * 60_000), "then the oldest returned datetime");
    equal(coap.requests[1]!.query?.limit, 100);
  });

  test("the boundary item comes back on the next page and is dropped", async () => {
    const reads: ThingValue[][] = [];
    const { client } = platformWith(series(150, 1000));
    const reader: ValueReader = {
      read: async (key, options) => {
        const page = await client.read(key, options);
        reads.push(page);
        return page;
      },
    };
    const history = await readHistory(reader, "k", { maxValues: 500 });
    equal(history.values.length, 150);
    equal(reads[1]![0]!.value, 50, "the second page starts with the first page's oldest value");
    equal(new Set(history.values.map((v) => v.value)).size, 150);
  });

  test("sub-second datetimes: endDate is rounded up, so values later in that second are not skipped", async () => {
    // 120 values 100 ms apart: 12 distinct seconds; a page's oldest often sits mid-second.
    const { client } = platformWith(series(120, 100));
    const history = await readHistory(client, "k", { maxValues: 1000, pageLimit: 25 });
    equal(history.complete, true);
    deepEqual(
      history.values.map((v) => v.value),
      Array.from({ length: 120 }, (_, i) => 119 - i),
    );
  });

  test("equal values stored at the same instant both survive the dedupe", async () => {
    const stored = [
      ...series(10, 1000),
      { value: "same", at: T0 + 20_000 },
      { value: "same", at: T0 + 20_000 },
      ...series(10, 1000).map((s) => ({ ...s, at: s.at + 30_000 })),
    ];
    const { client } = platformWith(stored, false);
    // Pages of 11: the first ends on one of the two, the second starts with both.
    const history = await readHistory(client, "k", { maxValues: 100, pageLimit: 11 });
    equal(history.complete, true);
    equal(history.values.length, 22);
    equal(history.values.filter((v) => v.value === "same").length, 2);
  });

  test("stops at maxValues", async () => {
    const { coap, client } = platformWith(series(500, 1000));
    const history = await readHistory(client, "k", { maxValues: 130 });
    equal(history.values.length, 130);
    equal(history.complete, false);
    equal(coap.requests.length, 2);
  });

  test("more than a page of values within one second cannot be paged: stops, incomplete, no loop", async () => {
    const { coap, client } = platformWith(series(30, 0), false);
    const history = await readHistory(client, "k", { maxValues: 100, pageLimit: 10 });
    equal(history.complete, false);
    equal(history.values.length, 10);
    ok(coap.requests.length <= 2, `${coap.requests.length} requests`);
  });

  test("passes startDate and the caller's endDate through", async () => {
    const { coap, client } = platformWith(series(50, 60_000));
    const history = await readHistory(client, "k", {
      maxValues: 100,
      startDate: T0 + 10 * 60_000,
      endDate: T0 + 19 * 60_000,
    });
    deepEqual(
      history.values.map((v) => v.value),
      [19, 18, 17, 16, 15, 14, 13, 12, 11, 10],
    );
    equal(coap.requests[0]!.query?.startDate, formatCompactDate(T0 + 10 * 60_000));
    equal(coap.requests[0]!.query?.endDate, formatCompactDate(T0 + 19 * 60_000));
  });

  test("a platform that ignores endDate does not make it loop", async () => {
    const page = Array.from({ length: 100 }, (_, i) => ({ key: "k", value: i, datetime: T0 + (100 - i) * 1000 }));
    let reads = 0;
    const reader: ValueReader = {
      read: async () => {
        reads++;
        return page;
      },
    };
    const history = await readHistory(reader, "k", { maxValues: 1000 });
    equal(history.values.length, 100);
    equal(history.complete, false);
    equal(reads, 2);
  });

  test("bad options throw RangeError", async () => {
    const reader: ValueReader = { read: async () => [] };
    await rejects(readHistory(reader, "k", { maxValues: 0 }), (e) => e instanceof RangeError);
    await rejects(readHistory(reader, "k", { maxValues: 10, pageLimit: 101 }), (e) => e instanceof RangeError);
  });
});
