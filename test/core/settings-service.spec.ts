// Device settings written on the platform (device/settings-service.ts): each settable setting
// applied through its target in the build-time grammar, refused values reported and never
// applied, kept in flash (written only when the value changed), settings.reset, datetime order,
// hostile values, and what device.settings carries.
import { parseDeviceConfig } from "../../device/config.js";
import { ConfigError } from "../../device/config-error.js";
import {
  checkDuration,
  checkDurationOrOff,
  checkInteger,
  checkLogLevel,
  formatDuration,
  parseDuration,
  parseDurationOrOff,
  parseInteger,
  parseLogLevel,
} from "../../device/config-values.js";
import type { SettingTargets } from "../../device/settable-settings.js";
import { SETTABLE_SETTINGS } from "../../device/settable-settings.js";
import {
  MAX_SETTING_TEXT,
  MIN_FLASH_WRITE_GAP_MS,
  SETTINGS_STORE_KEY,
  type SettingSource,
  SettingsService,
} from "../../device/settings-service.js";
import type { JsonObjectValue } from "../../thethings/values.js";
import { MemoryStore, RecordingLog } from "../core-fakes/thethings-fakes.js";
import { deepEqual, equal, ok, throws } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { FakeClock } from "../sim/fake-clock.js";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

interface Rig {
  readonly service: SettingsService;
  readonly clock: FakeClock;
  readonly applied: string[];
  readonly reports: { value: JsonObjectValue; urgent: boolean }[];
  readonly store: MemoryStore;
  readonly log: RecordingLog;
  /** `datetime` null: the value carries none. */
  take(key: string, value: unknown, datetime?: number | null, source?: SettingSource): string;
}

function rig(store = new MemoryStore(), settings: Record<string, string> = {}): Rig {
  const applied: string[] = [];
  const reports: { value: JsonObjectValue; urgent: boolean }[] = [];
  const log = new RecordingLog();
  const clock = new FakeClock();
  const targets: SettingTargets = {
    telemetry: (change) => applied.push(`telemetry ${JSON.stringify(change)}`),
    keepAlive: (ms) => applied.push(`keepAlive ${ms}`),
    logLevel: (level) => applied.push(`logLevel ${level}`),
    healthInterval: (ms) => applied.push(`healthInterval ${ms}`),
    reportSettings: (value, urgent) => {
      reports.push({ value, urgent });
      return undefined;
    },
  };
  const service = new SettingsService({
    config: parseDeviceConfig({ sensors: "", actuators: "", ...settings }),
    store,
    clock,
    log: log.sink,
    targets,
  });
  return {
    service,
    clock,
    applied,
    reports,
    store,
    log,
    take: (key, value, at = T0, source = "subscription") => {
      const item = { key, value, datetime: at === null ? undefined : at };
      return source === "subscription" ? service.dispatch(item) : service.take(item, source);
    },
  };
}

const BUILD_TIME = Object.freeze({
  interval: "10s",
  batch: 20,
  maxDelay: "1m",
  persistAfter: "auto",
  keepAlive: "30s",
  logLevel: "info",
  healthInterval: "10m",
});

