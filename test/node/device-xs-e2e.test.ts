// The device core running on the XS engine (@agoric/xsnap), its datagrams relayed through this
// process to the real local platform: first boot, token reuse, batches, a command, a restart.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startXsGuest, type XsGuest } from "../../tools/xs-bridge.js";
import { RestartablePlatform, waitFor, writeAsAnotherClient } from "../e2e/harness.js";

const CODE = "XSE2EACTIVATIONCODE000000000000001";
const entry = fileURLToPath(new URL("../xs/device-guest.js", import.meta.url));

interface GuestRun {
  readonly guest: XsGuest;
  readonly events: Record<string, unknown>[];
  readonly logs: string[];
  count(kind: string): number;
}

async function startGuest(settings: Record<string, string>, flash: Map<string, string>): Promise<GuestRun> {
  const events: Record<string, unknown>[] = [];
  const logs: string[] = [];
  const guest = await startXsGuest({
    entry,
    answers: {
      settings: () => settings,
      utcAtZero: () => Date.now(),
      storeRead: (key) => flash.get(key as string),
      storeWrite: (key, value) => void flash.set(key as string, value as string),
      storeRemove: (key) => void flash.delete(key as string),
    },
    onEvent: (event) => events.push(event),
    onLog: (level, message) => logs.push(`[${level}] ${message}`),
  });
  return { guest, events, logs, count: (kind) => events.filter((e) => e.event === kind).length };
}

const platform = new RestartablePlatform([CODE]);
const guests: XsGuest[] = [];
after(async () => {
  for (const guest of guests) await guest.stop();
  await platform.dispose();
});

test("on XS: first boot activates, batches are stored once, a command applies, a restart is survived, the next boot reuses the token", async () => {
  await platform.start();
  const flash = new Map<string, string>();
  const settings = {
    server: `coap://127.0.0.1:${platform.port}`,
    activationCode: CODE,
    interval: "200ms",
    batch: "5",
    maxDelay: "1s",
    keepAlive: "5s",
    actuators: "led:digital:2",
  };
  const first = await startGuest(settings, flash);
  guests.push(first.guest);
  await waitFor("activation and subscription on XS", () => first.count("subscribed") > 0, 15_000);
  assert.equal(first.guest.failure, undefined);
  assert.equal(first.count("activated"), 1);
  const token = flash.get("thingToken");
  assert.match(token ?? "", /^[A-Za-z0-9_-]{43}$/);
  assert.ok(
    first.logs.every((line) => !line.includes(token!)),
    "the token never appears whole in a log line",
  );

  await waitFor("two batches from XS", () => first.count("sent") >= 2, 15_000);
  assert.equal(await writeAsAnotherClient(platform.port, token!, [{ key: "led", value: 1 }]), "2.01");
  await waitFor(
    "the command on XS",
    () => first.events.some((e) => e.event === "command" && e.key === "led" && e.level === 1),
    5_000,
  ).catch((error: unknown) => {
    console.log(first.logs.join("\n"), JSON.stringify(first.events));
    throw error;
  });

  await platform.stop();
  await platform.start();
  await waitFor("the subscription back after the platform restart", () => first.count("subscribed") >= 2, 30_000);
  let drained = false;
  const poll = setInterval(() => {
    void first.guest.call("stats").then((s) => {
      drained = (s as { buffered: number }).buffered === 0;
    });
  }, 100);

  await first.guest.call("stopSampling");
  await waitFor("the buffer to drain on XS", () => drained, 15_000);
  const stats = (await first.guest.call("stats")) as { sent: number; sampled: number; dropped: number };
  clearInterval(poll);
  await first.guest.call("stop");
  assert.equal(stats.sent, stats.sampled, "everything sampled was acknowledged");
  await first.guest.stop();
  assert.equal(first.guest.failure, undefined);
  assert.equal(
    platform.storedValues().filter((v) => v.key !== "led" && !v.key.startsWith("device.")).length,
    stats.sent,
    "every acknowledged value stored exactly once",
  );

  const second = await startGuest({ ...settings, activationCode: "" }, flash);
  guests.push(second.guest);
  await waitFor("the second boot's subscription", () => second.count("subscribed") > 0, 15_000);
  assert.equal(second.count("activated"), 0);
  assert.equal(platform.count("activated"), 1);
  await second.guest.stop();
});
