// The ESP32 adapters (moddable/esp32/*, moddable/network-esp32.ts, moddable/board-pins.ts) on a
// PC: esbuild bundles them from source with test/moddable-fakes/ecma419.ts and classic-wifi.ts
// standing in for the SDK's modules, so their arithmetic (active-low, PWM scaling), life cycle
// (start safe, close twice), the Wi-Fi rejoin logic and the setup radio (access point, captive
// DNS, scan, joins) run here. What this cannot show is the SDK's own behaviour on a board; the
// fakes follow its sources (modules/io, modules/network/wifi/esp32, modules/network/net/esp,
// modules/network/dns) and are strict where hardware is not.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, suite, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";
import type { ActuatorOutput } from "../../device/actuator-output.js";
import type { parseDeviceConfig as ParseDeviceConfig } from "../../device/config.js";
import type { BoardPins } from "../../device/io-specs.js";
import type { SetupRadio } from "../../device/setup-radio.js";
import type { LogSink } from "../../kernel/log.js";
import type { Sensor } from "../../sensors/sensor.js";
import type { radio as FakeRadio, finishScan as FinishScan } from "../moddable-fakes/classic-wifi.js";
import type { io as FakeIo } from "../moddable-fakes/ecma419.js";
import { FakeClock } from "../sim/fake-clock.js";
import { SeededRandom } from "../sim/seeded-random.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const fakesPath = join(root, "test/moddable-fakes/ecma419.ts");
const classicPath = join(root, "test/moddable-fakes/classic-wifi.ts");

/** SDK module → the fake class standing in for its default export. */
const fakeModules: Readonly<Record<string, string>> = {
  "embedded:io/digital": "FakeDigital",
  "embedded:io/pwm": "FakePWM",
  "embedded:io/analog": "FakeAnalog",
  sntp: "FakeSNTP",
  time: "FakeTime",
  resetReason: "fakeResetReason",
};

/** The classic networking modules → their stand-ins in classic-wifi.ts. */
const classicModules: Readonly<Record<string, string>> = {
  wifi: "FakeClassicWiFi",
  net: "FakeNet",
  "dns/server": "FakeDNSServer",
};

const ecma419Fakes: Plugin = {
  name: "ecma419-fakes",
  setup(builder) {
    builder.onResolve({ filter: /^(embedded:.*|sntp|time|resetReason|wifi|net|dns\/server)$/ }, (args) => {
      if (!(args.path in fakeModules) && !(args.path in classicModules))
        return { errors: [{ text: `no fake for ${args.path}` }] };
      return { path: args.path, namespace: "ecma419-fake" };
    });
    builder.onLoad({ filter: /.*/, namespace: "ecma419-fake" }, (args) => ({
      contents:
        args.path in classicModules
          ? `export { ${classicModules[args.path]} as default } from ${JSON.stringify(classicPath)};`
          : `export { ${fakeModules[args.path]} as default } from ${JSON.stringify(fakesPath)};`,
      loader: "ts",
      resolveDir: root,
    }));
  },
};

interface NetworkWatch {
  readonly online: boolean;
  readonly radio?: SetupRadio;
  close(): void;
}

interface Adapters {
  io: typeof FakeIo;
  radio: typeof FakeRadio;
  finishScan: typeof FinishScan;
  isButtonHeld: (pin: number) => boolean;
  DigitalOutput: new (options: { pin: number; activeLow: boolean }) => ActuatorOutput & { close(): void };
  PwmOutput: new (options: { pin: number; hz: number | undefined }) => ActuatorOutput & { close(): void };
  AnalogInput: new (options: { pin: number }) => Sensor & { readonly resolution: number; close(): void };
  openNetworkWatch: (options: {
    clock: FakeClock;
    random: SeededRandom;
    log: LogSink;
    ssid: string | undefined;
    password: string | undefined;
    sntpHost: string | undefined;
    onChange: (online: boolean) => void;
  }) => NetworkWatch;
  setupNetwork: (done: () => void) => void;
  RESYNC_MS: number;
  readBoardPins: (provider: unknown) => BoardPins;
  readResetReason: () => string;
  resetReasonAnswer: { value: { reason: number; string: string } | null };
  parseDeviceConfig: typeof ParseDeviceConfig;
}

let adapters: Adapters;
let bundleDir: string;