suite("settings: apply", () => {
  test("each setting is checked by its build-time parser and applied at once through its target", () => {
    const r = rig();
    equal(r.take("settings.interval", "1s"), "applied");
    equal(r.take("settings.batch", 5), "applied", "a JSON number");
    equal(r.take("settings.maxDelay", 2500), "applied", "a bare number is milliseconds");
    equal(r.take("settings.persistAfter", "2m"), "applied");
    equal(r.take("settings.keepAlive", "45s"), "applied");
    equal(r.take("settings.logLevel", " DEBUG "), "applied", "the parser trims and lower-cases");
    equal(r.take("settings.healthInterval", "0"), "applied", "0 turns the health report off");
    deepEqual(r.applied, [
      'telemetry {"intervalMs":1000}',
      'telemetry {"batch":5}',
      'telemetry {"maxDelayMs":2500}',
      'telemetry {"persistAfterMs":120000}',
      "keepAlive 45000",
      "logLevel debug",
      "healthInterval 0",
    ]);
    deepEqual(r.service.snapshot(), {
      interval: "1s",
      batch: 5,
      maxDelay: "2500ms",
      persistAfter: "2m",
      keepAlive: "45s",
      logLevel: "debug",
      healthInterval: "0s",
      errors: {},
    });
    equal(r.service.value("interval"), 1000);
    equal(r.service.value("keepAlive"), 45_000);
    equal(r.service.value("server"), undefined, "not a settable setting");
  });

  test("a value pushed on the subscription is reported at once (urgent); the same value again changes nothing", () => {
    const r = rig();
    r.take("settings.interval", "2s");
    equal(r.reports.length, 1);
    equal(r.reports[0]!.urgent, true);
    equal(r.reports[0]!.value.interval, "2s");
    equal(r.take("settings.interval", "2000ms", T0 + 1000), "unchanged");
    equal(r.applied.length, 1, "applied once");
    equal(r.reports.length, 2, "the writer still hears back");
  });

  test("every settable setting has its build-time value until one is written", () => {
    const r = rig(undefined, { interval: "5s", batch: "7", healthInterval: "0" });
    deepEqual(r.service.snapshot(), { ...BUILD_TIME, interval: "5s", batch: 7, healthInterval: "0s", errors: {} });
    deepEqual(r.applied, [], "nothing applied at construction without flash");
    deepEqual(
      SETTABLE_SETTINGS.map((s) => s.name),
      ["interval", "batch", "maxDelay", "persistAfter", "keepAlive", "logLevel", "healthInterval"],
    );
  });

  test("persistAfter: auto (maxDelay + 30 s, following maxDelay) or a duration, as at build time", () => {
    const r = rig(undefined, { persistAfter: "90s" });
    equal(r.service.snapshot().persistAfter, "90s");
    equal(r.take("settings.persistAfter", " AUTO "), "applied", "any case, trimmed");
    equal(r.take("settings.persistAfter", "50ms", T0 + 1000), "refused", "below 100ms");
    equal(r.take("settings.persistAfter", "5s", T0 + 2000), "applied");
    deepEqual(r.applied, ['telemetry {"persistAfterMs":"auto"}', 'telemetry {"persistAfterMs":5000}']);
    const report = r.reports.at(-1)!.value;
    equal(report.persistAfter, "5s");
    deepEqual(report.errors, {});
    equal(r.take("settings.reset", 1, T0 + 3000), "reset");
    equal(r.service.snapshot().persistAfter, "90s", "back to the build-time value");
  });
});

