// The board IO of a target without hardware: the Moddable simulator (mcsim on Linux, macOS,
// Windows, whose IO manifests provide UDP and TCP but no Digital, PWM, Analog or I2C), the PC
// runner and the tests. Hardware sensors are refused with a hint and every output is simulated:
// it keeps its level and logs each change, which is how a command shows up in the log.
import type { LogSink } from "../kernel/log.js";
import type { Sensor } from "../sensors/sensor.js";
import type { ActuatorOutput } from "./actuator-output.js";
import type { BoardIo, HardwareSensorSpec } from "./board-io.js";
import type { ActuatorSpec } from "./io-specs.js";
import { SimulatedActuator } from "./simulated-actuator.js";

function describeLevel(spec: ActuatorSpec, level: number): string {
  if (spec.kind === "digital") return level === 1 ? "on" : "off";
  return `${Math.round(level * 1000) / 10}%`;
}

export const simulatedBoardIo: BoardIo = Object.freeze({
  name: "simulator",
  openSensor(spec: HardwareSensorSpec): Sensor {
    const instead = spec.kind === "analog" ? "sim-analog" : "sim";
    throw new Error(`the simulator has no ${spec.kind === "analog" ? "ADC" : "I2C"}; use ${instead}`);
  },
  openActuator(spec: ActuatorSpec, log: LogSink): ActuatorOutput {
    return new SimulatedActuator({
      kind: spec.kind,
      onWrite: (level) =>
        log("info", `actuator ${spec.key} (simulated ${spec.kind} pin ${spec.pin}) → ${describeLevel(spec, level)}`),
    });
  },
});
