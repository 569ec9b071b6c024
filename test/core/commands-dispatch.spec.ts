// Command dispatch: every accepted value form per actuator kind, what is ignored and why, the
// newest command winning by datetime, and the events the app sees.

import type { ActuatorOutput } from "../../device/actuator-output.js";
import { parseDigitalLevel, parsePwmDuty } from "../../device/command-values.js";
import {
  type ActuatorBinding,
  type AppliedCommand,
  CommandDispatcher,
  type IgnoredCommand,
} from "../../device/commands.js";
import { SimulatedActuator } from "../../device/simulated-actuator.js";
import { ThethingsClient } from "../../thethings/client.js";
import type { ThingValue } from "../../thethings/values.js";
import { FakeCoapClient, reply } from "../core-fakes/fake-coap-client.js";
import { RecordingLog } from "../core-fakes/thethings-fakes.js";
import { deepEqual, equal, ok, throws } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

const T = Date.UTC(2026, 0, 1, 12);

function setup(extra: readonly ActuatorBinding[] = []) {
  const led = new SimulatedActuator({ kind: "digital" });
  const fan = new SimulatedActuator({ kind: "pwm" });
  const log = new RecordingLog();
  const applied: AppliedCommand[] = [];
  const ignored: IgnoredCommand[] = [];
  const dispatcher = new CommandDispatcher({
    actuators: [{ key: "led", output: led }, { key: "fan", output: fan }, ...extra],
    telemetryKeys: ["temperature", "humidity"],
    log: log.sink,
    onApplied: (event) => applied.push(event),
    onIgnored: (event) => ignored.push(event),
  });
  return { led, fan, log, applied, ignored, dispatcher };
}

function command(key: string, value: unknown, datetime?: number): ThingValue {
  return { key, value, datetime };
}