suite("settings: refuse", () => {
  test("a value the build-time parser refuses is reported in errors and never applied", () => {
    const r = rig();
    equal(r.take("settings.batch", "0"), "refused");
    equal(r.take("settings.interval", "10 s"), "refused");
    equal(r.take("settings.keepAlive", "1s"), "refused", "below the keep-alive bounds");
    equal(r.take("settings.healthInterval", "500ms"), "refused");
    deepEqual(r.applied, []);
    const report = r.reports.at(-1)!.value;
    deepEqual(report.errors, {
      interval:
        '"10 s" is not a duration in whole milliseconds (e.g. 500ms, 10s, 2m, 1h; a bare number is milliseconds)',
      batch: '"0" is outside 1–500',
      keepAlive: '"1s" is outside 5s–1h',
      healthInterval: '"500ms" is outside 1s–24h (0 turns it off)',
    });
    equal(report.batch, 20, "the effective value stays");
    equal(r.take("settings.batch", "12", T0 + 1000), "applied");
    equal((r.reports.at(-1)!.value.errors as Record<string, string>).batch, undefined, "a good value clears the error");
    equal(r.store.writes, 1, "only the applied value reached the flash");
  });

  test("batch is bounded by the build-time bufferSize", () => {
    const r = rig(undefined, { bufferSize: "50", batch: "10" });
    equal(r.take("settings.batch", "51"), "refused");
    equal((r.service.snapshot().errors as Record<string, string>).batch, '"51" is outside 1–50');
    equal(r.take("settings.batch", "50", T0 + 1), "applied");
  });

  test("hostile values are refused and reported, never applied, and what is kept does not grow", () => {
    const r = rig();
    const hostile: unknown[] = [
      true,
      null,
      { a: 1 },
      [1, 2],
      { a: { b: { c: { d: [[[1]]] } } } },
      "9".repeat(10_000),
      " ".repeat(5_000) + "1s",
      -1,
      1e21,
      "0x10s",
      "Infinity",
      "1e3",
    ];
    for (const name of ["interval", "batch", "maxDelay", "persistAfter", "keepAlive", "logLevel", "healthInterval"]) {
      hostile.forEach((value, i) => {
        equal(r.take(`settings.${name}`, value, T0 + i), "refused", `${name} = ${JSON.stringify(value)?.slice(0, 20)}`);
      });
    }
    deepEqual(r.applied, [], "nothing applied");
    deepEqual(r.service.snapshot(), { ...BUILD_TIME, errors: r.service.snapshot().errors });
    const errors = r.service.snapshot().errors as Record<string, string>;
    deepEqual(Object.keys(errors), [
      "interval",
      "batch",
      "maxDelay",
      "persistAfter",
      "keepAlive",
      "logLevel",
      "healthInterval",
    ]);
    for (const error of Object.values(errors)) ok(error.length < 200, `a bounded message: ${error.length}`);
    ok(errors.interval!.startsWith('"1e3" is not a duration'), "each name keeps its newest refusal");
    r.take("settings.interval", "9".repeat(10_000), T0 + 100);
    equal(
      (r.service.snapshot().errors as Record<string, string>).interval,
      `10000 characters, at most ${MAX_SETTING_TEXT}`,
      "a long text is refused before it is parsed",
    );
    r.take("settings.interval", { deep: [[[[{}]]]] }, T0 + 101);
    equal((r.service.snapshot().errors as Record<string, string>).interval, "expected text or a number, got an object");
    const reportSize = (): number => JSON.stringify(r.service.snapshot()).length;
    r.take("settings.nothing0", 1, T0 + 200);
    const size = reportSize();
    for (let i = 1; i < 1_000; i++) equal(r.take(`settings.nothing${i % 10}`, 1, T0 + 200 + i), "refused");
    equal(reportSize(), size, "a thousand unknown names keep one error");
  });

  test("unknown names and build-time-only settings are refused under errors.unknown", () => {
    const r = rig();
    equal(r.take("settings.speed", "1"), "refused");
    equal(
      (r.service.snapshot().errors as Record<string, string>).unknown,
      '"speed" is not a setting (interval, batch, maxDelay, persistAfter, keepAlive, logLevel, healthInterval)',
    );
    equal(r.take("settings.server", "coap://evil.example"), "refused");
    equal((r.service.snapshot().errors as Record<string, string>).unknown, '"server" cannot change at run time');
    equal(r.take("settings.", "1"), "refused");
    equal(r.take("settings.x".padEnd(200, "x"), "1"), "refused");
    ok(
      ((r.service.snapshot().errors as Record<string, string>).unknown?.length ?? 0) < 160,
      "a long name is cut short",
    );
    equal(r.take("temperature", 1), "not-a-setting");
    equal(r.take("device.settings", { interval: "1s" }), "not-a-setting", "the device's own report changes nothing");
    deepEqual(r.applied, []);
  });
});

