// The sensor and actuator lists (device/io-specs.ts): each entry's kind, pins and keys, the pins
// an entry may leave out (the board's, else the fallbacks), and the entry named in every refusal.

import {
  FALLBACK_BOARD_PINS,
  MAX_ACTUATORS,
  MAX_SENSORS,
  parseActuators,
  parseSensors,
  SHT3X_DEFAULTS,
  sensorPins,
} from "../../device/io-specs.js";
import * as assert from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { rejected } from "./config-rejected.js";

suite("config sensors", () => {
  test("each kind with its readings and default keys", () => {
    const [sim, simAnalog, sht, analog] = parseSensors("sensors", "sim,sim-analog@knob,sht3x@room,analog:34");
    assert.deepEqual(sim, {
      kind: "sim",
      entry: "sim",
      readings: [
        { path: "temperature", key: "temperature", decimals: 2 },
        { path: "humidity", key: "humidity", decimals: 2 },
      ],
    });
    assert.deepEqual(simAnalog, {
      kind: "sim-analog",
      entry: "sim-analog@knob",
      readings: [{ path: "raw", key: "knob", decimals: 0 }],
    });
    assert.deepEqual(sht, {
      kind: "sht3x",
      entry: "sht3x@room",
      readings: [
        { path: "thermometer.temperature", key: "room.temperature", decimals: 2 },
        { path: "hygrometer.humidity", key: "room.humidity", decimals: 2 },
      ],
      sda: SHT3X_DEFAULTS.sda,
      scl: SHT3X_DEFAULTS.scl,
      address: 0x44,
    });
    assert.deepEqual(analog, {
      kind: "analog",
      entry: "analog:34",
      readings: [{ path: "raw", key: "analog", decimals: 0 }],
      pin: 34,
    });
  });

  test("SHT3x pins and address; spaces around entries; empty and none", () => {
    const [sht] = parseSensors("sensors", " sht3x:4:5:0x45 ");
    assert.ok(sht !== undefined && sht.kind === "sht3x");
    assert.equal(sht.sda, 4);
    assert.equal(sht.scl, 5);
    assert.equal(sht.address, 0x45);
    assert.deepEqual(parseSensors("sensors", ""), []);
    assert.deepEqual(parseSensors("sensors", "none"), []);
  });

  test("mistakes name the entry", () => {
    rejected(() => parseSensors("sensors", "sht31"), "sensors", '"sht31"', "unknown sensor kind");
    rejected(() => parseSensors("sensors", "analog"), "sensors", "analog:PIN");
    rejected(() => parseSensors("sensors", "analog:99"), "sensors", "not a GPIO number");
    rejected(() => parseSensors("sensors", "analog:x"), "sensors", "not a GPIO number");
    rejected(() => parseSensors("sensors", "sim:3"), "sensors", "takes no arguments");
    rejected(() => parseSensors("sensors", "sht3x:1:2:0x44:9"), "sensors", "sht3x[:sda:scl[:address]]");
    rejected(() => parseSensors("sensors", "sht3x:21:22:0x80"), "sensors", "outside 8–119");
    rejected(() => parseSensors("sensors", "sim,,sim-analog"), "sensors", "empty entry");
    rejected(() => parseSensors("sensors", "analog:34@bad key"), "sensors", "not a theThings.IO key");
    rejected(() => parseSensors("sensors", "sim@"), "sensors", "nothing after @");
    rejected(
      () =>
        parseSensors(
          "sensors",
          Array(MAX_SENSORS + 1)
            .fill("sim")
            .map((s, i) => `${s}@s${i}`)
            .join(","),
        ),
      "sensors",
      `at most ${MAX_SENSORS}`,
    );
  });

  test("two sensors writing one key are refused, with the way out", () => {
    rejected(
      () => parseSensors("sensors", "analog:34,analog:35"),
      "sensors",
      '"analog:34" and "analog:35"',
      "analog",
      "@",
    );
    rejected(() => parseSensors("sensors", "sim,sht3x"), "sensors", "temperature");
    assert.equal(parseSensors("sensors", "analog:34,analog:35@analog2").length, 2);
  });
});

