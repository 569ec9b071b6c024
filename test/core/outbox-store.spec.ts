// The flash outbox over a page store (sensors/outbox.ts): order across pages and reboots,
// capacity and drop counting, acknowledgement of whole and partial pages, rewrites that never
// leave a page missing, torn, corrupt and foreign pages, failing storage, stamping, reports.

import type { PageStore } from "../../kernel/page-store.js";
import { Outbox } from "../../sensors/outbox.js";
import { PAGE_LAYOUT, ValuePage } from "../../sensors/outbox-page.js";
import { MemoryPageStore, TearingPageStore } from "../core-fakes/page-stores.js";
import { collectingLog } from "../core-fakes/telemetry-fakes.js";
import { deepEqual, equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

const UTC = Date.UTC(2024, 4, 6, 7, 8, 9) / 1000;

interface Opened {
  readonly outbox: Outbox;
  readonly dropped: number[];
  readonly lines: { level: string; message: string }[];
}

function open(store: PageStore, capacity = 1000, boot = 1): Opened {
  const dropped: number[] = [];
  const { lines, log } = collectingLog();
  const outbox = new Outbox({ store, capacity, boot, reportSlots: 4, log, onDropped: (n) => dropped.push(n) });
  return { outbox, dropped, lines };
}

/** Every value in the outbox, oldest first. */
function contents(outbox: Outbox): { key: string; value: number; utc: number; stampable: boolean; at: number }[] {
  const out: { key: string; value: number; utc: number; stampable: boolean; at: number }[] = [];
  outbox.visit(0, (key, value, utc, stampable, at) => {
    out.push({ key, value, utc, stampable, at });
    return true;
  });
  return out;
}

function values(outbox: Outbox): number[] {
  return contents(outbox).map((v) => v.value);
}

function fill(outbox: Outbox, from: number, to: number, stamped = true): void {
  for (let n = from; n < to; n++)
    ok(outbox.append(n % 2 === 0 ? "a" : "b", n, stamped ? UTC + n : Number.NaN, 1000 + n * 1000));
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let n = from; n < to; n++) out.push(n);
  return out;
}

