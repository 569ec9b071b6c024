// The dashboard's parts without HTTP: downsampling, paging through the read path, CSV rows, the
// outputs declaration, the live hub's bounds, the access rules, and the page's reading of
// command values against the device's own.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDigitalLevel, parsePwmDuty } from "../../device/command-values.js";
import { checkAccess, isLoopback, tokenProblem } from "../../emulator/dashboard/access.js";
import { Downsampler } from "../../emulator/dashboard/downsample.js";
import { csvRow, numberOf } from "../../emulator/dashboard/history.js";
import { type LiveClient, LiveHub, MAX_PENDING_ITEMS } from "../../emulator/dashboard/live.js";
import { parseOutputs } from "../../emulator/dashboard/outputs.js";
import { readPages } from "../../emulator/dashboard/pages.js";
import { parsePlatformDate } from "../../emulator/dates.js";
import type { StoredValue } from "../../emulator/store.js";

test("downsample: up to maxPoints values come back as they are, sorted by time", () => {
  const d = new Downsampler({ start: 0, end: 1000, maxPoints: 10 });
  for (const t of [900, 100, 500, 500, 0]) d.add(t, t / 100);
  assert.deepEqual(d.result(), { t: [0, 100, 500, 500, 900], v: [0, 1, 5, 5, 9], downsampled: false });
});

test("downsample: past maxPoints, each bucket's min and max in time order; never more than maxPoints", () => {
  const d = new Downsampler({ start: 0, end: 100_000, maxPoints: 2000 });
  for (let t = 99_999; t >= 0; t--) d.add(t, t === 31_337 ? 1e6 : t === 77_777 ? -1e6 : Math.sin(t / 1000));
  const s = d.result();
  assert.equal(s.downsampled, true);
  assert.ok(s.t.length <= 2000 && s.t.length > 1900, `${s.t.length} points`);
  assert.ok(
    s.t.every((t, i) => i === 0 || t >= (s.t[i - 1] as number)),
    "ascending",
  );
  assert.equal(Math.max(...s.v), 1e6, "the spike up is kept");
  assert.equal(Math.min(...s.v), -1e6, "the spike down is kept");
  assert.equal(s.t[s.v.indexOf(1e6)], 31_337, "at its own time");
});

/** A store's read as the platform does it: newest first, equal datetimes the later-written first. */
function fakeRead(values: readonly StoredValue[]) {
  const queries: Map<string, string>[] = [];
  const ordered = values.map((v, id) => ({ v, id })).sort((a, b) => b.v.datetime - a.v.datetime || b.id - a.id);
  const read = (query: ReadonlyMap<string, string>): StoredValue[] => {
    queries.push(new Map(query));
    const limit = Number(query.get("limit"));
    const start = parsePlatformDate(query.get("startDate") ?? "") ?? 0;
    const endText = query.get("endDate");
    const end = endText === undefined ? Number.MAX_SAFE_INTEGER : (parsePlatformDate(endText) as number);
    return ordered
      .filter(({ v }) => v.datetime >= start && v.datetime <= end)
      .slice(0, limit)
      .map(({ v }) => v);
  };
  return { read, queries };
}

const value = (datetime: number, n: number): StoredValue => ({ key: "k", value: String(n), datetime });

test("pages: 100 at a time with endDate the oldest seen; values on a page edge come once", async () => {
  const values: StoredValue[] = [];
  for (let i = 0; i < 150; i++) values.push(value(10_000 + i, i));
  for (let i = 0; i < 40; i++) values.push(value(9_000, 1000 + i)); // 40 in one millisecond
  for (let i = 0; i < 60; i++) values.push(value(8_000 - i, 2000 + i));
  const { read, queries } = fakeRead(values);
  const seen: string[] = [];
  const result = await readPages(read, {
    startDate: 0,
    maxValues: 1e6,
    visit: (page) => void seen.push(...page.map((v) => v.value)),
  });
  assert.equal(seen.length, 250);
  assert.equal(new Set(seen).size, 250, "none twice");
  assert.deepEqual(result, { values: 250, pages: 3, truncated: false, steppedOver: false });
  assert.equal(queries[0]?.get("limit"), "100");
  assert.equal(queries[0]?.has("endDate"), false);
  assert.equal(queries[1]?.get("endDate"), new Date(10_050).toISOString());
});