suite("config actuators", () => {
  test("digital and pwm with their options", () => {
    assert.deepEqual(parseActuators("actuators", "led:digital:2,relay:digital:4:low,fan:pwm:5,pump:pwm:18:25000"), [
      { kind: "digital", entry: "led:digital:2", key: "led", pin: 2, activeLow: false },
      { kind: "digital", entry: "relay:digital:4:low", key: "relay", pin: 4, activeLow: true },
      { kind: "pwm", entry: "fan:pwm:5", key: "fan", pin: 5, hz: undefined },
      { kind: "pwm", entry: "pump:pwm:18:25000", key: "pump", pin: 18, hz: 25000 },
    ]);
    assert.deepEqual(parseActuators("actuators", ""), []);
  });

  test("mistakes name the entry", () => {
    rejected(() => parseActuators("actuators", "led"), "actuators", "KEY:digital:PIN");
    rejected(() => parseActuators("actuators", "led:"), "actuators", "unknown actuator kind", '""');
    rejected(() => parseActuators("actuators", ":digital"), "actuators", "not a theThings.IO key");
    rejected(() => parseActuators("actuators", "led:servo:2"), "actuators", "unknown actuator kind", '"servo"');
    rejected(() => parseActuators("actuators", "led:digital:2:high"), "actuators", "only digital option is low");
    rejected(() => parseActuators("actuators", "fan:pwm:5:fast"), "actuators", "not a whole number");
    rejected(() => parseActuators("actuators", "led:digital:64"), "actuators", "not a GPIO number");
    rejected(() => parseActuators("actuators", "l d:digital:2"), "actuators", "not a theThings.IO key");
    rejected(() => parseActuators("actuators", "led:digital:2:low:x"), "actuators", "KEY:digital:PIN");
    rejected(() => parseActuators("actuators", "led:digital:2,led:pwm:4"), "actuators", '"led" is given twice');
    rejected(() => parseActuators("actuators", "led:digital:2,fan:pwm:2"), "actuators", "same pin");
    rejected(
      () =>
        parseActuators(
          "actuators",
          Array(MAX_ACTUATORS + 1)
            .fill(0)
            .map((_, i) => `a${i}:digital:${i}`)
            .join(","),
        ),
      "actuators",
      `at most ${MAX_ACTUATORS}`,
    );
  });
});