suite("commands dispatch", () => {
  suite("value forms", () => {
    test('digital: 1/0, true/false, on/off, "1"/"0", any case and blanks', () => {
      const on: unknown[] = [1, true, "1", "on", "ON", " On ", "true", "TRUE"];
      const off: unknown[] = [0, false, "0", "off", "OFF", " off", "false"];
      for (const value of on) equal(parseDigitalLevel(value), 1, JSON.stringify(value));
      for (const value of off) equal(parseDigitalLevel(value), 0, JSON.stringify(value));
    });

    test("digital: anything else is refused", () => {
      for (const value of [2, -1, 0.5, "2", "yes", "", "dim", null, undefined, {}, [1], Number.NaN]) {
        equal(parseDigitalLevel(value), undefined, JSON.stringify(value));
      }
    });

    test('PWM auto: [0, 1] is a fraction (1 is full duty), (1, 100] a percentage, "N%" always a percentage', () => {
      const cases: [unknown, number][] = [
        [0, 0],
        [0.25, 0.25],
        [1, 1],
        [1.5, 0.015],
        [50, 0.5],
        [100, 1],
        ["0", 0],
        ["0.5", 0.5],
        ["1", 1],
        ["50", 0.5],
        [" 75 ", 0.75],
        [".5", 0.5],
        ["1%", 0.01],
        ["50%", 0.5],
        ["0.5 %", 0.005],
        ["100%", 1],
      ];
      for (const [value, duty] of cases) equal(parsePwmDuty(value), duty, JSON.stringify(value));
    });

    test("PWM fixed scales remove the ambiguity of 1", () => {
      equal(parsePwmDuty(1, "percent"), 0.01);
      equal(parsePwmDuty(50, "percent"), 0.5);
      equal(parsePwmDuty(1, "fraction"), 1);
      equal(parsePwmDuty(50, "fraction"), undefined);
      equal(parsePwmDuty("50%", "fraction"), 0.5);
    });

    test("PWM: negative, above 100 %, non-numeric and non-decimal forms are refused", () => {
      for (const value of [
        -1,
        -0.5,
        101,
        "101",
        "150%",
        "abc",
        "1e2",
        "0x10",
        "",
        "%",
        true,
        null,
        [50],
        { duty: 50 },
        Number.POSITIVE_INFINITY,
      ]) {
        equal(parsePwmDuty(value), undefined, JSON.stringify(value));
      }
    });

    test("the dispatcher writes the parsed level to the output", () => {
      const { led, fan, dispatcher } = setup();
      dispatcher.dispatch([command("led", "on"), command("fan", 40)]);
      equal(led.level, 1);
      equal(fan.level, 0.4);
      dispatcher.dispatch([command("led", false), command("fan", "0.1")]);
      equal(led.level, 0);
      equal(fan.level, 0.1);
      equal(dispatcher.levelOf("fan"), 0.1);
    });

    test("a per-actuator pwmScale is honoured", () => {
      const dimmer = new SimulatedActuator({ kind: "pwm" });
      const { dispatcher } = setup([{ key: "dimmer", output: dimmer, pwmScale: "percent" }]);
      dispatcher.apply(command("dimmer", 1));
      equal(dimmer.level, 0.01);
    });
  });

  suite("what is ignored", () => {
    test("unknown keys and the device's own telemetry are ignored quietly", () => {
      const { led, fan, ignored, applied, log, dispatcher } = setup();
      dispatcher.dispatch([command("temperature", 21.5), command("humidity", 40), command("garage", 1)]);
      deepEqual(
        ignored.map((e) => [e.key, e.reason]),
        [
          ["temperature", "own-telemetry"],
          ["humidity", "own-telemetry"],
          ["garage", "unknown-key"],
        ],
      );
      equal(applied.length, 0);
      equal(led.writes + fan.writes, 0);
      equal(log.at("warn", "error").length, 0, "echoes of telemetry are normal, not warnings");
    });

    test("malformed values are logged and ignored; the output keeps its level", () => {
      const { led, fan, ignored, log, dispatcher } = setup();
      dispatcher.dispatch([command("led", 1), command("fan", 0.3)]);
      dispatcher.dispatch([command("led", "dim"), command("fan", 250), command("fan", { duty: 1 })]);
      equal(led.level, 1);
      equal(fan.level, 0.3);
      deepEqual(
        ignored.map((e) => [e.key, e.reason]),
        [
          ["led", "malformed"],
          ["fan", "malformed"],
          ["fan", "malformed"],
        ],
      );
      equal(log.at("warn").length, 3);
      deepEqual(ignored[1], { key: "fan", reason: "malformed", value: 250 });
    });

    test("a huge malformed value is cut short in the log line", () => {
      const { log, dispatcher } = setup();
      dispatcher.apply(command("led", "x".repeat(5000)));
      ok(log.at("warn")[0]!.message.length < 200);
    });

    test("a command older than the one applied is ignored as stale (it arrived late)", () => {
      const { led, ignored, dispatcher } = setup();
      dispatcher.apply(command("led", 1, T + 2000));
      dispatcher.apply(command("led", 0, T + 1000));
      equal(led.level, 1);
      deepEqual(ignored, [{ key: "led", reason: "stale", value: 0 }]);
    });

    test("newer commands apply; an equal datetime applies too (later arrival wins)", () => {
      const { led, applied, dispatcher } = setup();
      dispatcher.apply(command("led", 1, T));
      dispatcher.apply(command("led", 0, T + 1000));
      dispatcher.apply(command("led", 1, T + 1000));
      equal(led.level, 1);
      equal(applied.length, 3);
    });

    test("within one notification, an unsorted batch ends at its newest command", () => {
      const { fan, dispatcher } = setup();
      dispatcher.dispatch([command("fan", 10, T + 3000), command("fan", 90, T + 1000), command("fan", 20, T + 2000)]);
      equal(fan.level, 0.1);
    });

    test("commands without datetime apply in arrival order and do not reset the newest datetime", () => {
      const { led, ignored, dispatcher } = setup();
      dispatcher.apply(command("led", 1, T + 5000));
      dispatcher.apply(command("led", 0));
      equal(led.level, 0);
      dispatcher.apply(command("led", 1, T + 1000));
      equal(led.level, 0);
      equal(ignored[0]!.reason, "stale");
    });

    test("the datetime of each actuator is its own", () => {
      const { led, fan, dispatcher } = setup();
      dispatcher.apply(command("led", 1, T + 5000));
      dispatcher.apply(command("fan", 50, T + 1000));
      equal(led.level, 1);
      equal(fan.level, 0.5);
    });

    test("an output that throws is logged; the rest of the batch still applies", () => {
      const broken: ActuatorOutput = {
        kind: "digital",
        write() {
          throw new Error("GPIO fault");
        },
      };
      const { led, ignored, log, dispatcher } = setup([{ key: "relay", output: broken }]);
      dispatcher.dispatch([command("relay", 1), command("led", 1)]);
      equal(led.level, 1);
      deepEqual(
        ignored.map((e) => e.reason),
        ["output-failed"],
      );
      equal(log.matching("GPIO fault").length, 1);
    });

    test("after close() nothing is applied", () => {
      const { led, dispatcher } = setup();
      dispatcher.close();
      dispatcher.close();
      equal(dispatcher.apply(command("led", 1)), false);
      equal(led.writes, 0);
    });
  });

  suite("events and configuration", () => {
    test("applied events carry key, value, level, datetime and source", () => {
      const { applied, dispatcher } = setup();
      dispatcher.apply(command("fan", "75%", T));
      deepEqual(applied, [{ key: "fan", value: "75%", level: 0.75, datetime: T, source: "subscription" }]);
    });

    test("an event handler that throws does not stop the dispatch", () => {
      const led = new SimulatedActuator({ kind: "digital" });
      const fan = new SimulatedActuator({ kind: "pwm" });
      const log = new RecordingLog();
      const dispatcher = new CommandDispatcher({
        actuators: [
          { key: "led", output: led },
          { key: "fan", output: fan },
        ],
        log: log.sink,
        onApplied: () => {
          throw new Error("UI bug");
        },
      });
      dispatcher.dispatch([command("led", 1), command("fan", 1)]);
      equal(led.level, 1);
      equal(fan.level, 1);
      equal(log.matching("UI bug").length, 2);
    });

    test("misconfiguration throws: bad key, repeated key, key that is also telemetry", () => {
      const output = new SimulatedActuator({ kind: "digital" });
      const log = () => undefined;
      throws(
        () => new CommandDispatcher({ actuators: [{ key: "a b", output }], log }),
        (e) => e instanceof RangeError,
      );
      throws(
        () =>
          new CommandDispatcher({
            actuators: [
              { key: "a", output },
              { key: "a", output },
            ],
            log,
          }),
        (e) => e instanceof RangeError,
      );
      throws(
        () => new CommandDispatcher({ actuators: [{ key: "t", output }], telemetryKeys: ["t"], log }),
        (e) => e instanceof RangeError,
      );
    });

    test("the simulated actuator refuses levels out of range", () => {
      const digital = new SimulatedActuator({ kind: "digital" });
      const pwm = new SimulatedActuator({ kind: "pwm" });
      throws(
        () => digital.write(0.5),
        (e) => e instanceof RangeError,
      );
      throws(
        () => pwm.write(1.1),
        (e) => e instanceof RangeError,
      );
      pwm.write(0.5);
      equal(pwm.level, 0.5);
    });
  });

  test("from the subscription: a notification's commands reach the outputs, its telemetry does not", () => {
    const { led, fan, ignored, dispatcher } = setup();
    const coap = new FakeCoapClient();
    const client = new ThethingsClient({
      coap,
      log: () => undefined,
      thingToken: "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-ABCDE",
    });
    client.subscribe({ onValues: (values) => dispatcher.dispatch(values) });
    coap.observations[0]!.notify(
      reply("2.05", [
        { key: "temperature", value: 21.5, datetime: "20260101120000" },
        { key: "led", value: "on", datetime: "2026-01-01T12:00:01.000Z" },
        { key: "fan", value: 80, datetime: "20260101120001" },
      ]),
    );
    equal(led.level, 1);
    equal(fan.level, 0.8);
    deepEqual(
      ignored.map((e) => e.reason),
      ["own-telemetry"],
    );
  });
});