before(async () => {
  const entry = [
    `export { io } from ${JSON.stringify(fakesPath)};`,
    `export { radio, finishScan } from ${JSON.stringify(classicPath)};`,
    `export { isButtonHeld } from "./moddable/esp32/setup-button.ts";`,
    `export { DigitalOutput } from "./moddable/esp32/digital-output.ts";`,
    `export { PwmOutput } from "./moddable/esp32/pwm-output.ts";`,
    `export { AnalogInput } from "./moddable/esp32/analog-input.ts";`,
    `export { default as openNetworkWatch } from "./moddable/network-esp32.ts";`,
    `export { default as setupNetwork } from "./moddable/esp32/setup-network.ts";`,
    `export { RESYNC_MS } from "./moddable/esp32/clock-sync.ts";`,
    `export { readBoardPins } from "./moddable/board-pins.ts";`,
    `export { readResetReason } from "./moddable/esp32/reset-reason.ts";`,
    `export { resetReasonAnswer } from ${JSON.stringify(fakesPath)};`,
    `export { parseDeviceConfig } from "./device/config.ts";`,
  ].join("\n");
  const result = await build({
    stdin: { contents: entry, loader: "ts", resolveDir: root, sourcefile: "esp32-adapters-entry.ts" },
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    plugins: [ecma419Fakes],
    logLevel: "error",
  });
  bundleDir = await mkdtemp(join(os.tmpdir(), "esp32-adapters-"));
  const file = join(bundleDir, "adapters.mjs");
  await writeFile(file, result.outputFiles[0]!.text);
  adapters = (await import(pathToFileURL(file).href)) as Adapters;
});

after(async () => {
  await rm(bundleDir, { recursive: true, force: true });
});

beforeEach(() => {
  adapters.io.reset();
  adapters.radio.reset();
});

suite("Digital output (ECMA-419 embedded:io/digital)", () => {
  test("active high: opens as an output, starts off, follows write, closes once", () => {
    const { io, DigitalOutput } = adapters;
    const led = new DigitalOutput({ pin: 2, activeLow: false });
    led.write(1);
    led.write(0);
    assert.deepEqual(io.opened, [{ kind: "digital", options: { pin: 2, mode: 8 } }]);
    assert.deepEqual(
      io.writes.map((w) => w.value),
      [0, 1, 0],
      "off at start, then each command",
    );
    led.close();
    led.close();
    assert.deepEqual(io.closed, [{ kind: "digital", pin: 2 }], "closed once");
    assert.throws(() => led.write(1), /closed/);
  });

  test("active low: off is a high pin, from the start", () => {
    const { io, DigitalOutput } = adapters;
    const relay = new DigitalOutput({ pin: 5, activeLow: true });
    relay.write(1);
    relay.write(0);
    assert.deepEqual(
      io.writes.map((w) => w.value),
      [1, 0, 1],
    );
  });

  test("a level other than 0 or 1 is refused before it reaches the pin", () => {
    const { io, DigitalOutput } = adapters;
    const led = new DigitalOutput({ pin: 2, activeLow: false });
    for (const level of [2, -1, 0.5, Number.NaN]) assert.throws(() => led.write(level), RangeError);
    assert.equal(io.writes.length, 1, "only the initial off");
  });
});

suite("PWM output (ECMA-419 embedded:io/pwm)", () => {
  test("duty 0–1 scales to the port's resolution (10 bits on the ESP32) as integers", () => {
    const { io, PwmOutput } = adapters;
    const dimmer = new PwmOutput({ pin: 4, hz: undefined });
    for (const duty of [1, 0.5, 0.25, 1 / 1023, 0.0004, 0]) dimmer.write(duty);
    assert.deepEqual(
      io.writes.map((w) => w.value),
      [0, 1023, 512, 256, 1, 0, 0],
    );
    assert.deepEqual(io.opened[0]!.options, { pin: 4 }, "no hz: the port's default frequency");
  });

  test("the configured frequency is passed to the port", () => {
    const { io, PwmOutput } = adapters;
    new PwmOutput({ pin: 4, hz: 5000 }).close();
    assert.deepEqual(io.opened[0]!.options, { pin: 4, hz: 5000 });
  });

  test("a duty outside 0–1 is refused; close is safe twice", () => {
    const { io, PwmOutput } = adapters;
    const dimmer = new PwmOutput({ pin: 4, hz: undefined });
    for (const duty of [1.01, -0.1, Number.NaN, Number.POSITIVE_INFINITY])
      assert.throws(() => dimmer.write(duty), RangeError);
    dimmer.close();
    dimmer.close();
    assert.equal(io.closed.length, 1);
    assert.throws(() => dimmer.write(0.5), /closed/);
  });
});

