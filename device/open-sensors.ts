// Opens the configured sensors and pairs each with its reading bindings for telemetry. Simulated
// kinds work on every target; hardware kinds come from the target's BoardIo. A sensor that fails
// to open (not fitted, not answering, not available on this target) is logged and left out, so
// the device still reports the others and still takes commands.
import type { LogSink } from "../kernel/log.js";
import type { RandomSource } from "../kernel/random.js";
import type { Sensor } from "../sensors/sensor.js";
import type { SensorBinding } from "../sensors/sensor-binding.js";
import { SimulatedAnalogInput } from "../sensors/simulated-analog.js";
import { SimulatedClimateSensor } from "../sensors/simulated-climate.js";
import type { BoardIo } from "./board-io.js";
import type { SensorSpec } from "./io-specs.js";

export interface OpenSensorsOptions {
  readonly board: BoardIo;
  readonly random: RandomSource;
  readonly log: LogSink;
}

function open(spec: SensorSpec, options: OpenSensorsOptions): Sensor {
  switch (spec.kind) {
    case "sim":
      return new SimulatedClimateSensor({ random: options.random });
    case "sim-analog":
      return new SimulatedAnalogInput({ random: options.random });
    default:
      return options.board.openSensor(spec);
  }
}

/** One binding per sensor that opened, in configuration order. */
export function openSensors(specs: readonly SensorSpec[], options: OpenSensorsOptions): SensorBinding[] {
  const bindings: SensorBinding[] = [];
  for (const spec of specs) {
    try {
      const sensor = open(spec, options);
      bindings.push(Object.freeze({ sensor, readings: spec.readings, name: spec.entry }));
      options.log(
        "info",
        `sensor ${spec.entry} on ${options.board.name}: keys ${spec.readings.map((reading) => reading.key).join(", ")}`,
      );
    } catch (error) {
      options.log("error", `sensor ${spec.entry}: ${error instanceof Error ? error.message : String(error)}; left out`);
    }
  }
  return bindings;
}
