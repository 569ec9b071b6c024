// The device core on Node adapters against the local platform over loopback UDP: first boot,
// reuse of the stored token, batches, commands, a platform restart, a 60 s outage, a bad code;
// and the PC runner's flags (`npm run device`), whose durations are the mcconfig grammar.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { FIRMWARE_VERSION } from "../../device/firmware-version.js";
import { TOKEN_STORE_KEY } from "../../device/provisioning.js";
import { DeviceUnderTest, RestartablePlatform, sleep, waitFor, writeAsAnotherClient } from "../e2e/harness.js";
import { finished, Lines, REPO, run } from "./emulator/tools.js";

/** `npm run device`: the PC runner and its flags. */
const DEVICE_CLI = `${REPO}build/host/device-cli.js`;

const CODE = "E2EACTIVATIONCODE00000000000000001";
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function platformWith(codes: readonly string[] = [CODE]): Promise<RestartablePlatform> {
  const platform = new RestartablePlatform(codes);
  cleanups.push(() => platform.dispose());
  await platform.start();
  return platform;
}

function deviceFor(stateDir?: string): DeviceUnderTest {
  const device = new DeviceUnderTest(stateDir);
  cleanups.push(() => device.dispose());
  return device;
}

function settings(platform: RestartablePlatform, extra: Record<string, string> = {}): Record<string, string> {
  return {
    server: `coap://127.0.0.1:${platform.port}`,
    interval: "200ms",
    batch: "5",
    maxDelay: "1s",
    keepAlive: "5s",
    // A setup page, when one opens, takes a free loopback port rather than 8080.
    setupPort: "0",
    ...extra,
  };
}

test("first boot activates and stores the token; the next boot reuses it without activating", async () => {
  const platform = await platformWith();
  const first = deviceFor();
  await first.start(settings(platform, { activationCode: CODE }));
  await waitFor("the first subscription", () => first.count("subscribed") > 0, 10_000);
  assert.equal(first.count("activated"), 1);
  const token = first.running!.store.read(TOKEN_STORE_KEY);
  assert.match(token ?? "", /^[A-Za-z0-9_-]{43}$/);
  assert.ok(
    first.logs.every((line) => !line.includes(token!)),
    "the token never appears whole in a log line",
  );
  first.stop();

  const second = deviceFor(first.stateDir);
  await second.start(settings(platform, { activationCode: CODE }));
  await waitFor("the second boot's subscription", () => second.count("subscribed") > 0, 10_000);
  await waitFor("a batch from the second boot", () => second.count("sent") > 0, 10_000);
  assert.equal(second.count("activated"), 0);
  assert.equal(platform.count("activated"), 1, "the platform saw one activation in all");
  assert.equal(second.running!.store.read(TOKEN_STORE_KEY), token);
});

test("batches reach the platform with the configured keys, numeric values and sampling datetimes", async () => {
  const platform = await platformWith();
  const device = deviceFor();
  const startedAt = Date.now();
  await device.start(settings(platform, { activationCode: CODE }));
  await waitFor("three batches", () => device.count("sent") >= 3, 15_000);
  const core = device.running!.device;
  core.stopSampling();
  await waitFor("the buffer to drain", () => core.stats().buffered === 0, 10_000);
  const stats = core.stats();
  device.stop();
  const everything = platform.storedValues();
  // The device's own reports (device.boot with the first batch, device.settings after the boot's
  // settings read) are not readings.
  const boots = everything.filter((v) => v.key === "device.boot");
  assert.equal(boots.length, 1, "device.boot once per boot");
  const boot = JSON.parse(boots[0]!.value) as { firmware: string; reset: string; outputs: string };
  assert.deepEqual(boot, { firmware: FIRMWARE_VERSION, reset: "unknown", outputs: "led:digital" });
  const stored = everything.filter((v) => !v.key.startsWith("device."));
  assert.equal(stored.length, stats.sent, "every acknowledged value is stored once");
  assert.ok(stored.length >= 15);
  for (const value of stored) {
    assert.ok(value.key === "temperature" || value.key === "humidity", value.key);
    assert.ok(Number.isFinite(Number(JSON.parse(value.value))), value.value);
    assert.ok(
      value.datetime >= Math.floor(startedAt / 1000) * 1000 && value.datetime <= Date.now(),
      `datetime ${value.datetime}`,
    );
  }
  const temperatures = stored.filter((v) => v.key === "temperature").map((v) => v.datetime);
  assert.ok(new Set(temperatures).size > 1, "values carry their own sampling times, not one arrival time");
});