suite("settings: persist", () => {
  test("kept in flash, written only when the value changed; a reboot applies them before anything else", async () => {
    const store = new MemoryStore();
    const first = rig(store);
    first.take("settings.interval", "1s", T0);
    equal(store.writes, 1, "the first change is written at once");
    first.take("settings.logLevel", "warn", T0 + 1);
    equal(store.writes, 1, "the next waits for the flash gap");
    await first.clock.advance(MIN_FLASH_WRITE_GAP_MS);
    equal(store.writes, 2);
    first.take("settings.interval", "1000ms", T0 + 2);
    equal(store.writes, 2, "the same value with a newer datetime is not written again");
    first.take("settings.batch", "0", T0 + 3);
    equal(store.writes, 2, "a refused value is not written");
    deepEqual(JSON.parse(store.data.get(SETTINGS_STORE_KEY)!), { interval: ["1s", T0], logLevel: ["warn", T0 + 1] });

    const second = rig(store);
    deepEqual(second.applied, ['telemetry {"intervalMs":1000}', "logLevel warn"], "applied at construction");
    equal(second.service.snapshot().interval, "1s");
    equal(second.service.snapshot().logLevel, "warn");
    equal(second.take("settings.interval", "1s", T0, "catch-up"), "already-taken", "the catch-up finds it taken");
  });

  test("values alternating fast wear the flash at most once a minute; the last one is what stays", async () => {
    const store = new MemoryStore();
    const r = rig(store);
    // One change a second for ten minutes, alternating: 600 applied, a write a minute at most.
    for (let i = 0; i < 600; i++) {
      equal(r.take("settings.interval", i % 2 === 0 ? "1s" : "2s", T0 + i * 1_000), "applied");
      await r.clock.advance(1_000);
    }
    ok(store.writes <= 11, `${store.writes} flash writes for 600 changes`);
    ok(store.writes >= 10, `${store.writes}: the held change is written at the end of each gap`);
    await r.clock.advance(MIN_FLASH_WRITE_GAP_MS);
    equal(rig(store).service.value("interval"), 2_000, "the last value reached the flash");

    const back = new MemoryStore();
    const b = rig(back);
    b.take("settings.batch", "5", T0);
    b.take("settings.batch", "7", T0 + 1);
    b.take("settings.batch", "5", T0 + 2);
    await b.clock.advance(MIN_FLASH_WRITE_GAP_MS);
    equal(back.writes, 1, "back to what flash holds within the gap: nothing more written");
    b.service.close();
    equal(back.writes, 1, "nor at close");
  });

  test("a value equal to the build-time one is kept too: it wins over a later build", () => {
    const store = new MemoryStore();
    rig(store).take("settings.interval", "10s");
    equal(store.writes, 1);
    const rebuilt = rig(store, { interval: "30s" });
    equal(rebuilt.service.snapshot().interval, "10s");
  });

  test("an unreadable copy in flash, or a value in it the parser now refuses, is left out with a warning", () => {
    const store = new MemoryStore();
    store.write(SETTINGS_STORE_KEY, "{not json");
    const broken = rig(store);
    deepEqual(broken.service.snapshot(), { ...BUILD_TIME, errors: {} });
    equal(broken.log.at("warn").length, 1);
    store.write(SETTINGS_STORE_KEY, JSON.stringify({ interval: ["1h", null], batch: [5000, null], maxDelay: "2s" }));
    const partly = rig(store);
    equal(partly.service.snapshot().interval, "1h");
    equal(partly.service.snapshot().batch, 20);
    equal(partly.service.snapshot().maxDelay, "1m");
    equal(partly.log.at("warn").length, 2, "batch and maxDelay left out");
  });

  test("a flash that fails to write leaves the settings in force until reboot; once it works, the next write keeps them", async () => {
    const store = new MemoryStore();
    const r = rig(store);
    store.failure = new Error("nvs full");
    equal(r.take("settings.interval", "3s"), "applied");
    equal(r.service.value("interval"), 3000);
    equal(r.log.matching("until reboot").length, 1);
    store.failure = undefined;
    equal(r.take("settings.batch", "7", T0 + 1), "applied");
    equal(store.data.has(SETTINGS_STORE_KEY), false, "the failed write counts for the gap");
    await r.clock.advance(MIN_FLASH_WRITE_GAP_MS);
    deepEqual(JSON.parse(store.data.get(SETTINGS_STORE_KEY)!), { interval: ["3s", T0], batch: [7, T0 + 1] });
  });
});

