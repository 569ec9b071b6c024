// True datetimes before the clock is set (sensors/backlog.ts, sensors/uploader.ts): values
// sampled before the wall clock is known keep their monotonic time and get
// datetime = wall − (now − sampled) once it is; they wait for it up to holdUnstamped after the
// platform's first answer; a later clock step changes nothing stamped; values an earlier boot
// left without a datetime go without one, counted apart.
import { ConnectivityEvents } from "../../kernel/connectivity.js";
import type { BatchValue } from "../../sensors/batch-sink.js";
import { MemoryPageStore } from "../core-fakes/page-stores.js";
import { isoCompact } from "../core-fakes/telemetry-fakes.js";
import { makeRig, SOME_UTC } from "../core-fakes/telemetry-rig.js";
import { deepEqual, equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { SeededRandom } from "../sim/seeded-random.js";

function sampled(values: readonly BatchValue[]): BatchValue[] {
  return values.filter((v) => v.key === "temperature");
}

suite("telemetry: datetimes back-filled", () => {
  test("values sampled before SNTP wait for the clock and go with the datetime they were sampled at", async () => {
    const { clock, sink, wall, telemetry } = makeRig({ utc: undefined, config: { intervalMs: 1000, batch: 3 } });
    sink.autoAnswer = () => ({ kind: "stored" });
    const startedAt = clock.now();
    telemetry.start();
    await clock.advance(9_500);
    equal(sink.calls.length, 0, "nothing goes without a datetime while the clock may still come");
    // SNTP answers 9.7 s after boot: the wall clock reads SOME_UTC + 0.7 s then.
    await clock.advance(200);
    wall.set(SOME_UTC + 700);
    await clock.advance(2_000);
    const values = sink.calls.flatMap((c) => sampled(c.values));
    ok(values.length >= 11, `${values.length} values`);
    values.forEach((v, n) => {
      // Sampled at startedAt + n s; the wall clock read SOME_UTC + 0.7 s at startedAt + 9.7 s.
      const utc = SOME_UTC + 700 - (startedAt + 9_700 - (startedAt + n * 1000));
      equal(v.datetime, Math.floor(utc / 1000) * 1000, `value ${n}`);
    });
    equal(isoCompact(values[0]!.datetime!), "20240506070800", "9 s before SOME_UTC");
    equal(telemetry.counters.unstamped, 0);
    telemetry.close();
  });

  test("a clock step after stamping changes nothing already stamped", async () => {
    const { clock, sink, wall, telemetry } = makeRig({
      utc: undefined,
      config: { intervalMs: 1000, batch: 50, maxDelayMs: 60_000 },
    });
    sink.autoAnswer = () => ({ kind: "stored" });
    telemetry.start();
    await clock.advance(4_500);
    wall.set(SOME_UTC);
    await clock.advance(1_000);
    // SNTP corrects the clock by an hour; the values stamped before keep their datetimes.
    wall.set(SOME_UTC + 3_600_000 + 1_000);
    await clock.advance(60_000);
    const values = sampled(sink.calls.flatMap((c) => c.values));
    const first = values.slice(0, 6).map((v) => v.datetime);
    deepEqual(
      first,
      [-4, -3, -2, -1, 0, 1].map((s) => Math.floor((SOME_UTC - 500 + s * 1000) / 1000) * 1000 + 0),
    );
    ok(values[7]!.datetime! >= SOME_UTC + 3_600_000, "values sampled after the step carry the new time");
    telemetry.close();
  });

  test("the hold counts from the platform's first answer: past holdUnstamped values go without a datetime, counted", async () => {
    const connectivity = new ConnectivityEvents();
    const { clock, sink, telemetry } = makeRig({
      utc: undefined,
      connectivity,
      config: { intervalMs: 1000, batch: 5, holdUnstampedMs: 30_000 },
    });
    sink.autoAnswer = () => ({ kind: "stored" });
    telemetry.start();
    await clock.advance(100_000);
    equal(sink.calls.length, 0, "never answered: held as long as it lasts");
    connectivity.emit({ kind: "reachable", via: "platform" });
    await clock.advance(29_000);
    equal(sink.calls.length, 0, "held up to holdUnstamped after the first answer");
    await clock.advance(1_500);
    ok(sink.calls.length > 0);
    ok(sink.calls.every((c) => c.values.every((v) => v.datetime === undefined)));
    await clock.runUntil(() => telemetry.counters.buffered < 5);
    equal(telemetry.counters.unstamped, telemetry.counters.sent);
    ok(telemetry.counters.sent > 120);
    telemetry.close();
  });

  test("a stored write starts the hold too: values left in flash go first, this boot's unstamped ones holdUnstamped later", async () => {
    const pages = new MemoryPageStore();
    const config = { intervalMs: 1000, batch: 5, persistAfterMs: 5_000, holdUnstampedMs: 20_000 };
    const first = makeRig({ pages, config, random: new SeededRandom(1) });
    first.sink.autoAnswer = () => ({ kind: "unavailable", reason: "offline" });
    first.telemetry.start();
    await first.clock.advance(10_500);
    first.telemetry.close();
    const second = makeRig({ pages, utc: undefined, config, random: new SeededRandom(2) });
    second.sink.autoAnswer = () => ({ kind: "stored" });
    second.sensor.produce = (n) => ({ temperature: 100 + n });
    second.telemetry.start();
    await second.clock.advance(500);
    const early = sampled(second.sink.calls.flatMap((c) => c.values));
    ok(early.length >= 5, "the values from flash went at once");
    ok(early.every((v) => (v.value as number) < 100 && v.datetime !== undefined));
    await second.clock.advance(19_000);
    ok(
      sampled(second.sink.calls.flatMap((c) => c.values)).every((v) => (v.value as number) < 100),
      "this boot's wait",
    );
    await second.clock.advance(1_000);
    const late = sampled(second.sink.calls.flatMap((c) => c.values)).filter((v) => (v.value as number) >= 100);
    ok(late.length >= 20, "20 s after the first 2.01 they go, without a datetime");
    ok(late.every((v) => v.datetime === undefined));
    second.telemetry.close();
  });

  test("holdUnstamped 0: values go at once without a datetime", async () => {
    const { clock, sink, telemetry } = makeRig({
      utc: undefined,
      config: { intervalMs: 1000, batch: 2, holdUnstampedMs: 0 },
    });
    sink.autoAnswer = () => ({ kind: "stored" });
    telemetry.start();
    await clock.advance(1_000);
    equal(sink.calls.length, 1);
    equal(sink.calls[0]!.values[0]!.datetime, undefined);
    equal(telemetry.counters.unstamped, 2);
    telemetry.close();
  });

  test("reports made before the clock wait and are stamped with the values", async () => {
    const { clock, sink, wall, telemetry } = makeRig({ utc: undefined, config: { intervalMs: 1000, batch: 20 } });
    sink.autoAnswer = () => ({ kind: "stored" });
    telemetry.start();
    telemetry.report("device.boot", { reset: "power-on" }, { urgent: true });
    await clock.advance(3_000);
    equal(sink.calls.length, 0);
    wall.set(SOME_UTC + 3_000);
    await clock.advance(1_000);
    const boot = sink.calls.flatMap((c) => c.values).find((v) => v.key === "device.boot");
    equal(boot?.datetime, SOME_UTC);
    telemetry.close();
  });

  test("values persisted unstamped are stamped in flash when the clock is set; an earlier boot's go without, counted apart", async () => {
    const pages = new MemoryPageStore();
    const config = { intervalMs: 1000, batch: 5, persistAfterMs: 5_000 };
    // Boot 1: no clock, no platform; 20 s of values, most of them persisted unstamped.
    const first = makeRig({ pages, utc: undefined, config, random: new SeededRandom(1) });
    first.sink.autoAnswer = () => ({ kind: "unavailable", reason: "offline" });
    first.telemetry.start();
    await first.clock.advance(20_500);
    first.telemetry.close();
    // Boot 2: the clock is set at once; boot 1's values cannot be stamped: they go without, counted.
    const second = makeRig({ pages, utc: undefined, config, random: new SeededRandom(2) });
    const recovered = second.telemetry.counters.recovered;
    ok(recovered >= 15);
    second.sink.autoAnswer = () => ({ kind: "unavailable", reason: "offline" });
    second.sensor.produce = (n) => ({ temperature: 100 + n });
    second.telemetry.start();
    await second.clock.advance(12_500);
    // The clock comes: boot 2's values in flash are rewritten with their datetimes.
    second.wall.set(SOME_UTC + 12_500);
    await second.clock.advance(1_000);
    second.telemetry.close();
    const third = makeRig({ pages, utc: SOME_UTC + 13_500, config, random: new SeededRandom(3) });
    const stored: BatchValue[] = [];
    third.sink.autoAnswer = (values) => {
      stored.push(...values);
      return { kind: "stored" };
    };
    third.sensor.produce = () => ({});
    third.telemetry.start();
    await third.clock.runUntil(() => third.telemetry.counters.buffered === 0);
    const values = sampled(stored);
    const earlier = values.filter((v) => (v.value as number) < 100);
    const later = values.filter((v) => (v.value as number) >= 100);
    equal(earlier.length, recovered);
    ok(earlier.every((v) => v.datetime === undefined));
    ok(later.length >= 10);
    later.forEach((v) => {
      const n = (v.value as number) - 100;
      equal(v.datetime, Math.floor((SOME_UTC + n * 1000) / 1000) * 1000, `boot 2 value ${n}`);
    });
    equal(third.telemetry.counters.unstampedEarlierBoot, earlier.length);
    equal(third.telemetry.counters.unstamped, 0);
    third.telemetry.close();
  });
});