suite("outbox: pages in a store", () => {
  test("what was flushed is found again after a reboot, oldest first, every field kept", () => {
    const store = new MemoryPageStore(16, 256);
    const first = open(store).outbox;
    fill(first, 0, 40);
    fill(first, 40, 45, false);
    first.flush();
    ok(first.pages > 2, `${first.pages} pages: several sealed, one open`);
    const second = open(store, 1000, 2).outbox;
    equal(second.size, 45);
    equal(second.counters.recovered, 45);
    const found = contents(second);
    deepEqual(
      found.map((v) => v.value),
      range(0, 45),
    );
    equal(found[3]!.key, "b");
    equal(found[3]!.utc, UTC + 3);
    ok(Number.isNaN(found[42]!.utc));
    equal(found[42]!.stampable, false, "another boot's monotonic time cannot be stamped");
    equal(contents(first)[42]!.stampable, true, "…but its own boot's can");
    equal(contents(first)[42]!.at, 43_000);
  });

  test("nothing reaches flash before flush() but the pages that filled", () => {
    const store = new MemoryPageStore(16, 256);
    const { outbox } = open(store);
    fill(outbox, 0, 10);
    equal(store.writes, 0, "the open page lives in RAM until flushed");
    fill(outbox, 10, 40);
    const sealed = store.writes;
    ok(sealed >= 1, "a page that filled was written as it sealed");
    outbox.flush();
    equal(store.writes, sealed + 1, "flush writes the open page once");
    outbox.flush();
    equal(store.writes, sealed + 1, "and not again while nothing changed");
  });

  test("full: the oldest pages go, counted, never one holding the batch in flight", () => {
    const store = new MemoryPageStore(16, 256);
    const { outbox, dropped } = open(store, 40);
    fill(outbox, 0, 40);
    outbox.pin(5);
    fill(outbox, 40, 60);
    ok(outbox.size <= 40);
    const kept = values(outbox);
    deepEqual(kept.slice(0, 5), [0, 1, 2, 3, 4], "the page in flight stays");
    const droppedCount = dropped.reduce((a, b) => a + b, 0);
    equal(outbox.counters.dropped, droppedCount);
    equal(kept.length + droppedCount, 60, "every value kept or counted");
    equal(kept[kept.length - 1], 59, "the newest are kept");
  });

  test("ack erases the pages stored in full and rewrites the one stored in part; a reboot sends only the rest", () => {
    const store = new MemoryPageStore(16, 256);
    const { outbox } = open(store);
    fill(outbox, 0, 50);
    outbox.flush();
    ok(outbox.pages >= 3, "20 values end inside a page");
    outbox.pin(20);
    outbox.ack();
    equal(outbox.size, 30);
    deepEqual(values(outbox), range(20, 50));
    const reboot = open(store, 1000, 2).outbox;
    deepEqual(values(reboot), range(20, 50), "no stored value comes back");
    equal(store.used, reboot.pages, "no stale copy left in any slot");
  });

  test("a rewrite cut before the old copy was erased: the higher version wins at boot", () => {
    const inner = new MemoryPageStore(16, 1024);
    const { outbox } = open(inner);
    fill(outbox, 0, 10);
    outbox.flush();
    const before = inner.pages.map((p) => p?.slice());
    outbox.pin(3);
    outbox.ack();
    // The power went between writing the new copy and erasing the old: both are in flash.
    const oldSlot = before.findIndex((p) => p !== undefined);
    inner.pages[oldSlot] = before[oldSlot];
    equal(inner.used, 2);
    const reboot = open(inner, 1000, 2).outbox;
    deepEqual(values(reboot), range(3, 10));
    equal(inner.used, 1, "the losing copy was erased");
  });

  test("a write torn by a power cut: the page's earlier copy is still there, the torn slot skipped and counted", () => {
    const inner = new MemoryPageStore(16, 1024);
    const store = new TearingPageStore(inner);
    const { outbox } = open(store);
    fill(outbox, 0, 10);
    outbox.flush();
    fill(outbox, 10, 20);
    store.tearNext = { keep: 40 };
    outbox.flush();
    equal(store.torn, 1);
    equal(outbox.counters.storeErrors, 1);
    const reboot = open(inner, 1000, 2);
    deepEqual(values(reboot.outbox), range(0, 10), "the copy written before the torn one");
    equal(reboot.outbox.counters.pagesSkipped, 1);
    ok(reboot.lines.some((l) => l.message.includes("torn or corrupt page")));
  });

  test("torn pages at every length, corrupt and foreign pages never block the pages after them", () => {
    const store = new MemoryPageStore(16, 256);
    const { outbox } = open(store);
    fill(outbox, 0, 60);
    outbox.flush();
    const good = outbox.pages;
    ok(good >= 3);
    const slots = store.pages.map((p, i) => (p === undefined ? -1 : i)).filter((i) => i >= 0);
    const victim = slots[1]!;
    const page = store.pages[victim]!;
    const lost = (ValuePage.open(page.slice()) as ValuePage).count;
    for (let cut = 0; cut < page.length; cut += 7) {
      const copy = new MemoryPageStore(16, 256);
      store.pages.forEach((p, i) => {
        copy.pages[i] = p?.slice();
      });
      copy.pages[victim] = page.slice(0, cut);
      const reboot = open(copy, 1000, 2).outbox;
      equal(reboot.size, 60 - lost, `cut at ${cut}`);
      equal(reboot.counters.pagesSkipped, 1);
      equal(copy.pages[victim], undefined, "the torn slot is erased for reuse");
    }
    const foreign = new MemoryPageStore(16, 256);
    store.pages.forEach((p, i) => {
      foreign.pages[i] = p?.slice();
    });
    foreign.pages[victim]![2] = PAGE_LAYOUT + 1;
    const free = foreign.pages.indexOf(undefined);
    foreign.pages[free] = new Uint8Array([1, 2, 3, 4, 5]);
    const reboot = open(foreign, 1000, 2);
    equal(reboot.outbox.size, 60 - lost);
    equal(reboot.outbox.counters.pagesRefused, 1);
    equal(reboot.outbox.counters.pagesSkipped, 1, "the garbage slot");
    ok(reboot.lines.some((l) => l.message.includes("another firmware's page layout")));
    deepEqual(values(reboot.outbox).slice(-3), [57, 58, 59]);
  });

  test("failing storage: appends stop once the open page cannot be written, and go on when it heals", () => {
    const store = new MemoryPageStore(16, 256);
    const { outbox, lines } = open(store);
    store.failWrites = true;
    let taken = 0;
    for (let n = 0; n < 100; n++) if (outbox.append("a", n, UTC, 0)) taken++;
    ok(taken < 100, "a full open page that cannot be written takes no more");
    equal(lines.filter((l) => l.message.includes("failed")).length, 1, "logged once per failing spell");
    store.failWrites = false;
    ok(outbox.append("a", 100, UTC, 0));
    outbox.flush();
    equal(open(store, 1000, 2).outbox.size, taken + 1);
    ok(lines.some((l) => l.message.includes("go through again")));
  });

  test("stamp rewrites this boot's unstamped values with their datetime; an earlier boot's stay as they are", () => {
    const store = new MemoryPageStore(16, 256);
    const earlier = open(store, 1000, 7).outbox;
    fill(earlier, 0, 5, false);
    earlier.flush();
    const now = open(store, 1000, 8).outbox;
    fill(now, 5, 40, false);
    now.flush();
    const offset = UTC * 1000 - 1000;
    equal(now.stamp(offset), 35);
    const after = contents(open(store, 1000, 9).outbox);
    ok(after.slice(0, 5).every((v) => Number.isNaN(v.utc)));
    equal(after[5]!.utc, UTC + 5);
    equal(after[39]!.utc, UTC + 39);
  });

  test("reports get a page each, come back at boot, and go when no longer waiting", () => {
    const store = new MemoryPageStore(16, 1024);
    const { outbox } = open(store);
    ok(outbox.putReport(11, { key: "device.boot", value: { reset: "power-on" }, utcSeconds: UTC, at: 5 }));
    ok(outbox.putReport(12, { key: "device.health", value: { heap: 1 }, utcSeconds: Number.NaN, at: 6 }));
    ok(!outbox.putReport(11, { key: "device.boot", value: {}, utcSeconds: UTC, at: 5 }), "one page per report");
    ok(outbox.holdsReport(12));
    const reboot = open(store, 1000, 2).outbox;
    const { reports, adopt } = reboot.takeRecoveredReports();
    deepEqual(reports, [
      { key: "device.boot", value: { reset: "power-on" }, datetime: UTC * 1000 },
      { key: "device.health", value: { heap: 1 }, datetime: undefined },
    ]);
    adopt([1, -1]);
    equal(store.used, 1, "a report not queued again loses its page");
    reboot.keepReports([]);
    equal(store.used, 0);
  });

  test("clear erases every slot", () => {
    const store = new MemoryPageStore(16, 256);
    const { outbox } = open(store);
    fill(outbox, 0, 50);
    outbox.putReport(1, { key: "r", value: { a: 1 }, utcSeconds: UTC, at: 0 });
    outbox.flush();
    ok(store.used > 3);
    outbox.clear();
    equal(store.used, 0);
    equal(outbox.size, 0);
    equal(open(store, 1000, 2).outbox.size, 0);
  });
});
