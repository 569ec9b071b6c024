// The whole device (device/app.ts) with settings written on a simulated platform
// (test/core-fakes/sim-platform.ts), on a fake clock: a setting pushed on the subscription takes
// effect at once and is reported in device.settings, a bad one is refused and shown, the device's
// own report changes nothing, settings survive a reboot, are caught up at boot and after a gap,
// settings.reset returns to the build-time values, a new keepAlive re-registers, and device.boot
// and device.health arrive as they should.
import { Device, type DeviceEvent } from "../../device/app.js";
import { parseDeviceConfig } from "../../device/config.js";
import { LogLevelGate } from "../../device/log-level-gate.js";
import { TOKEN_STORE_KEY } from "../../device/provisioning.js";
import { MIN_FLASH_WRITE_GAP_MS, SETTINGS_STORE_KEY } from "../../device/settings-service.js";
import { SimulatedActuator } from "../../device/simulated-actuator.js";
import { type SimPlatform as Platform, SimPlatform } from "../core-fakes/sim-platform.js";
import { MemoryStore } from "../core-fakes/thethings-fakes.js";
import { deepEqual, equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { CLIENT_ADDRESS, SERVER_ADDRESS } from "../sim/endpoint-fixture.js";
import { FakeClock } from "../sim/fake-clock.js";
import { SeededRandom } from "../sim/seeded-random.js";
import { SimNetwork } from "../sim/sim-network.js";

const TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-ABCDE";
const UTC_AT_ZERO = Date.UTC(2026, 5, 1, 8, 0, 0);

interface World {
  readonly clock: FakeClock;
  readonly net: SimNetwork;
  readonly platform: Platform;
  /** While true every datagram is lost (a radio outage). */
  cut: boolean;
  /** Boots so far: each draws other message IDs and tokens, as a board's would. */
  boots: number;
}

function world(): World {
  const clock = new FakeClock();
  const net = new SimNetwork({ clock, random: new SeededRandom(21), conditions: { delayMs: 5 } });
  const platform = new SimPlatform({ network: net, address: SERVER_ADDRESS, token: TOKEN, utcAtZero: UTC_AT_ZERO });
  platform.keepAlives(10_000);
  const w: World = { clock, net, platform, cut: false, boots: 0 };
  net.drop({ where: () => w.cut }, { count: Number.MAX_SAFE_INTEGER });
  return w;
}

/** Runs the clock to `ms` since the start (so that rounds and writes fall at known instants). */
async function advanceTo(w: World, ms: number): Promise<void> {
  ok(w.clock.now() <= ms, `the clock is at ${w.clock.now()}, past ${ms}`);
  await w.clock.advance(ms - w.clock.now());
}

interface Booted {
  readonly device: Device;
  readonly events: DeviceEvent[];
  readonly lines: string[];
  readonly led: SimulatedActuator;
}

function boot(w: World, store: MemoryStore, settings: Record<string, string> = {}): Booted {
  if (store.read(TOKEN_STORE_KEY) === undefined) store.write(TOKEN_STORE_KEY, TOKEN);
  const config = parseDeviceConfig({
    server: `coap://${SERVER_ADDRESS.address}:${SERVER_ADDRESS.port}`,
    sensors: "sim",
    actuators: "led:digital:2",
    interval: "10s",
    batch: "5",
    maxDelay: "2s",
    keepAlive: "10s",
    ...settings,
  });
  const events: DeviceEvent[] = [];
  const lines: string[] = [];
  const led = new SimulatedActuator({ kind: "digital" });
  const gate = new LogLevelGate((level, message) => lines.push(`${level} ${message}`), config.logLevel);
  let n = 0;
  const device = new Device({
    config,
    ports: {
      udp: w.net.bind(CLIENT_ADDRESS),
      clock: w.clock,
      random: new SeededRandom(22 + w.boots++),
      wallClock: { utcNow: () => w.platform.utcNow() },
      store,
      log: gate.log,
      logLevel: gate,
      sensors: [{ sensor: { sample: () => ({ t: n++ }) }, readings: [{ path: "t", key: "temperature" }] }],
      actuators: [{ key: "led", output: led }],
    },
    onEvent: (event) => events.push(event),
  });
  device.start();
  return { device, events, lines, led };
}

/** The sampling datetimes (whole seconds) stored for temperature from `from` (clock ms) on, relative to it. */
function temperatureTimes(platform: Platform, from: number): number[] {
  const since = UTC_AT_ZERO + Math.floor(from / 1000) * 1000;
  return platform
    .values("temperature")
    .filter((v) => v.datetime >= since)
    .map((v) => v.datetime - since);
}

function spacing(times: readonly number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!);
}

