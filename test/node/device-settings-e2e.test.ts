// Settings written on the platform, end to end: the device core on Node adapters (the PC
// runner) against the local platform over loopback UDP, written to by another CoAP client.
// settings.interval changes the spacing of the values' datetimes within one old interval, a bad
// value is refused and shown in device.settings, settings survive a reboot and are caught up at
// boot, settings.reset returns to the build-time values; device.boot arrives at each boot and
// device.health every period.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { FIRMWARE_VERSION } from "../../device/firmware-version.js";
import { TOKEN_STORE_KEY } from "../../device/provisioning.js";
import { SETTINGS_STORE_KEY } from "../../device/settings-service.js";
import { DeviceUnderTest, RestartablePlatform, sleep, waitFor, writeAsAnotherClient } from "../e2e/harness.js";

const CODE = "E2ESETTINGSCODE0000000000000000001";
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function platformWith(): Promise<RestartablePlatform> {
  const platform = new RestartablePlatform([CODE]);
  cleanups.push(() => platform.dispose());
  await platform.start();
  return platform;
}

function deviceFor(stateDir?: string): DeviceUnderTest {
  const device = new DeviceUnderTest(stateDir);
  cleanups.push(() => device.dispose());
  return device;
}

const SETTINGS = Object.freeze({ interval: "5s", batch: "2", maxDelay: "1s", keepAlive: "5s" });

function stored(platform: RestartablePlatform, key: string): { value: unknown; datetime: number }[] {
  return platform
    .storedValues()
    .filter((v) => v.key === key)
    .map((v) => ({ value: JSON.parse(v.value) as unknown, datetime: v.datetime }));
}

/** The newest device.settings the platform stored. */
function settingsReport(platform: RestartablePlatform): Record<string, unknown> | undefined {
  return stored(platform, "device.settings").at(-1)?.value as Record<string, unknown> | undefined;
}

function temperatureDatetimes(platform: RestartablePlatform, from: number, to = Number.POSITIVE_INFINITY): number[] {
  return stored(platform, "temperature")
    .map((v) => v.datetime)
    .filter((datetime) => datetime >= from && datetime <= to);
}

async function started(platform: RestartablePlatform, device: DeviceUnderTest, extra = {}): Promise<string> {
  await device.start({ server: `coap://127.0.0.1:${platform.port}`, activationCode: CODE, ...SETTINGS, ...extra });
  await waitFor("the subscription", () => device.count("subscribed") > 0, 10_000);
  // The boot's read of the settings ends with a device.settings report.
  await waitFor("the boot's device.settings", () => settingsReport(platform) !== undefined, 10_000);
  return device.running!.store.read(TOKEN_STORE_KEY)!;
}

test("settings.interval = 1s changes the spacing of the following values within one old interval of 5 s; a bad value is refused and shown", async (t) => {
  const platform = await platformWith();
  const device = deviceFor();
  const token = await started(platform, device);
  deepEqualSettings(settingsReport(platform)!, { interval: "5s", batch: 2, errors: {} });
  await waitFor("values 5 s apart", () => temperatureDatetimes(platform, 0).length >= 2, 15_000);
  const before = temperatureDatetimes(platform, 0);
  assert.equal(before.at(-1)! - before.at(-2)!, 5_000, "the build-time interval");

  const writtenAt = Date.now();
  assert.equal(await writeAsAnotherClient(platform.port, token, [{ key: "settings.interval", value: "1s" }]), "2.01");
  await waitFor("device.settings with the new interval", () => settingsReport(platform)?.interval === "1s", 5_000);
  // One old interval after the write, plus the time the last batch takes to go.
  await sleep(5_000 + 1_500);
  const from = Math.floor(writtenAt / 1000) * 1000;
  const within = temperatureDatetimes(platform, from, writtenAt + 5_000);
  assert.ok(within.length >= 4, `values within one old interval after the write: ${within.length}`);
  const gaps = within.slice(1).map((d, i) => d - within[i]!);
  t.diagnostic(
    `before the write: ${before.at(-1)! - before.at(-2)!} ms apart; after it: ${within.length} values within 5 s, gaps ${gaps.join(", ")} ms`,
  );
  assert.ok(
    gaps.every((gap) => gap >= 0 && gap <= 2_000),
    `a second apart (whole-second datetimes): ${gaps.join(", ")}`,
  );
  assert.ok(
    gaps.filter((gap) => gap === 1_000).length >= gaps.length - 1,
    `nearly every gap is exactly 1 s: ${gaps.join(", ")}`,
  );

  assert.equal(await writeAsAnotherClient(platform.port, token, [{ key: "settings.batch", value: "0" }]), "2.01");
  await waitFor(
    "the refusal in device.settings",
    () => (settingsReport(platform)?.errors as Record<string, string> | undefined)?.batch !== undefined,
    5_000,
  );
  const report = settingsReport(platform)!;
  assert.deepEqual(report.errors, { batch: '"0" is outside 1–500' });
  assert.equal(report.batch, 2, "not applied");
  assert.equal(report.interval, "1s");
  assert.equal(
    device.events.filter((e) => e.event.event === "command").length,
    0,
    "neither the settings nor the device's own reports coming back drove an output",
  );
});