suite("settings: reset and order", () => {
  test("settings.reset (any value) returns to the build-time values, clears the errors and the flash", async () => {
    const store = new MemoryStore();
    const r = rig(store);
    r.take("settings.interval", "1s", T0);
    r.take("settings.keepAlive", "1m", T0 + 1);
    r.take("settings.batch", "-3", T0 + 2);
    r.applied.length = 0;
    equal(r.take("settings.reset", { anything: true }, T0 + 10), "reset");
    deepEqual(r.applied, ['telemetry {"intervalMs":10000}', "keepAlive 30000"], "back to the build-time values");
    deepEqual(r.reports.at(-1)!.value, { ...BUILD_TIME, errors: {} });
    await r.clock.advance(MIN_FLASH_WRITE_GAP_MS);
    equal(store.data.has(SETTINGS_STORE_KEY), false);
    equal(r.take("settings.interval", "1s", T0 + 5), "stale", "a value older than the reset is not applied");
    equal(r.take("settings.interval", "1s", T0 + 11), "applied", "a newer one is");
    equal(r.take("settings.reset", 1, T0 + 10, "catch-up"), "already-taken");
    r.service.close();
    equal(rig(store).service.value("interval"), 1000, "close() wrote the change the gap held back");
  });

  test("a reset read back at boot drops what the flash kept from before it, and keeps what came after", () => {
    const store = new MemoryStore();
    const before = rig(store);
    before.take("settings.interval", "1s", T0);
    before.take("settings.batch", "5", T0 + 20);
    before.service.close();
    const booted = rig(store);
    booted.applied.length = 0;
    equal(booted.take("settings.reset", "", T0 + 10, "catch-up"), "reset");
    deepEqual(booted.applied, ['telemetry {"intervalMs":10000}']);
    equal(booted.service.value("batch"), 5, "written after the reset");
    deepEqual(JSON.parse(store.data.get(SETTINGS_STORE_KEY)!), { batch: [5, T0 + 20] });
  });

  test("a value older than the newest one taken for its name arrives late: ignored, even after a refusal", () => {
    const r = rig();
    r.take("settings.interval", "2s", T0 + 10);
    equal(r.take("settings.interval", "3s", T0 + 5), "stale");
    equal(r.service.value("interval"), 2000);
    r.take("settings.batch", "0", T0 + 10);
    equal(r.take("settings.batch", "5", T0 + 5), "stale", "the newest value was refused: the older one does not win");
    equal(r.take("settings.interval", "4s", null), "applied", "no datetime: arrival order");
    equal(r.reports.length, 3, "stale values are not reported");
  });
});

suite("settings: the build-time parsers, answering instead of throwing", () => {
  test("each check* gives the value or the problem its parse* throws as a ConfigError, word for word", () => {
    const cases: [() => unknown, () => unknown][] = [
      [() => checkDuration("10 s", 100, 1_000), () => parseDuration("interval", "10 s", 100, 1_000)],
      [() => checkDuration("5s", 100, 1_000), () => parseDuration("interval", "5s", 100, 1_000)],
      [() => checkDuration(null, 100, 1_000), () => parseDuration("interval", null, 100, 1_000)],
      [() => checkInteger("0", 1, 500), () => parseInteger("batch", "0", 1, 500)],
      [() => checkInteger("x", 1, 500), () => parseInteger("batch", "x", 1, 500)],
      [() => checkDurationOrOff("500ms", 1_000, 86_400_000), () => parseDurationOrOff("h", "500ms", 1_000, 86_400_000)],
      [() => checkLogLevel("loud"), () => parseLogLevel("logLevel", "loud")],
    ];
    for (const [check, parse] of cases) {
      const refused = check() as { refused: string };
      const error = throws(parse, (e) => e instanceof ConfigError) as ConfigError;
      ok(error.message.endsWith(`: ${refused.refused}`), `${error.message} / ${refused.refused}`);
    }
    equal(checkDuration("1.5s", 100, 10_000), 1_500);
    equal(checkDurationOrOff("0", 1_000, 10_000), 0);
    equal(checkInteger("0x10", 1, 500), 16);
    equal(checkLogLevel(" WARN "), "warn");
    equal(parseDuration("interval", "2m", 100, 86_400_000), 120_000);
    deepEqual([0, 250, 1_000, 90_000, 120_000, 7_200_000].map(formatDuration), [
      "0s",
      "250ms",
      "1s",
      "90s",
      "2m",
      "2h",
    ]);
    for (const ms of [0, 250, 1_000, 90_000, 120_000, 7_200_000])
      equal(checkDuration(formatDuration(ms), 0, 86_400_000), ms, "what device.settings shows reads back the same");
  });
});