suite("config board pins", () => {
  const thingPlus = Object.freeze({ ledPin: 13, i2c: Object.freeze({ sda: 23, scl: 22 }) });

  test("the fallbacks where the board names nothing: LED on GPIO 2, I2C on 21/22, SHT3x at 0x44", () => {
    assert.deepEqual(FALLBACK_BOARD_PINS, { ledPin: 2, i2c: { sda: 21, scl: 22 } });
    assert.ok(Object.isFrozen(FALLBACK_BOARD_PINS) && Object.isFrozen(FALLBACK_BOARD_PINS.i2c), "frozen");
    assert.deepEqual(SHT3X_DEFAULTS, { sda: 21, scl: 22, address: 0x44 });
  });

  test("an actuator without a pin is the board's LED, for digital and pwm; GPIO 2 without a board", () => {
    assert.deepEqual(parseActuators("actuators", "led:digital"), [
      { kind: "digital", entry: "led:digital", key: "led", pin: 2, activeLow: false },
    ]);
    assert.deepEqual(parseActuators("actuators", "led:digital", {}), [
      { kind: "digital", entry: "led:digital", key: "led", pin: 2, activeLow: false },
    ]);
    assert.deepEqual(parseActuators("actuators", "led:digital", thingPlus), [
      { kind: "digital", entry: "led:digital", key: "led", pin: 13, activeLow: false },
    ]);
    assert.deepEqual(parseActuators("actuators", "led:digital::low", thingPlus), [
      { kind: "digital", entry: "led:digital::low", key: "led", pin: 13, activeLow: true },
    ]);
    assert.deepEqual(parseActuators("actuators", "led:pwm", thingPlus), [
      { kind: "pwm", entry: "led:pwm", key: "led", pin: 13, hz: undefined },
    ]);
    assert.deepEqual(parseActuators("actuators", "led:pwm::5000", thingPlus), [
      { kind: "pwm", entry: "led:pwm::5000", key: "led", pin: 13, hz: 5000 },
    ]);
    assert.equal(parseActuators("actuators", "status:digital", thingPlus)[0]!.pin, 13, "any key may drive the LED");
    assert.equal(
      parseActuators("actuators", "led:digital", { i2c: { sda: 4, scl: 5 } })[0]!.pin,
      2,
      "a board naming only I2C keeps the fallback LED",
    );
  });

  test("an explicit pin always wins over the board's", () => {
    assert.deepEqual(
      parseActuators("actuators", "led:digital:2,fan:pwm:4:25000", thingPlus).map((spec) => spec.pin),
      [2, 4],
    );
    const [sht] = parseSensors("sensors", "sht3x:4:5", thingPlus);
    assert.ok(sht !== undefined && sht.kind === "sht3x");
    assert.deepEqual([sht.sda, sht.scl], [4, 5]);
  });

  test("only one entry takes the LED: two pin-less outputs, or one on the LED's number, share a pin", () => {
    rejected(
      () => parseActuators("actuators", "led:digital,fan:pwm", thingPlus),
      "actuators",
      '"led:digital" and "fan:pwm" use the same pin',
    );
    rejected(() => parseActuators("actuators", "led:digital,relay:digital:13", thingPlus), "actuators", "same pin");
    rejected(() => parseActuators("actuators", "led:digital:2,fan:pwm"), "actuators", "same pin");
  });

  test("sht3x without pins sits on the board's I2C default; a pin left out or empty takes the board's", () => {
    const [onBoard, addressOnly, sdaOnly] = parseSensors(
      "sensors",
      "sht3x,sht3x:::0x45@outside,sht3x:4@third",
      thingPlus,
    );
    assert.deepEqual(onBoard, {
      kind: "sht3x",
      entry: "sht3x",
      readings: [
        { path: "thermometer.temperature", key: "temperature", decimals: 2 },
        { path: "hygrometer.humidity", key: "humidity", decimals: 2 },
      ],
      sda: 23,
      scl: 22,
      address: 0x44,
    });
    assert.ok(
      addressOnly !== undefined && addressOnly.kind === "sht3x" && sdaOnly !== undefined && sdaOnly.kind === "sht3x",
    );
    assert.deepEqual([addressOnly.sda, addressOnly.scl, addressOnly.address], [23, 22, 0x45]);
    assert.deepEqual([sdaOnly.sda, sdaOnly.scl], [4, 22]);
    const [fallback] = parseSensors("sensors", "sht3x", { ledPin: 13 });
    assert.ok(fallback !== undefined && fallback.kind === "sht3x");
    assert.deepEqual([fallback.sda, fallback.scl], [21, 22], "a board naming only its LED keeps the fallback I2C");
  });

  test("an analog input still needs its pin: the board's description names no ADC input to imply", () => {
    rejected(() => parseSensors("sensors", "analog", thingPlus), "sensors", "analog:PIN");
    rejected(() => parseSensors("sensors", "analog:", thingPlus), "sensors", "needs a pin number");
  });

  test("the pins each sensor occupies", () => {
    const specs = parseSensors("sensors", "sim,sim-analog,sht3x@room,analog:34@light", thingPlus);
    assert.deepEqual(
      specs.map((spec) => sensorPins(spec)),
      [[], [], [23, 22], [34]],
    );
  });
});