suite("Analog input (ECMA-419 embedded:io/analog)", () => {
  test("sample() is {raw} in ADC counts, the shape the simulated analog input has", () => {
    const { io, AnalogInput } = adapters;
    io.analogReadings.push(0, 2048, 4095);
    const adc = new AnalogInput({ pin: 34 });
    assert.equal(adc.resolution, 12);
    assert.deepEqual([adc.sample(), adc.sample(), adc.sample()], [{ raw: 0 }, { raw: 2048 }, { raw: 4095 }]);
    adc.close();
    adc.close();
    assert.equal(adc.resolution, 0);
    assert.throws(() => adc.sample(), /closed/);
    assert.equal(io.closed.length, 1);
  });
});

suite("Wi-Fi watch (the classic wifi module, messages of modules/network/wifi/esp32)", () => {
  interface Rig {
    clock: FakeClock;
    changes: boolean[];
    logs: string[];
    watch: NetworkWatch;
  }

  function start(ssid: string | undefined, password: string | undefined, sntpHost?: string): Rig {
    const clock = new FakeClock();
    const changes: boolean[] = [];
    const logs: string[] = [];
    const watch = adapters.openNetworkWatch({
      clock,
      random: new SeededRandom(3),
      log: (level, text) => logs.push(`${level}: ${text}`),
      ssid,
      password,
      sntpHost,
      onChange: (online) => changes.push(online),
    });
    return { clock, changes, logs, watch };
  }

  /** The driver joined and has an address (IP_EVENT_STA_GOT_IP). */
  function gotIp(address: string): void {
    adapters.radio.ip.station = address;
    adapters.radio.emit("gotIP");
  }

  test("with credentials it joins at once; the address is reported once, and nothing more happens while joined", () => {
    const rig = start("home", "secret");
    assert.deepEqual(adapters.radio.connects, [{ ssid: "home", password: "secret" }]);
    adapters.radio.emit("connect");
    assert.deepEqual(rig.changes, [], "associated is not online yet");
    gotIp("192.168.1.20");
    assert.equal(rig.watch.online, true);
    assert.deepEqual(rig.changes, [true]);
    rig.clock.advanceSync(600_000);
    assert.equal(adapters.radio.connects.length, 1);
  });

  test("a lost link is reported and rejoined on a growing backoff; the join is reported once", () => {
    const rig = start("home", "secret");
    gotIp("192.168.1.20");
    adapters.radio.emit("disconnect", 0);
    assert.deepEqual(rig.changes, [true, false]);
    assert.equal(rig.watch.online, false);

    rig.clock.advanceSync(999);
    assert.equal(adapters.radio.connects.length, 1, "not at once: the first delay is 1–2 s");
    rig.clock.advanceSync(1001);
    assert.deepEqual(adapters.radio.connects.slice(1), [{ ssid: "home", password: "secret" }]);

    // The attempt fails: the driver reports the disconnect again, and the next try waits longer.
    const firstAt = rig.clock.now();
    adapters.radio.emit("disconnect", 0);
    rig.clock.advanceSync(1999);
    assert.equal(adapters.radio.connects.length, 2, "the second delay is 2–4 s");
    rig.clock.advanceSync(2001);
    assert.equal(adapters.radio.connects.length, 3);
    assert.ok(rig.clock.now() - firstAt >= 2000);

    adapters.radio.emit("connect");
    gotIp("192.168.1.21");
    assert.deepEqual(rig.changes, [true, false, true]);
    assert.equal(rig.watch.online, true);
    assert.ok(
      rig.logs.some((line) => line === "info: Wi-Fi: back online, address 192.168.1.21"),
      rig.logs.join("\n"),
    );

    // The backoff started over after the join.
    adapters.radio.emit("disconnect", 0);
    rig.clock.advanceSync(2000);
    assert.equal(adapters.radio.connects.length, 4, "first delay again");
  });

  test("a new address while joined is reported as online again, so observations re-register from it", () => {
    const rig = start("home", undefined);
    gotIp("10.0.0.5");
    gotIp("10.0.0.5");
    assert.deepEqual(rig.changes, [true], "the same address is no news");
    gotIp("10.0.0.9");
    assert.deepEqual(rig.changes, [true, true]);
    assert.ok(rig.logs.includes("info: Wi-Fi: address changed from 10.0.0.5 to 10.0.0.9"), rig.logs.join("\n"));
  });

  test("booting without a network holds nothing back: setup/network is done at once and the first join goes out immediately", () => {
    let done = false;
    adapters.setupNetwork(() => {
      done = true;
    });
    assert.equal(done, true, "main runs without waiting for Wi-Fi");
    const rig = start("home", "secret");
    assert.equal(rig.watch.online, false);
    assert.deepEqual(adapters.radio.connects, [{ ssid: "home", password: "secret" }], "joined at once, no timer first");
    // The access point is down: the driver reports the failure and the watch keeps trying.
    adapters.radio.emit("disconnect", 0);
    rig.clock.advanceSync(2000);
    assert.equal(adapters.radio.connects.length, 2);
    adapters.radio.emit("disconnect", 0);
    rig.clock.advanceSync(4000);
    assert.equal(adapters.radio.connects.length, 3);
    gotIp("192.168.1.30");
    assert.deepEqual(rig.changes, [true]);
  });

  test("an open network joins without a password; a join that throws is logged and tried again", () => {
    const rig = start("cafe", "");
    gotIp("10.0.0.5");
    adapters.radio.emit("disconnect", 0);
    adapters.radio.failNextConnect = "esp_wifi_connect failed";
    rig.clock.advanceSync(2000);
    assert.equal(adapters.radio.connects.length, 1);
    assert.ok(
      rig.logs.some((line) => line === "warn: Wi-Fi: join failed: esp_wifi_connect failed"),
      rig.logs.join("\n"),
    );
    rig.clock.advanceSync(4000);
    assert.deepEqual(adapters.radio.connects, [{ ssid: "cafe" }, { ssid: "cafe" }]);
  });

  test("without an ssid it only reports; close stops the rejoin and is safe twice", () => {
    const quiet = start(undefined, undefined);
    quiet.clock.advanceSync(600_000);
    assert.deepEqual(adapters.radio.connects, []);
    assert.ok(
      quiet.logs.some((line) => line.startsWith("warn: Wi-Fi: no network yet (set it up on the setup page")),
      quiet.logs.join("\n"),
    );
    assert.equal(quiet.watch.radio?.ssid, undefined);
    quiet.watch.close();

    adapters.radio.reset();
    const rig = start("home", "secret");
    adapters.radio.emit("disconnect", 0);
    rig.watch.close();
    rig.watch.close();
    adapters.radio.emit("gotIP");
    assert.deepEqual(rig.changes, [], "no notification after close");
    rig.clock.advanceSync(600_000);
    assert.equal(adapters.radio.connects.length, 1, "the join at boot, none after close");
    assert.equal(rig.clock.nextDueAt(), undefined, "no timer left");
  });
});