test("pages: more than 100 in one millisecond step past it; maxValues keeps the newest", async () => {
  const values: StoredValue[] = [];
  for (let i = 0; i < 130; i++) values.push(value(5_000, i));
  for (let i = 0; i < 10; i++) values.push(value(4_000 - i, 500 + i));
  const stepped = await readPages(fakeRead(values).read, { startDate: 0, maxValues: 1e6, visit: () => {} });
  assert.equal(stepped.steppedOver, true);
  assert.equal(stepped.values, 110, "100 of that millisecond, then the 10 before it");

  const seen: string[] = [];
  const cut = await readPages(fakeRead(values).read, {
    startDate: 0,
    maxValues: 42,
    visit: (page) => void seen.push(...page.map((v) => v.value)),
  });
  assert.equal(cut.truncated, true);
  assert.equal(seen.length, 42);
  const cancelled = await readPages(fakeRead(values).read, {
    startDate: 0,
    maxValues: 1e6,
    cancelled: () => true,
    visit: () => {},
  });
  assert.equal(cancelled.pages, 0);
});

test("csv rows and numbers of stored JSON text", () => {
  assert.equal(numberOf("-1.5e3"), -1500);
  assert.equal(numberOf('"12"'), undefined, "a string holding digits is text");
  assert.equal(numberOf("[1]"), undefined);
  assert.equal(csvRow({ key: "k", value: "42", datetime: 0 }), "1970-01-01T00:00:00.000Z,42,,\r\n");
  assert.equal(csvRow({ key: "k", value: '"-2+3"', datetime: 0 }), "1970-01-01T00:00:00.000Z,'-2+3,,\r\n");
  assert.equal(
    csvRow({ key: "k", value: '"line\\nbreak"', datetime: 0 }),
    '1970-01-01T00:00:00.000Z,"line\nbreak",,\r\n',
  );
  assert.equal(
    csvRow({ key: "k", value: "[1,2]", datetime: 0, geo: { lat: -1, long: 2 } }),
    '1970-01-01T00:00:00.000Z,"[1,2]",-1,2\r\n',
  );
});

test("outputs: only well-formed key:kind entries of a device.boot object, each key once", () => {
  assert.deepEqual(parseOutputs('{"outputs":"led:digital, fan:pwm"}'), [
    { key: "led", kind: "digital" },
    { key: "fan", kind: "pwm" },
  ]);
  assert.deepEqual(parseOutputs('{"outputs":"led:digital,led:pwm,a/b:pwm,x:servo,y:pwm:4,:digital"}'), [
    { key: "led", kind: "digital" },
  ]);
  for (const bad of ['"led:digital"', "[]", "{", '{"outputs":7}', "null"]) assert.deepEqual(parseOutputs(bad), [], bad);
  const many = Array.from({ length: 50 }, (_, i) => `o${i}:pwm`).join(",");
  assert.equal(parseOutputs(JSON.stringify({ outputs: many })).length, 32);
});

