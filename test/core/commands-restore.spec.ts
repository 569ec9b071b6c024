// Restoring actuator state at boot: one read with limit=1 per actuator, applied before the
// subscription starts; "no value yet" (4.04) and failures do not hold the boot.
import { restoreActuators } from "../../device/actuator-restore.js";
import { CommandDispatcher } from "../../device/commands.js";
import { SimulatedActuator } from "../../device/simulated-actuator.js";
import { type ReadOptions, ThethingsClient } from "../../thethings/client.js";
import type { ValueReader } from "../../thethings/paging.js";
import { FakeCoapClient, reply } from "../core-fakes/fake-coap-client.js";
import { RecordingLog } from "../core-fakes/thethings-fakes.js";
import { deepEqual, equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

const TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-ABCDE";

function setup() {
  const coap = new FakeCoapClient();
  const log = new RecordingLog();
  const client = new ThethingsClient({ coap, log: log.sink, thingToken: TOKEN });
  const led = new SimulatedActuator({ kind: "digital" });
  const fan = new SimulatedActuator({ kind: "pwm" });
  const relay = new SimulatedActuator({ kind: "digital" });
  const dispatcher = new CommandDispatcher({
    actuators: [
      { key: "led", output: led },
      { key: "fan", output: fan },
      { key: "relay", output: relay },
    ],
    log: log.sink,
  });
  return { coap, log, client, led, fan, relay, dispatcher };
}

suite("commands restore", () => {
  test("reads each actuator's last value with limit=1 and applies it; 4.04 means nothing to restore", async () => {
    const { coap, log, client, led, fan, relay, dispatcher } = setup();
    coap.script(
      reply("2.05", [{ key: "led", value: "on", datetime: "2026-01-01T10:00:00.000Z" }]),
      reply("2.05", [{ key: "fan", value: 35, datetime: "20260101090000" }]),
      reply("4.04", { status: "error", message: "resource not found" }),
    );
    const asked: (ReadOptions | undefined)[] = [];
    const reader: ValueReader = {
      read: (key, options) => {
        asked.push(options);
        return client.read(key, options);
      },
    };
    const report = await restoreActuators({ reader, dispatcher, log: log.sink });
    // A never-written key is an expected answer here: read as empty, not thrown (xsbug breaks on throws).
    deepEqual(
      asked.map((options) => options?.absentIsEmpty),
      [true, true, true],
    );
    deepEqual(
      coap.requests.map((r) => [r.method, r.path, r.query?.limit]),
      [
        ["GET", `/v2/things/${TOKEN}/resources/led`, 1],
        ["GET", `/v2/things/${TOKEN}/resources/fan`, 1],
        ["GET", `/v2/things/${TOKEN}/resources/relay`, 1],
      ],
    );
    equal(led.level, 1);
    equal(fan.level, 0.35);
    equal(relay.writes, 0);
    deepEqual(report.restored, ["led", "fan"]);
    deepEqual(report.nothingToRestore, ["relay"]);
    equal(report.failed.length, 0);
    equal(log.at("warn", "error").length, 0, "no value yet is normal");
  });

  test("a command older than the restored one, arriving late on the subscription, is ignored", async () => {
    const { coap, client, led, dispatcher } = setup();
    coap.script(
      reply("2.05", [{ key: "led", value: 1, datetime: "20260101100000" }]),
      reply("2.05", []),
      reply("2.05", []),
    );
    await restoreActuators({ reader: client, dispatcher, log: () => undefined });
    client.subscribe({ onValues: (values) => dispatcher.dispatch(values) });
    coap.observations[0]!.notify(reply("2.05", [{ key: "led", value: 0, datetime: "20260101095959" }]));
    equal(led.level, 1);
    coap.observations[0]!.notify(reply("2.05", [{ key: "led", value: 0, datetime: "20260101100001" }]));
    equal(led.level, 0);
  });

  test("a failed read is logged and reported; the other actuators are still restored", async () => {
    const { coap, log, client, led, fan, dispatcher } = setup();
    coap.script(coap.timeoutStep(), reply("2.05", [{ key: "fan", value: "60%" }]), reply("4.01"));
    const report = await restoreActuators({ reader: client, dispatcher, log: log.sink });
    equal(led.writes, 0);
    equal(fan.level, 0.6);
    deepEqual(
      report.failed.map((f) => [f.key, f.error.kind]),
      [
        ["led", "network"],
        ["relay", "unauthorized"],
      ],
    );
    equal(log.matching("could not read its last command").length, 2);
    ok(!log.text.includes(TOKEN));
  });

  test("a malformed stored value, or an empty reply, restores nothing", async () => {
    const { coap, client, led, fan, dispatcher } = setup();
    coap.script(reply("2.05", [{ key: "led", value: "maybe" }]), reply("2.05", []), reply("2.05"));
    const report = await restoreActuators({ reader: client, dispatcher, log: () => undefined });
    equal(led.writes + fan.writes, 0);
    deepEqual(report.nothingToRestore, ["led", "fan", "relay"]);
  });

  test('restored commands are reported with source "restore"', async () => {
    const coap = new FakeCoapClient();
    const client = new ThethingsClient({ coap, log: () => undefined, thingToken: TOKEN });
    const sources: string[] = [];
    const dispatcher = new CommandDispatcher({
      actuators: [{ key: "led", output: new SimulatedActuator({ kind: "digital" }) }],
      log: () => undefined,
      onApplied: (event) => sources.push(event.source),
    });
    coap.script(reply("2.05", [{ key: "led", value: "off" }]));
    await restoreActuators({ reader: client, dispatcher, log: () => undefined });
    deepEqual(sources, ["restore"]);
  });

  test("a catch-up read after a subscription gap applies a command written meanwhile, and skips the one already applied", async () => {
    const { coap, log, client, led, fan, dispatcher } = setup();
    dispatcher.apply({ key: "led", value: 1, datetime: Date.UTC(2026, 0, 1, 10) });
    dispatcher.apply({ key: "fan", value: 0.2, datetime: Date.UTC(2026, 0, 1, 10) });
    const writesBefore = led.writes;
    coap.script(
      reply("2.05", [{ key: "led", value: 1, datetime: "2026-01-01T10:00:00.000Z" }]),
      reply("2.05", [{ key: "fan", value: 0.8, datetime: "2026-01-01T10:05:00.000Z" }]),
      reply("4.04", { status: "error", message: "resource not found" }),
    );
    const report = await restoreActuators({ reader: client, dispatcher, log: log.sink, source: "catch-up" });
    deepEqual(report.restored, ["fan"]);
    equal(led.writes, writesBefore, "the command the led already has is not written again");
    equal(fan.level, 0.8, "the command written during the gap is applied");
  });
});