function lastSettings(platform: Platform): Record<string, unknown> {
  const reports = platform.values("device.settings");
  ok(reports.length > 0, "device.settings was written");
  return reports.at(-1)!.value as Record<string, unknown>;
}

const subscribed = (b: Booted): number => b.events.filter((e) => e.event === "subscribed").length;

suite("device: settings written on the platform", () => {
  test("a change the flash gap held back is not lost to a power cut: the boot's catch-up brings it back", async () => {
    const w = world();
    const store = new MemoryStore();
    const b = boot(w, store);
    await w.clock.runUntil(() => subscribed(b) > 0, 10_000);
    w.platform.write("settings.interval", "2s");
    await w.clock.advance(3_000);
    w.platform.write("settings.interval", "4s");
    await w.clock.advance(3_000);
    equal(lastSettings(w.platform).interval, "4s", "applied at once");
    const kept = (s: MemoryStore): unknown =>
      (JSON.parse(s.data.get(SETTINGS_STORE_KEY)!) as { interval: unknown[] }).interval[0];
    equal(kept(store), "2s", "the second change waits for the end of the flash gap");
    // The power cut: the flash is what it held at that instant (the dying device's close() writes elsewhere).
    const atCut = new MemoryStore();
    for (const [key, value] of store.data) atCut.data.set(key, value);
    b.device.close();
    const reportsBefore = w.platform.values("device.settings").length;
    const again = boot(w, atCut);
    await w.clock.advance(5_000);
    ok(w.platform.values("device.settings").length > reportsBefore, "the new boot reported");
    equal(lastSettings(w.platform).interval, "4s", "the catch-up read it back from the platform");
    await w.clock.advance(MIN_FLASH_WRITE_GAP_MS);
    equal(kept(atCut), "4s", "and the flash has it a minute later");
    const spaced = spacing(temperatureTimes(w.platform, w.clock.now() - 30_000));
    ok(spaced.length >= 5 && spaced.every((gap) => gap === 4_000), `every 4 s: ${spaced.join(", ")}`);
    again.device.close();
    w.platform.close();
  });

  test("settings.interval = 1s changes the spacing of the following values within one old interval", async () => {
    const w = world();
    const b = boot(w, new MemoryStore());
    await w.clock.runUntil(() => subscribed(b) > 0, 10_000);
    // Rounds at 0, 10 s, 20 s …; the write half-way between two of them.
    await advanceTo(w, 15_500);
    w.platform.write("settings.interval", "1s");
    await advanceTo(w, 25_500);
    const times = temperatureTimes(w.platform, 15_500);
    ok(times.length >= 9, `values sampled within the old interval of 10 s: ${times.join(", ")}`);
    deepEqual(
      spacing(times),
      times.slice(1).map(() => 1_000),
      "a second apart",
    );
    equal(times[0], 0, "the first at once: its next round was already due");
    const report = lastSettings(w.platform);
    equal(report.interval, "1s");
    deepEqual(report.errors, {});
    ok(
      b.lines.some((line) => line.includes('interval = "1s"')),
      "logged",
    );
    b.device.close();
    w.platform.close();
  });

  test("a bad value is refused and shown in device.settings; the report coming back changes nothing", async () => {
    const w = world();
    const b = boot(w, new MemoryStore());
    await w.clock.runUntil(() => subscribed(b) > 0, 10_000);
    await w.clock.advance(5_000);
    const reportsBefore = w.platform.values("device.settings").length;
    w.platform.write("settings.batch", "0");
    await w.clock.advance(5_000);
    const report = lastSettings(w.platform);
    equal(report.batch, 5, "the effective value stays");
    deepEqual(report.errors, { batch: '"0" is outside 1–500' });
    equal(w.platform.values("device.settings").length, reportsBefore + 1, "one report, not an echo loop");
    await w.clock.advance(30_000);
    equal(w.platform.values("device.settings").length, reportsBefore + 1);
    equal(
      b.events.filter((e) => e.event === "command").length,
      0,
      "neither the setting nor the reports drove an output",
    );
    b.device.close();
    w.platform.close();
  });

  test("a setting survives a reboot: the second boot samples every second before it can reach the platform", async () => {
    const w = world();
    const store = new MemoryStore();
    const first = boot(w, store);
    await w.clock.runUntil(() => subscribed(first) > 0, 10_000);
    await advanceTo(w, 20_500);
    w.platform.write("settings.interval", "1s");
    await advanceTo(w, 25_500);
    first.device.close();
    ok(store.data.has(SETTINGS_STORE_KEY), "kept in flash");
    w.cut = true;
    await advanceTo(w, 26_000);
    const second = boot(w, store);
    await advanceTo(w, 31_500);
    w.cut = false;
    await w.clock.advance(30_000);
    const times = temperatureTimes(w.platform, 26_000);
    deepEqual(times.slice(0, 6), [0, 1_000, 2_000, 3_000, 4_000, 5_000], "sampled every second while offline");
    equal(w.platform.values("device.boot").length, 2, "device.boot at each boot");
    second.device.close();
    w.platform.close();
  });

  test("a setting written while the device was off is caught up at boot; one written during a gap after it returns", async () => {
    const w = world();
    const store = new MemoryStore();
    w.platform.write("settings.maxDelay", "4s");
    const b = boot(w, store);
    await w.clock.runUntil(() => subscribed(b) > 0, 10_000);
    await w.clock.advance(3_000);
    equal(lastSettings(w.platform).maxDelay, "4s", "read back at boot");
    // The radio goes: the subscription falls silent, and a write meanwhile reaches nobody.
    w.cut = true;
    await w.clock.advance(2_000);
    w.platform.write("settings.logLevel", "debug");
    await w.clock.advance(20_000);
    ok(
      b.events.some((e) => e.event === "subscription-lost"),
      "the subscription was lost",
    );
    equal(lastSettings(w.platform).logLevel, "info", "not heard yet");
    w.cut = false;
    const before = subscribed(b);
    await w.clock.runUntil(() => subscribed(b) > before, 60_000);
    await w.clock.advance(5_000);
    equal(lastSettings(w.platform).logLevel, "debug", "caught up after the gap");
    ok(
      b.lines.some((line) => line.startsWith("debug ")),
      "and in force: debug lines now reach the log",
    );
    b.device.close();
    w.platform.close();
  });

  test("settings.reset returns to the build-time values; at the next boot the flash holds nothing", async () => {
    const w = world();
    const store = new MemoryStore();
    const b = boot(w, store, { interval: "2s" });
    await w.clock.runUntil(() => subscribed(b) > 0, 10_000);
    w.platform.write("settings.interval", "1s");
    w.platform.write("settings.healthInterval", "3s");
    await w.clock.advance(3_000);
    equal(lastSettings(w.platform).interval, "1s");
    w.platform.write("settings.reset", "");
    await w.clock.advance(3_000);
    const report = lastSettings(w.platform);
    equal(report.interval, "2s");
    equal(report.healthInterval, "10m");
    const resetAt = w.clock.now();
    await w.clock.advance(14_000);
    const times = temperatureTimes(w.platform, resetAt + 2_000);
    ok(times.length >= 4, `values after the reset: ${times.join(", ")}`);
    deepEqual(
      spacing(times),
      times.slice(1).map(() => 2_000),
      "every 2 s again",
    );
    await w.clock.advance(MIN_FLASH_WRITE_GAP_MS);
    equal(store.data.has(SETTINGS_STORE_KEY), false, "flash emptied, at most a minute after its last write");
    b.device.close();
    const again = boot(w, store, { interval: "2s" });
    await w.clock.advance(5_000);
    equal(lastSettings(w.platform).interval, "2s", "the values before the reset are not applied again");
    again.device.close();
    w.platform.close();
  });

  test("a new keepAlive registers the subscription again, asking the platform for it", async () => {
    const w = world();
    const b = boot(w, new MemoryStore());
    await w.clock.runUntil(() => subscribed(b) > 0, 10_000);
    deepEqual(w.platform.registrations, [10_000]);
    w.platform.write("settings.keepAlive", "20s");
    await w.clock.advance(2_000);
    deepEqual(w.platform.registrations, [10_000, 20_000]);
    equal(lastSettings(w.platform).keepAlive, "20s");
    w.platform.write("led", 1);
    await w.clock.advance(1_000);
    equal(b.led.level, 1, "commands still arrive on the new subscription");
    b.device.close();
    w.platform.close();
  });

  test("device.health every healthInterval, with the counters and without heap or RSSI the target cannot give", async () => {
    const w = world();
    const b = boot(w, new MemoryStore(), { healthInterval: "5s", maxDelay: "1s" });
    await w.clock.advance(22_000);
    const health = w.platform.values("device.health");
    equal(health.length, 4);
    deepEqual(Object.keys(health[0]!.value as object), ["uptime", "retransmissions", "dropped", "buffered"]);
    deepEqual(
      health.map((h) => (h.value as { uptime: number }).uptime),
      [5, 10, 15, 20],
    );
    w.platform.write("settings.healthInterval", "0");
    await w.clock.advance(30_000);
    equal(w.platform.values("device.health").length, 4, "0 turns it off");
    b.device.close();
    w.platform.close();
  });
});