class FakeClient implements LiveClient {
  writableLength = 0;
  readonly written: string[] = [];
  destroyed = false;
  write(chunk: string): boolean {
    this.written.push(chunk);
    return true;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

test("live hub: a page that falls behind is dropped, never buffered; values wait bounded; timers stop with the last page", async () => {
  const hub = new LiveHub({
    snapshots: { things: () => "[]", codes: () => "[]" },
    maxClients: 2,
    maxQueueBytes: 200_000,
    flushMs: 10,
  });
  const slow = new FakeClient();
  const fast = new FakeClient();
  assert.equal(hub.open(slow, 1), true);
  assert.equal(hub.open(fast, 1), true);
  assert.equal(hub.hasRoom(), false);
  assert.equal(hub.stats().refused, 1);
  slow.writableLength = 199_990; // its socket stopped draining
  hub.stored(1, [{ key: "t", value: "1", datetime: 0 }]);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(slow.destroyed, true, "dropped");
  assert.equal(fast.destroyed, false);
  assert.ok(fast.written.some((w) => w.includes('"items":[{"key":"t","value":1,"datetime":0}]')));
  assert.deepEqual(hub.stats(), { clients: 1, dropped: 1, refused: 1 });

  const burst = Array.from({ length: MAX_PENDING_ITEMS + 10 }, (_, i) => ({ key: "t", value: String(i), datetime: i }));
  fast.written.length = 0;
  hub.stored(1, burst);
  hub.stored(2, burst); // nobody watches thing 2: nothing kept
  await new Promise((resolve) => setTimeout(resolve, 30));
  const sent = fast.written.find((w) => w.startsWith("event: values"));
  assert.ok(sent !== undefined);
  const data = JSON.parse(sent.split("\n")[1]?.slice(6) ?? "") as { items: unknown[]; overflow: boolean };
  assert.equal(data.items.length, MAX_PENDING_ITEMS, "at most MAX_PENDING_ITEMS");
  assert.equal(data.overflow, true, "the page is told to reload");
  assert.equal(fast.destroyed, false, "a burst alone never drops a page");

  // Big values: bounded by bytes too (half a page's queue), so one batch cannot drop every page.
  fast.written.length = 0;
  hub.stored(
    1,
    burst.map((v) => ({ ...v, value: JSON.stringify("x".repeat(900)) })),
  );
  await new Promise((resolve) => setTimeout(resolve, 30));
  const big = fast.written.find((w) => w.startsWith("event: values")) ?? "";
  assert.ok(big.length <= 100_000 + 100, `${big.length} bytes`);
  assert.match(big, /"overflow":true/);
  assert.equal(fast.destroyed, false);

  hub.remove(fast);
  fast.written.length = 0;
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(fast.written.length, 0, "nothing is sent once the page is gone");
  assert.equal(hub.clientCount(), 0);
  hub.close();
  assert.equal(hub.hasRoom(), false, "closed: no page taken");
});

test("access: loopback names only without a token; writes only as JSON from the page's own origin", () => {
  const rules = { host: "127.0.0.1", port: 8088 };
  const ok = (method: string, headers: Record<string, string>) => checkAccess(rules, method, headers, undefined).ok;
  assert.equal(ok("GET", { host: "127.0.0.1:8088" }), true);
  assert.equal(ok("GET", { host: "localhost:8088" }), true);
  assert.equal(ok("GET", { host: "LOCALHOST:8088" }), true);
  assert.equal(ok("GET", { host: "attacker.example:8088" }), false, "DNS rebinding");
  assert.equal(ok("GET", { host: "127.0.0.1:9999" }), false);
  assert.equal(ok("GET", {}), false);
  const json = { host: "127.0.0.1:8088", "content-type": "application/json; charset=utf-8" };
  assert.equal(ok("POST", json), true);
  assert.equal(ok("POST", { ...json, origin: "http://127.0.0.1:8088" }), true);
  assert.equal(ok("POST", { ...json, origin: "null" }), false);
  assert.equal(ok("POST", { ...json, "content-type": "text/plain" }), false);
  assert.ok(isLoopback("127.0.0.1") && isLoopback("127.1.2.3") && isLoopback("::1") && isLoopback("localhost"));
  assert.ok(!isLoopback("0.0.0.0") && !isLoopback("192.168.1.2") && !isLoopback("::"));
  assert.equal(tokenProblem("a".repeat(16)), undefined);
  assert.notEqual(tokenProblem("a".repeat(15)), undefined);
  assert.notEqual(tokenProblem(`${"a".repeat(16)};`), undefined, "nothing a cookie or URL would need to escape");
});

test("page: a switch and a slider read a value as the device reads a command", async () => {
  const controls = (await import(new URL("../../emulator/dashboard/page/controls.js", import.meta.url).href)) as {
    digitalLevel: (v: unknown) => 0 | 1 | undefined;
    pwmPercent: (v: unknown) => number | undefined;
  };
  const samples: unknown[] = [
    0,
    1,
    0.5,
    1.5,
    50,
    100,
    101,
    -1,
    "0",
    "1",
    "on",
    " OFF ",
    "true",
    "50%",
    " 7 % ",
    "0.25",
  ];
  samples.push("abc", "", "1e2", "+5", ".5", true, false, null, [1], { v: 1 }, Number.NaN, "100.5%");
  for (const sample of samples) {
    assert.equal(controls.digitalLevel(sample), parseDigitalLevel(sample), `digital ${JSON.stringify(sample)}`);
    const duty = parsePwmDuty(sample);
    const percent = controls.pwmPercent(sample);
    assert.equal(
      percent === undefined ? undefined : Math.round(percent * 1e6) / 1e8,
      duty === undefined ? undefined : Math.round(duty * 1e6) / 1e6,
      `pwm ${JSON.stringify(sample)}`,
    );
  }
});