suite("setup radio on the ESP32 (access point, captive DNS, scan, station)", () => {
  /** The bundle's own copy of the stand-ins ends the scan. */
  const finishScan: typeof FinishScan = (items) => adapters.finishScan(items);

  function open(ssid: string | undefined, password?: string) {
    const clock = new FakeClock();
    const logs: string[] = [];
    const changes: boolean[] = [];
    const watch = adapters.openNetworkWatch({
      clock,
      random: new SeededRandom(8),
      log: (level, text) => logs.push(`${level}: ${text}`),
      ssid,
      password,
      sntpHost: undefined,
      onChange: (online) => changes.push(online),
    });
    assert.ok(watch.radio, "the board's watch is the setup radio");
    return { clock, logs, changes, watch, radio: watch.radio };
  }

  test("the access point is thethings-XXXX from the station MAC, open without a password, beside the station", () => {
    const { radio } = open(undefined);
    const ap = radio.openAccessPoint(undefined);
    assert.deepEqual(ap, { ssid: "thethings-A1B2", address: "192.168.4.1" });
    assert.deepEqual(adapters.radio.modeSets, [1], "the driver started in station mode first, so the MAC is known");
    assert.deepEqual(
      adapters.radio.accessPoints,
      [{ ssid: "thethings-A1B2", station: true, max: 4 }],
      "no password key",
    );
    assert.equal(adapters.radio.mode, 3, "station + access point");
  });

  test("WPA2 with setupPassword; the DNS server answers every name with the access point's address", () => {
    const { radio } = open("home", "secret-1");
    adapters.radio.ip.ap = "192.168.4.1";
    radio.openAccessPoint("portal-pass");
    assert.deepEqual(adapters.radio.accessPoints, [
      { ssid: "thethings-A1B2", password: "portal-pass", station: true, max: 4 },
    ]);
    const dns = adapters.radio.dnsServers[0]!;
    assert.equal(dns.query("connectivitycheck.gstatic.com"), "192.168.4.1");
    assert.equal(dns.query("captive.apple.com"), "192.168.4.1");
    radio.closeAccessPoint();
    assert.equal(dns.closed, true);
    assert.equal(adapters.radio.mode, 1, "back to station only");
    radio.closeAccessPoint();
    assert.deepEqual(adapters.radio.modeSets, [1], "closing twice changes nothing");
  });

  test("a scan lists each name once, strongest first, marks secure networks, and refuses a second scan meanwhile", async () => {
    const { radio } = open(undefined);
    const scanning = radio.scan();
    await assert.rejects(radio.scan(), /already scanning/);
    finishScan([
      { ssid: "Home", rssi: -70, authentication: "wpa2_psk" },
      { ssid: "Cafe", rssi: -50, authentication: "none" },
      { ssid: "Home", rssi: -40, authentication: "wpa2_psk" },
      { ssid: "", rssi: -30, authentication: "wpa2_psk" },
    ]);
    assert.deepEqual(await scanning, [
      { ssid: "Home", rssi: -40, secure: true },
      { ssid: "Cafe", rssi: -50, secure: false },
    ]);
    const many = radio.scan();
    finishScan(Array.from({ length: 30 }, (_, i) => ({ ssid: `n${i}`, rssi: -90 + i, authentication: "none" })));
    const list = await many;
    assert.equal(list.length, 20, "bounded");
    assert.equal(list[0]!.ssid, "n29");
    assert.equal(list[19]!.ssid, "n10", "the weakest were dropped");
  });

  test("a join asked from the page resolves with the address; a rejected password says so; the credentials stay for rejoins", async () => {
    const { radio, clock, changes } = open(undefined);
    const wrong = radio.join("Home", "not-this-one");
    assert.deepEqual(adapters.radio.connects, [{ ssid: "Home", password: "not-this-one" }]);
    adapters.radio.emit("disconnect", -1);
    assert.deepEqual(await wrong, { ok: false, reason: "wrong password" });
    clock.advanceSync(2000);
    assert.equal(adapters.radio.connects.length, 2, "the background rejoin goes on");

    const right = radio.join("Home", "the-right-one");
    adapters.radio.ip.station = "192.168.1.50";
    adapters.radio.emit("gotIP");
    assert.deepEqual(await right, { ok: true, address: "192.168.1.50" });
    assert.equal(radio.ssid, "Home");
    assert.deepEqual(changes, [true]);
    adapters.radio.emit("disconnect", 0);
    clock.advanceSync(2000);
    assert.deepEqual(adapters.radio.connects.at(-1), { ssid: "Home", password: "the-right-one" });
  });

  test("a join nobody answers fails after 30 s; an ssid the driver refuses fails at once; forget leaves the network", async () => {
    const { radio, clock } = open("home", "secret-1");
    const silent = radio.join("Far away", undefined);
    clock.advanceSync(30_000);
    assert.deepEqual(await silent, { ok: false, reason: "the network did not answer" });
    const long = radio.join("x".repeat(33), undefined);
    assert.deepEqual(await long, { ok: false, reason: "ssid too long - 32 bytes max" });
    radio.forget();
    assert.equal(adapters.radio.connects.at(-1), undefined, "WiFi.connect() without arguments: disconnect");
    assert.equal(radio.ssid, undefined);
    const before = adapters.radio.connects.length;
    adapters.radio.emit("disconnect", 0);
    clock.advanceSync(600_000);
    assert.equal(adapters.radio.connects.length, before, "nothing to rejoin");
  });

  test("the setup button: held is a low pin read with the pull-up, released or unreadable is not held", () => {
    const { io, isButtonHeld } = adapters;
    io.digitalReadings.push(0, 1);
    assert.equal(isButtonHeld(0), true);
    assert.equal(isButtonHeld(0), false);
    assert.deepEqual(
      io.opened.map((entry) => entry.options),
      [
        { pin: 0, mode: 1 },
        { pin: 0, mode: 1 },
      ],
    );
    assert.equal(io.closed.length, 2, "the pin is released at once");
    assert.equal(isButtonHeld(Number.NaN), false, "a pin that cannot be opened");
  });
});