test("a value written to the thing by another client drives the actuator", async () => {
  const platform = await platformWith();
  const device = deviceFor();
  await device.start(settings(platform, { activationCode: CODE }));
  await waitFor("the subscription", () => device.count("subscribed") > 0, 10_000);
  const token = device.running!.store.read(TOKEN_STORE_KEY)!;
  assert.equal(await writeAsAnotherClient(platform.port, token, [{ key: "led", value: 1 }]), "2.01");
  await waitFor(
    "the command",
    () => device.events.some((e) => e.event.event === "command" && e.event.key === "led" && e.event.level === 1),
    5_000,
  );
  assert.equal(await writeAsAnotherClient(platform.port, token, [{ key: "led", value: "off" }]), "2.01");
  await waitFor(
    "the second command",
    () => device.events.some((e) => e.event.event === "command" && e.event.level === 0),
    5_000,
  );
  const commands = device.events.filter((e) => e.event.event === "command");
  assert.equal(commands.length, 2, "the device's own telemetry coming back on the subscription drives nothing");
});

test("at boot the actuator takes its last commanded value from the platform", async () => {
  const platform = await platformWith();
  const first = deviceFor();
  await first.start(settings(platform, { activationCode: CODE }));
  await waitFor("the subscription", () => first.count("subscribed") > 0, 10_000);
  const token = first.running!.store.read(TOKEN_STORE_KEY)!;
  first.stop();
  assert.equal(await writeAsAnotherClient(platform.port, token, [{ key: "led", value: 1 }]), "2.01");
  const second = deviceFor(first.stateDir);
  await second.start(settings(platform));
  await waitFor(
    "the restored command",
    () => second.events.some((e) => e.event.event === "command" && e.event.source === "restore" && e.event.level === 1),
    10_000,
  );
  const restoredAt = second.events.findIndex((e) => e.event.event === "command");
  const subscribedAt = second.events.findIndex((e) => e.event.event === "subscribed");
  assert.ok(
    restoredAt >= 0 && (subscribedAt < 0 || restoredAt < subscribedAt),
    "restored before the subscription started",
  );
});

test("the subscription comes back after the platform restarts; a command written before it was back is caught up, and commands flow again", async () => {
  const platform = await platformWith();
  const device = deviceFor();
  await device.start(settings(platform, { activationCode: CODE }));
  await waitFor("the subscription", () => device.count("subscribed") > 0, 10_000);
  const token = device.running!.store.read(TOKEN_STORE_KEY)!;
  await platform.stop();
  await sleep(500);
  await platform.start();
  const restartedAt = Date.now();
  // Written while the device's subscription is still gone: the platform pushes it to nobody.
  assert.equal(await writeAsAnotherClient(platform.port, token, [{ key: "led", value: 1 }]), "2.01");
  // keepAlive 5 s + grace 5 s, then re-registration (backoff capped at keepAlive).
  await waitFor("a new subscription", () => device.count("subscribed") >= 2, 25_000);
  const back = device.events.filter((e) => e.event.event === "subscribed").at(-1)!.at - restartedAt;
  assert.ok(back < 20_000, `subscription back ${back} ms after the restart`);
  await waitFor(
    "the missed command, caught up",
    () =>
      device.events.some((e) => e.event.event === "command" && e.event.level === 1 && e.event.source === "catch-up"),
    5_000,
  );
  assert.equal(await writeAsAnotherClient(platform.port, token, [{ key: "led", value: 0 }]), "2.01");
  await waitFor(
    "the command after the restart",
    () =>
      device.events.some(
        (e) => e.event.event === "command" && e.event.level === 0 && e.event.source === "subscription",
      ),
    5_000,
  );
});

test("60 s with the platform down loses no values, and stores none twice", async () => {
  const platform = await platformWith();
  const device = deviceFor();
  await device.start(settings(platform, { activationCode: CODE, interval: "500ms", batch: "10", bufferSize: "2000" }));
  const core = device.running!.device;
  const stats = () => core.stats();
  await waitFor("a first batch", () => device.count("sent") > 0, 10_000);
  await platform.stop();
  await sleep(60_000);
  const atReturn = stats();
  assert.ok(atReturn.buffered >= 200, `values buffered during the outage: ${atReturn.buffered}`);
  await platform.start();
  await waitFor("every value sampled before the platform returned", () => stats().sent >= atReturn.sampled, 40_000);
  core.stopSampling();
  await waitFor("the buffer to drain", () => stats().buffered === 0, 10_000);
  device.stop();
  const final = stats();
  const stored = platform.storedValues().filter((v) => !v.key.startsWith("device."));
  assert.equal(final.dropped, 0);
  assert.equal(final.sent + final.buffered, final.sampled, "every sampled value is stored or still buffered");
  assert.equal(stored.length, final.sent, "the platform holds exactly the acknowledged values: none lost, none twice");
});

