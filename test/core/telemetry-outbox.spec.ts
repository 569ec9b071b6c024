// Telemetry with a flash outbox (sensors/backlog.ts, sensors/outbox.ts): nothing is written while
// the platform answers; what waited persistAfter survives a reboot and goes first, oldest first,
// with its datetime, leaving flash only once stored; the bound drops the oldest, reported; reports
// ride along; a power cut loses at most the last persistAfter of values.
import type { BatchValue } from "../../sensors/batch-sink.js";
import type { Telemetry } from "../../sensors/telemetry.js";
import { MemoryPageStore } from "../core-fakes/page-stores.js";
import { makeRig, SOME_UTC } from "../core-fakes/telemetry-rig.js";
import { deepEqual, equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { SeededRandom } from "../sim/seeded-random.js";

const DROPPED = "telemetry.dropped";

function numbers(values: readonly BatchValue[]): number[] {
  return values.filter((v) => v.key === "temperature").map((v) => v.value as number);
}

function checkInvariant(telemetry: Telemetry): void {
  const c = telemetry.counters;
  equal(
    c.sampled + c.recovered,
    c.sent + c.buffered + c.dropped + c.rejected + c.discarded,
    `sampled + recovered = sent + buffered + dropped + rejected + discarded in ${JSON.stringify(c)}`,
  );
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let n = from; n < to; n++) out.push(n);
  return out;
}

let boots = 0;

/** An outage rig (a new boot each time): 1 value a second, persistAfter 10 s, every write fails until `online`. */
function outage(pages: MemoryPageStore, config: Record<string, number | boolean> = {}, utc = SOME_UTC) {
  const rig = makeRig({
    pages,
    utc,
    random: new SeededRandom(++boots),
    config: { intervalMs: 1000, batch: 5, maxDelayMs: 2000, persistAfterMs: 10_000, ...config },
  });
  const state = { online: false };
  rig.sink.autoAnswer = () => (state.online ? { kind: "stored" } : { kind: "unavailable", reason: "offline" });
  return { ...rig, state };
}

