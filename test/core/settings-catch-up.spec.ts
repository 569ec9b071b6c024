// Settings read back at boot and after a subscription gap (device/settings-catch-up.ts): the
// newest value of settings.reset, then of each settable key, limit=1; datetimes decide what is
// applied; lost reads are tried again on a backoff; one device.settings per round that changed
// something (and after the first complete round).
import { parseDeviceConfig } from "../../device/config.js";
import { SETTABLE_SETTINGS } from "../../device/settable-settings.js";
import { SettingsCatchUp } from "../../device/settings-catch-up.js";
import { SettingsService } from "../../device/settings-service.js";
import type { ReadOptions } from "../../thethings/client.js";
import { ThethingsError } from "../../thethings/errors.js";
import type { ThingValue } from "../../thethings/values.js";
import { MemoryStore } from "../core-fakes/thethings-fakes.js";
import { deepEqual, equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { FakeClock } from "../sim/fake-clock.js";
import { ConstantRandom } from "../sim/seeded-random.js";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

class FakeReader {
  readonly latest = new Map<string, ThingValue>();
  readonly asked: { key: string; options: ReadOptions | undefined }[] = [];
  /** Keys whose next reads fail (a lost exchange), each failing this many times. */
  readonly failing = new Map<string, number>();

  async read(key: string, options?: ReadOptions): Promise<ThingValue[]> {
    this.asked.push({ key, options });
    const failures = this.failing.get(key) ?? 0;
    if (failures > 0) {
      this.failing.set(key, failures - 1);
      throw new ThethingsError("network", "read", "no answer");
    }
    const value = this.latest.get(key);
    return value === undefined ? [] : [value];
  }

  set(key: string, value: unknown, datetime: number): void {
    this.latest.set(key, { key, value, datetime });
  }
}

function rig(store = new MemoryStore()) {
  const clock = new FakeClock();
  const reader = new FakeReader();
  const applied: string[] = [];
  const reports: { interval: unknown; urgent: boolean }[] = [];
  const settings = new SettingsService({
    config: parseDeviceConfig({ sensors: "", actuators: "" }),
    store,
    clock,
    log: () => undefined,
    targets: {
      telemetry: (change) => applied.push(JSON.stringify(change)),
      keepAlive: (ms) => applied.push(`keepAlive ${ms}`),
      logLevel: (level) => applied.push(`logLevel ${level}`),
      healthInterval: (ms) => applied.push(`healthInterval ${ms}`),
      reportSettings: (value, urgent) => {
        reports.push({ interval: value.interval, urgent });
        return undefined;
      },
    },
  });
  const catchUp = new SettingsCatchUp({
    reader,
    settings,
    clock,
    random: new ConstantRandom(0.5),
    log: () => undefined,
    maxWaitMs: 30_000,
  });
  return { clock, reader, applied, reports, settings, catchUp, store };
}

const EVERY_KEY = ["settings.reset", ...SETTABLE_SETTINGS.map((s) => `settings.${s.name}`)];

suite("settings: catch-up", () => {
  test("reads settings.reset, then each settable key, limit=1; applies the newest values; reports once", async () => {
    const r = rig();
    r.reader.set("settings.interval", "1s", T0);
    r.reader.set("settings.keepAlive", "1m", T0 + 1);
    r.catchUp.run();
    await r.clock.settle();
    deepEqual(
      r.reader.asked.map((a) => a.key),
      EVERY_KEY,
    );
    ok(r.reader.asked.every((a) => a.options?.limit === 1 && a.options.absentIsEmpty === true));
    deepEqual(r.applied, ['{"intervalMs":1000}', "keepAlive 60000"]);
    deepEqual(r.reports, [{ interval: "1s", urgent: true }], "one report for the round");
  });

  test("the first complete round reports the settings in force even when nothing changed; later quiet rounds do not", async () => {
    const r = rig();
    r.catchUp.run();
    await r.clock.settle();
    deepEqual(r.reports, [{ interval: "10s", urgent: false }]);
    r.catchUp.run();
    await r.clock.settle();
    equal(r.reports.length, 1, "nothing new: no report");
    r.reader.set("settings.interval", "5s", T0);
    r.catchUp.run();
    await r.clock.settle();
    deepEqual(r.reports.at(-1), { interval: "5s", urgent: true });
    r.catchUp.run();
    await r.clock.settle();
    equal(r.reports.length, 2, "the same value read again is already taken");
  });

  test("after a gap: a value written while the device could not hear is applied, one older than the latest reset is not", async () => {
    const r = rig();
    r.settings.dispatch({ key: "settings.batch", value: "5", datetime: T0 });
    r.settings.dispatch({ key: "settings.interval", value: "2s", datetime: T0 });
    r.applied.length = 0;
    // During the gap: a reset, then a new maxDelay. The batch read back is the one from before the reset.
    r.reader.set("settings.batch", "5", T0);
    r.reader.set("settings.reset", 1, T0 + 10);
    r.reader.set("settings.maxDelay", "5s", T0 + 20);
    r.catchUp.run();
    await r.clock.settle();
    deepEqual(r.applied, ['{"intervalMs":10000}', '{"batch":20}', '{"maxDelayMs":5000}']);
    equal(r.settings.value("batch"), 20, "not applied again: older than the reset");
    equal(r.settings.value("maxDelay"), 5000);
  });

  test("a settings value kept in flash is not applied twice at boot", async () => {
    const store = new MemoryStore();
    const first = rig(store);
    first.settings.dispatch({ key: "settings.interval", value: "1s", datetime: T0 });
    const writes = store.writes;
    const booted = rig(store);
    booted.reader.set("settings.interval", "1s", T0);
    booted.applied.length = 0;
    booted.catchUp.run();
    await booted.clock.settle();
    deepEqual(booted.applied, []);
    equal(store.writes, writes, "no flash write");
  });

  test("lost reads are tried again on a backoff until every key has its answer", async () => {
    const r = rig();
    r.reader.set("settings.interval", "1s", T0);
    r.reader.failing.set("settings.reset", 1);
    r.catchUp.run();
    await r.clock.settle();
    equal(r.reader.asked.length, 1, "without the reset the round waits: values could not be told apart");
    deepEqual(r.applied, []);
    await r.clock.advance(2_000);
    deepEqual(r.applied, ['{"intervalMs":1000}']);
    r.reader.failing.set("settings.logLevel", 1);
    r.reader.set("settings.logLevel", "warn", T0);
    const asked = r.reader.asked.length;
    r.catchUp.run();
    await r.clock.settle();
    equal(r.reader.asked.length - asked, EVERY_KEY.length);
    await r.clock.advance(4_000);
    deepEqual(r.applied.at(-1), "logLevel warn", "the failed key's next round read it");
  });

  test("gives up after MAX_ROUNDS rounds; a newer run supersedes one waiting to retry", async () => {
    const r = rig();
    r.reader.failing.set("settings.reset", 100);
    r.catchUp.run();
    await r.clock.advance(600_000);
    equal(r.reader.asked.length, SettingsCatchUp.MAX_ROUNDS);
    const r2 = rig();
    r2.reader.failing.set("settings.reset", 1);
    r2.catchUp.run();
    await r2.clock.settle();
    r2.catchUp.run();
    await r2.clock.settle();
    equal(r2.reader.asked.length, 1 + EVERY_KEY.length);
    await r2.clock.advance(60_000);
    equal(r2.reader.asked.length, 1 + EVERY_KEY.length, "the superseded retry never ran");
    r2.catchUp.close();
    r2.catchUp.run();
    await r2.clock.settle();
    equal(r2.reader.asked.length, 1 + EVERY_KEY.length, "closed: no more reads");
  });
});