test("a refused activation code is retried with growing, jittered delays, and said clearly once", async () => {
  const platform = await platformWith(["THEONLYGOODCODE000000000000000001"]);
  const device = deviceFor();
  // With setup=never nobody is there to give another code (a fleet build): the code is retried.
  // With setup (the default) a refused code opens the page instead: test/core/setup-device.spec.ts.
  await device.start(settings(platform, { activationCode: "WRONGCODE", setup: "never" }));
  await sleep(12_000);
  device.stop();
  const attempts = platform.events.filter((e) => e.event.event === "refused").map((e) => e.at);
  assert.ok(attempts.length >= 3 && attempts.length <= 6, `activation attempts in 12 s: ${attempts.length}`);
  const gaps = attempts.slice(1).map((at, i) => at - attempts[i]!);
  assert.ok(gaps[gaps.length - 1]! > gaps[0]!, `gaps grow: ${gaps.join(", ")}`);
  assert.ok(
    gaps.every((gap) => gap >= 400),
    `never a hot loop: ${gaps.join(", ")}`,
  );
  const explained = device.logs.filter((line) => /activation/i.test(line) && /\[(warn|error)\]/.test(line));
  assert.ok(explained.length >= 1, "a log line says what went wrong");
  assert.equal(device.count("activated"), 0);
});

test("a token the platform no longer knows is reported; with reactivateOnAuthFailure the device activates again and carries on", async () => {
  const platform = await platformWith();
  const device = deviceFor();
  await device.start(settings(platform, { activationCode: CODE, reactivateOnAuthFailure: "true" }));
  await waitFor("the first subscription", () => device.count("subscribed") > 0, 10_000);
  const firstToken = device.running!.store.read(TOKEN_STORE_KEY);
  // The platform loses every thing (a new, empty database on the same port) but takes the code again.
  await platform.stop();
  const fresh = new RestartablePlatform([CODE]);
  cleanups.push(() => fresh.dispose());
  await fresh.start(platform.port);
  await waitFor("a second activation", () => device.count("activated") >= 2, 40_000);
  await waitFor("batches stored by the new thing", () => fresh.storedValues().length > 0, 20_000);
  const secondToken = device.running!.store.read(TOKEN_STORE_KEY);
  assert.notEqual(secondToken, firstToken, "the refused token was replaced in flash");
  assert.ok(
    device.logs.some((line) => line.startsWith("[error]") && /refused thing token/.test(line)),
    "the refusal is logged clearly",
  );
  assert.ok(
    device.logs.every((line) => !line.includes(firstToken!) && !line.includes(secondToken!)),
    "no token is ever logged whole",
  );
});

test("PC runner flags: a bare duration is milliseconds, as on the mcconfig line; units work too", async () => {
  const platform = await platformWith();
  const stateDir = mkdtempSync(join(tmpdir(), "device-cli-"));
  cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
  const child = spawn(
    process.execPath,
    [
      DEVICE_CLI,
      "--server",
      `coap://127.0.0.1:${platform.port}`,
      "--activation-code",
      CODE,
      "--state",
      stateDir,
      "--json",
      "--sensors",
      "sim-analog",
      "--interval",
      "200",
      "--batch",
      "1",
      "--max-delay",
      "1s",
      "--keep-alive",
      "5000",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const exit = finished(child, 30_000);
  const lines = new Lines(child);
  try {
    // One value a sample, every 200 ms: three batches of one within seconds (at 200 s, one at most).
    let sent = 0;
    await lines.waitFor((line) => (JSON.parse(line) as { event: string }).event === "sent" && ++sent === 3, 10_000);
  } finally {
    child.kill("SIGINT");
  }
  const done = await exit;
  assert.equal(done.code, 0, done.stderr);
  const stats = lines.all
    .map((line) => JSON.parse(line) as { event: string; sampled?: number })
    .find((event) => event.event === "stats");
  assert.ok(stats !== undefined && stats.sampled !== undefined && stats.sampled >= 3, JSON.stringify(stats));
});

test("PC runner flags: durations are refused in the mcconfig words, naming the setting and the value as typed", async () => {
  const refused = async (flags: string[], message: string): Promise<void> => {
    const out = await run(process.execPath, [DEVICE_CLI, "--server", "coap://127.0.0.1:9", "--json", ...flags]);
    assert.equal(out.code, 2, out.stderr);
    assert.equal(out.stderr.trim(), message);
    assert.deepEqual(JSON.parse(out.stdout.trim()), { event: "error", message });
  };
  // As seconds these were fine (50 s, 1000 s); as milliseconds they are below the bounds.
  await refused(["--interval", "50"], 'config interval: "50" is outside 100ms–24h');
  await refused(["--keep-alive", "1000"], 'config keepAlive: "1000" is outside 5s–1h');
  await refused(
    ["--max-delay", "2d"],
    'config maxDelay: "2d" is not a duration in whole milliseconds (e.g. 500ms, 10s, 2m, 1h; a bare number is milliseconds)',
  );
  await refused(["--interval", "25h"], 'config interval: "25h" is outside 100ms–24h');
  const help = await run(process.execPath, [DEVICE_CLI, "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--interval D/);
  assert.match(help.stdout, /D is a duration: 500ms, 10s, 2m, 1h; a bare number is milliseconds/);
});
