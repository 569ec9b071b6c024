// Opening the configured sensors and outputs through a target's BoardIo (device/open-sensors.ts,
// device/open-actuators.ts), and the simulator's board IO (device/simulated-board-io.ts).

import type { ActuatorOutput } from "../../device/actuator-output.js";
import type { BoardIo, HardwareSensorSpec } from "../../device/board-io.js";
import { type ActuatorSpec, parseActuators, parseSensors } from "../../device/io-specs.js";
import { openActuators } from "../../device/open-actuators.js";
import { openSensors } from "../../device/open-sensors.js";
import { SimulatedActuator } from "../../device/simulated-actuator.js";
import { simulatedBoardIo } from "../../device/simulated-board-io.js";
import type { LogSink } from "../../kernel/log.js";
import type { Sensor } from "../../sensors/sensor.js";
import { compileBindings } from "../../sensors/sensor-binding.js";
import { collectingLog, type LogLine } from "../core-fakes/telemetry-fakes.js";
import { deepEqual, equal, ok, throws } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { SeededRandom } from "../sim/seeded-random.js";

/** A board that records what it is asked to open and refuses the entries named in `refuse`. */
class FakeBoard implements BoardIo {
  readonly name = "fake board";
  readonly sensorsAsked: string[] = [];
  readonly actuatorsAsked: string[] = [];
  readonly sensorsOpened: Sensor[] = [];
  readonly outputsOpened: ActuatorOutput[] = [];
  readonly logsGiven: LogSink[] = [];
  readonly #refuse: ReadonlyMap<string, unknown>;

  /** `refuse`: entry → the value its open throws. */
  constructor(refuse: ReadonlyMap<string, unknown> = new Map()) {
    this.#refuse = refuse;
  }