test("a setting survives a reboot, settings written while the device was off are caught up at boot, settings.reset returns to the build-time values; device.boot at each boot", async (t) => {
  const platform = await platformWith();
  const first = deviceFor();
  const token = await started(platform, first);
  assert.equal(await writeAsAnotherClient(platform.port, token, [{ key: "settings.interval", value: "1s" }]), "2.01");
  await waitFor("the new interval applied", () => settingsReport(platform)?.interval === "1s", 5_000);
  first.stop();
  // Written while the device is off: nobody hears it pushed.
  assert.equal(await writeAsAnotherClient(platform.port, token, [{ key: "settings.maxDelay", value: "2s" }]), "2.01");

  // The second boot starts with the platform away: what it samples then follows the flash alone.
  await platform.stop();
  const second = deviceFor(first.stateDir);
  const bootedAt = Date.now();
  await second.start({ server: `coap://127.0.0.1:${platform.port}`, ...SETTINGS });
  const flash = JSON.parse(second.running!.store.read(SETTINGS_STORE_KEY)!) as Record<string, unknown[]>;
  assert.equal(flash.interval?.[0], "1s", "kept in flash");
  await sleep(4_500);
  await platform.start();
  await waitFor("the second boot's subscription", () => second.count("subscribed") > 0, 20_000);
  await waitFor("the values sampled offline", () => second.running!.device.stats().sent >= 8, 20_000);
  const offline = temperatureDatetimes(platform, Math.ceil(bootedAt / 1000) * 1000, bootedAt + 4_500);
  assert.ok(offline.length >= 3, `sampled while offline: ${offline.length}`);
  const gaps = offline.slice(1).map((d, i) => d - offline[i]!);
  t.diagnostic(`second boot, platform away: ${offline.length} values, gaps ${gaps.join(", ")} ms`);
  assert.ok(
    gaps.every((gap) => gap >= 0 && gap <= 2_000),
    `a second apart, not the build-time 5 s: ${gaps.join(", ")}`,
  );
  await waitFor("maxDelay caught up at boot", () => settingsReport(platform)?.maxDelay === "2s", 10_000);

  const boots = stored(platform, "device.boot");
  assert.equal(boots.length, 2, "device.boot at each boot");
  for (const boot of boots)
    assert.deepEqual(boot.value, { firmware: FIRMWARE_VERSION, reset: "unknown", outputs: "led:digital" });

  assert.equal(await writeAsAnotherClient(platform.port, token, [{ key: "settings.reset", value: 1 }]), "2.01");
  await waitFor("back to the build-time values", () => settingsReport(platform)?.interval === "5s", 5_000);
  deepEqualSettings(settingsReport(platform)!, { interval: "5s", maxDelay: "1s", errors: {} });
  // The reset's flash write may wait out the minute since the boot's catch-up wrote maxDelay
  // (MIN_FLASH_WRITE_GAP_MS); a clean stop writes it at once.
  const store = second.running!.store;
  second.stop();
  assert.equal(store.read(SETTINGS_STORE_KEY), undefined, "the flash holds none");
});

test("device.health every healthInterval: uptime and the counters; no heap or RSSI on the PC (V8)", async (t) => {
  const platform = await platformWith();
  const device = deviceFor();
  await started(platform, device, { healthInterval: "2s" });
  await waitFor("three health reports", () => stored(platform, "device.health").length >= 3, 15_000);
  const health = stored(platform, "device.health").map((h) => h.value as Record<string, number>);
  for (const report of health) {
    assert.deepEqual(Object.keys(report), ["uptime", "retransmissions", "dropped", "buffered"]);
    assert.equal(report.dropped, 0);
    assert.ok(report.buffered! >= 0 && report.retransmissions! >= 0);
  }
  const uptimes = health.map((h) => h.uptime!);
  t.diagnostic(`device.health: ${JSON.stringify(health)}`);
  assert.ok(
    uptimes.slice(1).every((u, i) => u - uptimes[i]! === 2),
    `every 2 s: ${uptimes.join(", ")}`,
  );
});

/** `report` holds every settable setting, and the given ones with these values. */
function deepEqualSettings(report: Record<string, unknown>, expected: Record<string, unknown>): void {
  assert.deepEqual(Object.keys(report), [
    "interval",
    "batch",
    "maxDelay",
    "persistAfter",
    "keepAlive",
    "logLevel",
    "healthInterval",
    "errors",
  ]);
  for (const [key, value] of Object.entries(expected)) assert.deepEqual(report[key], value, key);
}
