// What a target contributes: its hardware sensors and its outputs. The manifest maps the module
// specifier "moddable/board-io" to moddable/board-io-esp32.ts on the board and to
// moddable/board-io-sim.ts in the simulator (which has UDP but no Digital, PWM, Analog or I2C),
// so the target is chosen by the build, never by editing code.
import type { LogSink } from "../coap/ports.js";
import type { ActuatorSpec, AnalogSpec, Sht3xSpec } from "../device/config.js";
import type { ActuatorOutput, Sensor } from "../device/ports.js";

/** Sensor kinds that need hardware; the simulated kinds are the same everywhere. */
export type HardwareSensorSpec = Sht3xSpec | AnalogSpec;

export interface BoardIo {
  /** Names the target in log lines ("esp32", "simulator"). */
  readonly name: string;
  /** Opens a hardware sensor; throws when the target has no such hardware or the part does not answer. */
  openSensor(spec: HardwareSensorSpec): Sensor;
  /** Opens an output; the simulator's outputs log each level through `log`. */
  openActuator(spec: ActuatorSpec, log: LogSink): ActuatorOutput;
}