  openSensor(spec: HardwareSensorSpec): Sensor {
    this.sensorsAsked.push(spec.entry);
    if (this.#refuse.has(spec.entry)) throw this.#refuse.get(spec.entry);
    const sensor = { sample: () => ({ raw: 7 }) };
    this.sensorsOpened.push(sensor);
    return sensor;
  }

  openActuator(spec: ActuatorSpec, log: LogSink): ActuatorOutput {
    this.actuatorsAsked.push(spec.entry);
    this.logsGiven.push(log);
    if (this.#refuse.has(spec.entry)) throw this.#refuse.get(spec.entry);
    const output = new SimulatedActuator({ kind: spec.kind });
    this.outputsOpened.push(output);
    return output;
  }
}

/** A board with no hardware at all: every open throws. */
const emptyBoard: BoardIo = Object.freeze({
  name: "empty board",
  openSensor(): Sensor {
    throw new Error("no sensor hardware");
  },
  openActuator(): ActuatorOutput {
    throw new Error("no output hardware");
  },
});

function errors(lines: readonly LogLine[]): string[] {
  return lines.filter((line) => line.level === "error").map((line) => line.message);
}

suite("device: openSensors", () => {
  test("a sensor whose open throws is logged and left out; the others open in configuration order", () => {
    const specs = parseSensors("sensors", "sim,sht3x@room,sim-analog@level,analog:34");
    const board = new FakeBoard(new Map([["sht3x@room", new Error("no answer at 0x44")]]));
    const { lines, log } = collectingLog();
    const bindings = openSensors(specs, { board, random: new SeededRandom(4), log });

    deepEqual(
      bindings.map((binding) => binding.name),
      ["sim", "sim-analog@level", "analog:34"],
    );
    deepEqual(board.sensorsAsked, ["sht3x@room", "analog:34"], "only hardware kinds reach the board");
    equal(bindings[2]!.sensor, board.sensorsOpened[0], "the board's sensor is bound as it came");
    deepEqual(errors(lines), ["sensor sht3x@room: no answer at 0x44; left out"]);
    ok(lines.some((line) => line.level === "info" && line.message === "sensor analog:34 on fake board: keys analog"));
  });

  test("bindings keep each spec's readings and keys, frozen, and telemetry accepts them", () => {
    const specs = parseSensors("sensors", "sim@room,sim-analog,analog:35@battery");
    const bindings = openSensors(specs, {
      board: new FakeBoard(),
      random: new SeededRandom(2),
      log: collectingLog().log,
    });

    equal(bindings.length, 3);
    for (let i = 0; i < specs.length; i++) {
      equal(bindings[i]!.readings, specs[i]!.readings, `binding ${i} carries its spec's readings`);
      equal(bindings[i]!.name, specs[i]!.entry);
      ok(Object.isFrozen(bindings[i]), `binding ${i} is frozen`);
    }
    deepEqual(compileBindings(bindings).keys, ["room.temperature", "room.humidity", "analog", "battery"]);
  });

  test("simulated kinds open on a board without hardware, and sample", () => {
    const specs = parseSensors("sensors", "sim,sht3x:21:22@room,sim-analog");
    const { lines, log } = collectingLog();
    const bindings = openSensors(specs, { board: emptyBoard, random: new SeededRandom(8), log });

    deepEqual(
      bindings.map((binding) => binding.name),
      ["sim", "sim-analog"],
    );
    const climate = bindings[0]!.sensor.sample() as { temperature: unknown; humidity: unknown };
    equal(typeof climate.temperature, "number");
    equal(typeof climate.humidity, "number");
    equal(typeof (bindings[1]!.sensor.sample() as { raw: unknown }).raw, "number");
    deepEqual(errors(lines), ["sensor sht3x:21:22@room: no sensor hardware; left out"]);
  });

  test("a thrown non-Error is logged as text; no sensors configured opens none", () => {
    const board = new FakeBoard(new Map([["analog:4", "pin busy"]]));
    const { lines, log } = collectingLog();
    deepEqual(openSensors(parseSensors("sensors", "analog:4"), { board, random: new SeededRandom(1), log }), []);
    deepEqual(errors(lines), ["sensor analog:4: pin busy; left out"]);

    const idle = new FakeBoard();
    deepEqual(openSensors(parseSensors("sensors", "none"), { board: idle, random: new SeededRandom(1), log }), []);
    deepEqual(idle.sensorsAsked, []);
  });
});

suite("device: openActuators", () => {
  test("an output whose open throws is logged and left out; the others bind to their keys in order", () => {
    const specs = parseActuators("actuators", "led:digital:2,fan:pwm:4,relay:digital:5:low");
    const board = new FakeBoard(new Map([["fan:pwm:4", new RangeError("no PWM channel left")]]));
    const { lines, log } = collectingLog();
    const bindings = openActuators(specs, { board, log });

    deepEqual(
      bindings.map((binding) => binding.key),
      ["led", "relay"],
    );
    deepEqual(board.actuatorsAsked, ["led:digital:2", "fan:pwm:4", "relay:digital:5:low"]);
    equal(bindings[0]!.output, board.outputsOpened[0]);
    equal(bindings[1]!.output, board.outputsOpened[1]);
    ok(
      bindings.every((binding) => Object.isFrozen(binding)),
      "bindings are frozen",
    );
    ok(
      board.logsGiven.every((given) => given === log),
      "the board gets the caller's log sink",
    );
    deepEqual(errors(lines), ["actuator fan:pwm:4: no PWM channel left; left out"]);
    ok(lines.some((line) => line.level === "info" && line.message === "actuator relay: digital pin 5 on fake board"));
  });

  test("a board without outputs leaves every actuator out, and the device still has none to command", () => {
    const { lines, log } = collectingLog();
    deepEqual(openActuators(parseActuators("actuators", "led:digital:2,fan:pwm:4"), { board: emptyBoard, log }), []);
    equal(errors(lines).length, 2);
    deepEqual(openActuators(parseActuators("actuators", ""), { board: emptyBoard, log }), []);
  });
});

suite("device: simulated board IO", () => {
  test("hardware sensors are refused with a hint to the simulated kind", () => {
    const [sht3x, analog] = parseSensors("sensors", "sht3x,analog:34");
    throws(
      () => simulatedBoardIo.openSensor(sht3x as HardwareSensorSpec),
      (e) => e instanceof Error && e.message === "the simulator has no I2C; use sim",
    );
    throws(
      () => simulatedBoardIo.openSensor(analog as HardwareSensorSpec),
      (e) => e instanceof Error && e.message === "the simulator has no ADC; use sim-analog",
    );

    const { lines, log } = collectingLog();
    const bindings = openSensors(parseSensors("sensors", "sht3x@room,sim"), {
      board: simulatedBoardIo,
      random: new SeededRandom(3),
      log,
    });
    deepEqual(
      bindings.map((binding) => binding.name),
      ["sim"],
    );
    deepEqual(errors(lines), ["sensor sht3x@room: the simulator has no I2C; use sim; left out"]);
  });

  test("outputs are simulated: each level written is kept and logged", () => {
    const { lines, log } = collectingLog();
    const bindings = openActuators(parseActuators("actuators", "led:digital:2,fan:pwm:4"), {
      board: simulatedBoardIo,
      log,
    });
    deepEqual(
      bindings.map((binding) => [binding.key, binding.output.kind]),
      [
        ["led", "digital"],
        ["fan", "pwm"],
      ],
    );

    bindings[0]!.output.write(1);
    bindings[1]!.output.write(0.25);
    bindings[0]!.output.write(0);
    const written = lines.filter((line) => line.message.includes("(simulated")).map((line) => line.message);
    deepEqual(written, [
      "actuator led (simulated digital pin 2) → on",
      "actuator fan (simulated pwm pin 4) → 25%",
      "actuator led (simulated digital pin 2) → off",
    ]);
    equal((bindings[1]!.output as SimulatedActuator).level, 0.25);
    throws(
      () => bindings[0]!.output.write(2),
      (e) => e instanceof RangeError,
      "a digital level other than 0 or 1 is a caller bug",
    );
  });

  test("the simulated board IO is frozen and names the simulator", () => {
    equal(simulatedBoardIo.name, "simulator");
    ok(Object.isFrozen(simulatedBoardIo));
  });
});