suite("clock sync (the SDK's sntp and time, host from config.sntp)", () => {
  function online(sntpHost: string | undefined) {
    const clock = new FakeClock();
    const logs: string[] = [];
    const watch = adapters.openNetworkWatch({
      clock,
      random: new SeededRandom(5),
      log: (level, text) => logs.push(`${level}: ${text}`),
      ssid: "home",
      password: "secret",
      sntpHost,
      onChange: () => undefined,
    });
    const up = (): void => {
      adapters.radio.ip.station = "192.168.1.40";
      adapters.radio.emit("gotIP");
    };
    const down = (): void => adapters.radio.emit("disconnect", 0);
    return { clock, logs, watch, up, down };
  }

  test("nothing is asked before there is an address; the answer sets the clock once", () => {
    const { io } = adapters;
    const rig = online("pool.ntp.org");
    assert.equal(io.sntp.length, 0, "offline: no request");
    rig.up();
    assert.deepEqual(
      io.sntp.map((request) => request.host),
      ["pool.ntp.org"],
    );
    io.sntp[0]!.answer(1_795_000_000);
    assert.deepEqual(io.timeSet, [1_795_000_000]);
    assert.ok(
      rig.logs.some((line) => line.startsWith("info: clock set by SNTP from pool.ntp.org: 2026-")),
      rig.logs.join("\n"),
    );
  });

  test("a link that comes back within a day does not ask again; after a day online it re-syncs", () => {
    const { io, RESYNC_MS } = adapters;
    const rig = online("pool.ntp.org");
    rig.up();
    io.sntp[0]!.answer(1_795_000_000);
    rig.down();
    rig.clock.advanceSync(60_000);
    rig.up();
    assert.equal(io.sntp.length, 1, "still fresh");
    rig.clock.advanceSync(RESYNC_MS);
    assert.equal(io.sntp.length, 2, "the daily re-sync");
    io.sntp[1]!.answer(1_795_086_400);
    assert.deepEqual(io.timeSet, [1_795_000_000, 1_795_086_400]);
  });

  test("a failed request is retried on a backoff while online, at once when the link comes back, and the SDK object closes", () => {
    const { io } = adapters;
    const rig = online("ntp.example");
    rig.up();
    io.sntp[0]!.fail("no response from SNTP server");
    assert.equal(io.sntp[0]!.closed, true, "the callback named no other host");
    assert.ok(
      rig.logs.some((line) =>
        line.startsWith("warn: SNTP: no response from SNTP server; values go without a datetime"),
      ),
      rig.logs.join("\n"),
    );
    rig.clock.advanceSync(14_999);
    assert.equal(io.sntp.length, 1, "the first retry waits 15–30 s");
    rig.clock.advanceSync(15_001);
    assert.equal(io.sntp.length, 2);
    io.sntp[1]!.fail("cannot resolve ntp.example");
    rig.down();
    rig.clock.advanceSync(3_600_000);
    assert.equal(io.sntp.length, 2, "no request while offline");
    rig.up();
    assert.equal(io.sntp.length, 3, "the link is back: ask at once");
    assert.deepEqual(io.timeSet, []);
  });

  test("without a host the clock is left alone; close() stops a request in flight", () => {
    const { io } = adapters;
    const quiet = online(undefined);
    quiet.up();
    assert.equal(io.sntp.length, 0);
    quiet.watch.close();

    io.reset();
    const rig = online("pool.ntp.org");
    rig.up();
    rig.watch.close();
    assert.equal(io.sntp[0]!.closed, true);
    assert.equal(rig.clock.nextDueAt(), undefined, "no timer left");
  });
});