suite("telemetry: flash outbox", () => {
  test("while the platform answers, flash is not written at all", async () => {
    const pages = new MemoryPageStore();
    const random = new SeededRandom(5);
    const { clock, sink, telemetry } = makeRig({ pages, config: {} });
    // Defaults: 10 s interval, batch 20, maxDelay 60 s, persistAfter 90 s; a few slow or lost writes.
    sink.autoAnswer = () => (random.chance(0.2) ? { kind: "unanswered" } : { kind: "stored" });
    telemetry.start();
    await clock.advance(6 * 3_600_000);
    ok(telemetry.counters.sent > 2000);
    ok(telemetry.counters.writeFailures > 10, "some writes failed and were retried");
    equal(pages.writes, 0);
    equal(pages.erases, 0);
    equal(telemetry.counters.flashWrites, 0);
    telemetry.close();
  });

  test("in an outage what waited persistAfter is in flash, written about once per persistAfter", async () => {
    const pages = new MemoryPageStore();
    const { clock, telemetry } = outage(pages);
    telemetry.start();
    await clock.advance(100_500);
    telemetry.close();
    equal(telemetry.counters.sampled, 101);
    ok(pages.writes >= 9 && pages.writes <= 12, `${pages.writes} page writes in 100 s`);
    // A reboot finds every value sampled at least persistAfter before the power went.
    // A reboot finds every value sampled persistAfter or more before the power went (0–90), and
    // more: each move to flash takes everything waiting in RAM (here at 10, 20, … 100 s).
    const reboot = outage(pages, {}, SOME_UTC + 100_500);
    equal(reboot.telemetry.counters.recovered, 100);
    reboot.telemetry.close();
  });

  test("at boot, values found in flash go first, oldest first, with their datetimes; they leave flash once stored", async () => {
    const pages = new MemoryPageStore();
    const first = outage(pages);
    first.telemetry.start();
    await first.clock.advance(40_500);
    first.telemetry.close();
    const second = outage(pages, {}, SOME_UTC + 40_500);
    const recovered = second.telemetry.counters.recovered;
    equal(recovered, 40, "moved to flash at 10, 20, 30 and 40 s");
    second.sensor.produce = (n) => ({ temperature: 1000 + n });
    second.state.online = true;
    const stored: BatchValue[] = [];
    second.sink.autoAnswer = (values) => {
      stored.push(...values);
      return { kind: "stored" };
    };
    second.telemetry.start();
    await second.clock.advance(10_000);
    deepEqual(numbers(stored).slice(0, recovered), range(0, recovered));
    equal(numbers(stored)[recovered], 1000, "then this boot's");
    stored.slice(0, recovered).forEach((v, n) => {
      equal(v.datetime, SOME_UTC + n * 1000, "sampled in the first boot, once a second");
    });
    equal(second.sink.calls[0]!.values.length > 5, true, "the backlog drains in full datagrams");
    equal(pages.used, 0, "stored: erased");
    checkInvariant(second.telemetry);
    second.telemetry.close();
  });

  test("a value recovered but not yet stored is still in flash at the next boot: nothing is lost between boots", async () => {
    const pages = new MemoryPageStore();
    const first = outage(pages);
    first.telemetry.start();
    await first.clock.advance(30_500);
    first.telemetry.close();
    const second = outage(pages, {}, SOME_UTC + 30_500);
    second.sink.autoAnswer = () => ({ kind: "unanswered" });
    second.telemetry.start();
    await second.clock.advance(5_000);
    ok(second.sink.calls.length > 0, "the recovered values were on their way");
    second.telemetry.close();
    const third = outage(pages, {}, SOME_UTC + 40_000);
    equal(third.telemetry.counters.recovered, 30, "the 30 the first boot left, none stored");
    third.telemetry.close();
  });

  test("a power cut at any moment loses at most the values sampled during the last persistAfter", async () => {
    const random = new SeededRandom(99);
    for (let trial = 0; trial < 8; trial++) {
      const pages = new MemoryPageStore();
      const { clock, telemetry, sink, sensor } = outage(pages, { persistAfterMs: 7_000 });
      const sampledAt: number[] = [];
      sensor.produce = (n) => {
        sampledAt.push(clock.now());
        return { temperature: n };
      };
      // The platform answers now and then: some values are stored, the rest wait.
      const stored = new Set<number>();
      sink.autoAnswer = (values) => {
        if (!random.chance(0.3)) return { kind: "unanswered" };
        for (const n of numbers(values)) stored.add(n);
        return { kind: "stored" };
      };
      telemetry.start();
      const cutAt = clock.now() + 20_000 + random.int(60_000);
      await clock.advanceTo(cutAt);
      telemetry.close();
      const reboot = outage(pages, {}, SOME_UTC + cutAt);
      reboot.sensor.produce = () => ({});
      const again: number[] = [];
      reboot.sink.autoAnswer = (values) => {
        again.push(...numbers(values));
        return { kind: "stored" };
      };
      reboot.telemetry.start();
      await reboot.clock.runUntil(() => reboot.telemetry.counters.buffered === 0);
      const twice = again.filter((n) => stored.has(n));
      for (const n of again) stored.add(n);
      sampledAt.forEach((at, n) => {
        if (at <= cutAt - 7_000)
          ok(stored.has(n), `trial ${trial}: value ${n} (sampled ${cutAt - at} ms before the cut) lost`);
      });
      ok(twice.length <= 5, `trial ${trial}: at most the batch in flight at the cut stored twice (${twice.length})`);
      reboot.telemetry.close();
    }
  });

  test("a batch in flight longer than persistAfter is persisted too", async () => {
    const pages = new MemoryPageStore();
    const { clock, sink, telemetry } = outage(pages);
    sink.autoAnswer = undefined;
    telemetry.start();
    await clock.advance(4_500);
    equal(sink.calls.length, 1, "one write, never answered");
    await clock.advance(15_000);
    telemetry.close();
    const reboot = outage(pages, {}, SOME_UTC + 20_000);
    ok(reboot.telemetry.counters.recovered >= 10);
    reboot.state.online = true;
    const first: number[] = [];
    reboot.sink.autoAnswer = (values) => {
      first.push(...numbers(values));
      return { kind: "stored" };
    };
    reboot.telemetry.start();
    await reboot.clock.settle();
    const inFlight = numbers(sink.calls[0]!.values);
    deepEqual(first.slice(0, inFlight.length), inFlight, "the batch that was in flight goes first");
    reboot.telemetry.close();
  });

  test("outboxSize bounds flash: the oldest go, counted and reported on telemetry.dropped", async () => {
    const pages = new MemoryPageStore(16, 256);
    const { clock, sink, telemetry, state } = outage(pages, { outboxSize: 40, bufferSize: 20 });
    telemetry.start();
    await clock.advance(200_500);
    const { dropped } = telemetry.counters;
    ok(dropped > 100, `${dropped} dropped`);
    ok(telemetry.counters.buffered <= 40 + 20);
    checkInvariant(telemetry);
    let reported = 0;
    sink.autoAnswer = (values) => {
      for (const v of values) if (v.key === DROPPED) reported += v.value as number;
      return { kind: "stored" };
    };
    state.online = true;
    telemetry.stop();
    await clock.runUntil(() => telemetry.counters.buffered === 0);
    equal(reported, telemetry.counters.dropped);
    checkInvariant(telemetry);
    telemetry.close();
  });

  test("RAM full moves values to flash at once instead of dropping them", async () => {
    const pages = new MemoryPageStore();
    const { clock, telemetry } = outage(pages, { bufferSize: 8, persistAfterMs: 600_000 });
    telemetry.start();
    await clock.advance(60_500);
    equal(telemetry.counters.dropped, 0);
    equal(telemetry.counters.buffered, 61);
    ok(telemetry.counters.persisted > 45);
    ok(pages.writes <= 12, `${pages.writes} writes: one per RAM-full, not one per value`);
    telemetry.close();
  });

  test("reports that waited persistAfter are kept too, and come back after a reboot", async () => {
    const pages = new MemoryPageStore();
    const first = outage(pages);
    first.telemetry.start();
    equal(first.telemetry.report("device.boot", { reset: "brownout" }), undefined);
    await first.clock.advance(12_500);
    first.telemetry.close();
    const second = outage(pages, {}, SOME_UTC + 12_500);
    equal(second.telemetry.counters.reportsWaiting, 1);
    second.state.online = true;
    const stored: BatchValue[] = [];
    second.sink.autoAnswer = (values) => {
      stored.push(...values);
      return { kind: "stored" };
    };
    second.telemetry.start();
    await second.clock.advance(3_000);
    const boot = stored.find((v) => v.key === "device.boot");
    deepEqual(boot, { key: "device.boot", value: { reset: "brownout" }, datetime: SOME_UTC });
    equal(pages.used, 0);
    second.telemetry.close();
  });

  test("a newer report on the same key replaces the one in flash", async () => {
    const pages = new MemoryPageStore();
    const { clock, telemetry } = outage(pages);
    telemetry.start();
    telemetry.report("device.health", { heap: 1 });
    await clock.advance(11_000);
    telemetry.report("device.health", { heap: 2 });
    await clock.advance(11_000);
    telemetry.close();
    const reboot = outage(pages, {}, SOME_UTC + 22_000);
    reboot.state.online = true;
    const stored: BatchValue[] = [];
    reboot.sink.autoAnswer = (values) => {
      stored.push(...values);
      return { kind: "stored" };
    };
    reboot.telemetry.start();
    await reboot.clock.advance(3_000);
    deepEqual(
      stored.filter((v) => v.key === "device.health").map((v) => v.value),
      [{ heap: 2 }],
    );
    reboot.telemetry.close();
  });

  test("discardBuffered drops what waits in RAM and erases the flash outbox", async () => {
    const pages = new MemoryPageStore();
    const { clock, telemetry } = outage(pages);
    telemetry.start();
    telemetry.report("device.boot", { reset: "power-on" });
    await clock.advance(30_500);
    ok(pages.used > 0);
    const buffered = telemetry.counters.buffered;
    equal(telemetry.discardBuffered(), buffered);
    equal(pages.used, 0);
    equal(telemetry.counters.buffered, 0);
    equal(telemetry.counters.reportsWaiting, 0);
    equal(telemetry.counters.discarded, buffered);
    checkInvariant(telemetry);
    await clock.advance(5_000);
    checkInvariant(telemetry);
    telemetry.close();
    const reboot = outage(pages);
    equal(reboot.telemetry.counters.recovered, 0, "nothing is left for the next boot");
    reboot.telemetry.close();
  });

  test("a torn page at boot is skipped and counted; the device runs on and the pages after it are sent", async () => {
    const pages = new MemoryPageStore(16, 256);
    const first = outage(pages);
    first.telemetry.start();
    await first.clock.advance(80_500);
    first.telemetry.close();
    const slots = pages.pages.map((p, i) => (p === undefined ? -1 : i)).filter((i) => i >= 0);
    ok(slots.length >= 3);
    const victim = slots[0]!;
    pages.pages[victim] = pages.pages[victim]!.slice(0, 100);
    const second = outage(pages, {}, SOME_UTC + 80_500);
    equal(second.telemetry.counters.pagesSkipped, 1);
    ok(second.telemetry.counters.recovered > 30);
    ok(second.lines.some((l) => l.message.includes("torn or corrupt")));
    second.state.online = true;
    second.telemetry.start();
    await second.clock.runUntil(() => second.telemetry.counters.sent >= second.telemetry.counters.recovered);
    checkInvariant(second.telemetry);
    second.telemetry.close();
  });
});