suite("board pins (the SDK's host provider, globalThis.device)", () => {
  // Shapes copied from the SDK 8.2.3 providers (build/devices/esp32/targets/*/host/provider.js,
  // modules/io/host/esp32/provider.js); `io` members stand for the ECMA-419 classes.
  class IoClass {}
  const nodemcu = {
    I2C: { default: { io: IoClass, data: 21, clock: 22 } },
    Serial: { default: { io: IoClass, port: 1, receive: 3, transmit: 1 } },
    SPI: { default: { io: IoClass, clock: 14, in: 12, out: 13, port: 1 } },
    Analog: { default: { io: IoClass, pin: 33 } },
    io: { Analog: IoClass, Digital: IoClass, I2C: IoClass, PWM: IoClass },
    pin: { button: 0, led: 2 },
  };
  const thingPlus = {
    I2C: { default: { io: IoClass, data: 23, clock: 22 } },
    io: { I2C: IoClass },
    pin: { button: 0, led: 13 },
  };
  const esp32s3 = {
    I2C: { default: { io: IoClass, data: 4, clock: 5 } },
    Analog: { default: { io: IoClass, pin: 1 } },
    io: { I2C: IoClass },
    pin: { button: 0 },
  };
  const genericEsp32 = { io: { Analog: IoClass, Digital: IoClass, I2C: IoClass }, pin: {} };
  /** modules/io/system freezes the provider deeply (Object.freeze(device, true)) before publishing it. */
  function deepFreeze<T extends object>(value: T): T {
    for (const member of Object.values(value))
      if (typeof member === "object" && member !== null) deepFreeze(member as object);
    return Object.freeze(value);
  }

  test("a board that names both: its LED and its I2C default, frozen", () => {
    const { readBoardPins } = adapters;
    assert.deepEqual(
      readBoardPins(deepFreeze(nodemcu)),
      { ledPin: 2, buttonPin: 0, i2c: { sda: 21, scl: 22 } },
      "read from the deeply frozen object, as published",
    );
    const pins = readBoardPins(thingPlus);
    assert.deepEqual(pins, { ledPin: 13, buttonPin: 0, i2c: { sda: 23, scl: 22 } });
    assert.ok(Object.isFrozen(pins) && Object.isFrozen(pins.i2c), "the result is frozen");
  });

  test("absent: the simulator has no provider, the generic esp32 one names no pins", () => {
    const { readBoardPins } = adapters;
    assert.deepEqual(readBoardPins(undefined), {});
    assert.deepEqual(readBoardPins(null), {});
    assert.deepEqual(readBoardPins(genericEsp32), {});
    assert.deepEqual(readBoardPins({}), {});
  });

  test("partial: each pin is taken on its own; I2C only as a pair", () => {
    const { readBoardPins } = adapters;
    assert.deepEqual(readBoardPins(esp32s3), { buttonPin: 0, i2c: { sda: 4, scl: 5 } }, "I2C but no LED");
    assert.deepEqual(readBoardPins({ pin: { button: 41 } }), { buttonPin: 41 }, "a button alone");
    assert.deepEqual(readBoardPins({ pin: { button: { a: 37 } } }), {}, "several buttons (m5core_ink): none taken");
    assert.deepEqual(readBoardPins({ pin: { led: 10 } }), { ledPin: 10 }, "an LED but no I2C");
    assert.deepEqual(
      readBoardPins({ I2C: { default: { data: 21 } }, pin: { led: 2 } }),
      { ledPin: 2 },
      "SDA without SCL is no bus",
    );
    assert.deepEqual(readBoardPins({ I2C: { default: { clock: 22 } } }), {});
    assert.deepEqual(readBoardPins({ I2C: { internal: { data: 25, clock: 21 } } }), {}, "only the default bus counts");
  });

  test("garbage: wrong types, numbers that are no GPIO, getters and inherited fields fall back without throwing", () => {
    const { readBoardPins } = adapters;
    for (const provider of [42, "device", true, [], () => undefined, Symbol("device")])
      assert.deepEqual(readBoardPins(provider), {}, String(provider));
    for (const led of ["2", 2.5, -1, 64, Number.NaN, Number.POSITIVE_INFINITY, null, { pin: 2 }, [2], 2n]) {
      assert.deepEqual(readBoardPins({ pin: { led } }), {}, `led ${String(led)}`);
    }
    assert.deepEqual(readBoardPins({ pin: { led: 0 } }), { ledPin: 0 }, "GPIO 0 is a pin");
    assert.deepEqual(readBoardPins({ pin: { led: 63 } }), { ledPin: 63 }, "the highest GPIO number accepted");
    assert.deepEqual(readBoardPins({ pin: "led", I2C: "default" }), {});
    assert.deepEqual(readBoardPins({ I2C: { default: { data: "21", clock: 22 } } }), {});
    assert.deepEqual(
      readBoardPins({ I2C: { default: { data: 21, clock: 21 } } }),
      {},
      "SDA and SCL on one pin is no bus",
    );
    assert.deepEqual(readBoardPins({ I2C: { default: { data: 21, clock: 99 } } }), {});
    const throwing = Object.defineProperty({}, "pin", {
      get() {
        throw new Error("a getter must not run");
      },
    });
    assert.deepEqual(readBoardPins(throwing), {}, "an accessor is not read");
    assert.deepEqual(
      readBoardPins({ pin: Object.create({ led: 2 }) as object }),
      {},
      "an inherited field is not the board's",
    );
  });

  test("the pins become the defaults of the esp32 manifest's pin-less entries", () => {
    const { readBoardPins, parseDeviceConfig } = adapters;
    const board = { sensors: "sht3x", actuators: "led:digital" };
    const onThingPlus = parseDeviceConfig(board, readBoardPins(thingPlus));
    assert.deepEqual(
      onThingPlus.actuators.map((spec) => spec.pin),
      [13],
    );
    assert.deepEqual(
      onThingPlus.sensors.map((spec) => (spec.kind === "sht3x" ? [spec.sda, spec.scl] : [])),
      [[23, 22]],
    );
    const onGeneric = parseDeviceConfig(board, readBoardPins(genericEsp32));
    assert.deepEqual(
      onGeneric.actuators.map((spec) => spec.pin),
      [2],
      "plain -p esp32: GPIO 2",
    );
    assert.deepEqual(
      onGeneric.sensors.map((spec) => (spec.kind === "sht3x" ? [spec.sda, spec.scl] : [])),
      [[21, 22]],
      "and I2C 21/22",
    );
    const onS3 = parseDeviceConfig(board, readBoardPins(esp32s3));
    assert.deepEqual(
      [onS3.actuators[0]!.pin, onS3.sensors[0]!.kind === "sht3x" ? onS3.sensors[0]!.sda : -1],
      [2, 4],
      "the LED falls back, I2C is the board's",
    );
    assert.deepEqual(
      parseDeviceConfig({ actuators: "led:digital:4" }, readBoardPins(thingPlus)).actuators[0]!.pin,
      4,
      "an explicit pin wins",
    );
  });

  const sdk = process.env.MODDABLE;
  const targets = sdk === undefined ? undefined : join(sdk, "build/devices/esp32/targets");
  test("the SDK's own providers read as their files say", {
    skip: targets === undefined || !existsSync(targets) ? "no Moddable SDK ($MODDABLE)" : false,
  }, async () => {
    const { readBoardPins } = adapters;
    // Every import of a provider (ECMA-419 classes, drivers) becomes an empty class: only the pins matter.
    const stubs: Plugin = {
      name: "provider-stubs",
      setup(builder) {
        builder.onResolve({ filter: /^[^./]/ }, (args) => ({ path: args.path, namespace: "stub" }));
        builder.onLoad({ filter: /.*/, namespace: "stub" }, () => ({
          contents: "export default class {}",
          loader: "js",
        }));
      },
    };
    let bundled = 0;
    const read = async (file: string): Promise<BoardPins> => {
      const result = await build({
        entryPoints: [file],
        bundle: true,
        write: false,
        format: "esm",
        platform: "neutral",
        plugins: [stubs],
        logLevel: "error",
      });
      const out = join(bundleDir, `provider-${++bundled}.mjs`);
      await writeFile(out, result.outputFiles[0]!.text);
      return readBoardPins(((await import(pathToFileURL(out).href)) as { default: unknown }).default);
    };
    const expected: Readonly<Record<string, BoardPins>> = {
      nodemcu: { ledPin: 2, buttonPin: 0, i2c: { sda: 21, scl: 22 } },
      esp32_thing_plus: { ledPin: 13, buttonPin: 0, i2c: { sda: 23, scl: 22 } },
      esp32s3: { buttonPin: 0, i2c: { sda: 4, scl: 5 } },
      m5atom_s3: { buttonPin: 41, i2c: { sda: 2, scl: 1 } },
      xiao_esp32s3: { ledPin: 21, buttonPin: 0, i2c: { sda: 5, scl: 6 } },
      m5core_ink: { ledPin: 10, i2c: { sda: 21, scl: 22 } },
    };
    for (const [target, pins] of Object.entries(expected))
      assert.deepEqual(await read(join(targets!, target, "host/provider.js")), pins, target);
    assert.deepEqual(await read(join(sdk!, "modules/io/host/esp32/provider.js")), {}, "the generic esp32 provider");
  });
});

suite("reset reason (build/devices/esp32/modules/resetReason)", () => {
  test("the SDK's names become device.boot's stable ones; what it cannot say, or a failure, is unknown", () => {
    const { readResetReason, resetReasonAnswer } = adapters;
    const seen: string[] = [];
    for (const string of ["Power-On", "Software", "Panic", "Task WDT", "Brownout", "Invalid", "Unknown"]) {
      resetReasonAnswer.value = { reason: 0, string };
      seen.push(readResetReason());
    }
    assert.deepEqual(seen, ["power-on", "software", "panic", "task-watchdog", "brownout", "unknown", "unknown"]);
    resetReasonAnswer.value = null;
    assert.equal(readResetReason(), "unknown");
    resetReasonAnswer.value = { reason: 1, string: "Power-On" };
  });
});
