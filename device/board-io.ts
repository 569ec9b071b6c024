// The port through which a target contributes its hardware: sensors and outputs. The device core
// defines it and opens through it (open-sensors.ts, open-actuators.ts); each target implements it.
// The Moddable build maps the specifier "moddable/board-io" to moddable/board-io-esp32.ts on the
// board and to moddable/board-io-sim.ts in the simulator (which has UDP but no Digital, PWM, Analog
// or I2C), so the target is chosen by the build, never by editing code. The simulator's
// implementation is portable (simulated-board-io.ts) and also serves the PC runner and tests.
// Kept apart from ports.ts because it is written in terms of the configuration's specs, and
// ports.ts stays a leaf that config.ts and sensors/ can import.
import type { LogSink } from "../kernel/log.js";
import type { Sensor } from "../sensors/sensor.js";
import type { ActuatorOutput } from "./actuator-output.js";
import type { ActuatorSpec, AnalogSpec, Sht3xSpec } from "./io-specs.js";

/** Sensor kinds that need hardware; the simulated kinds are the same everywhere. */
export type HardwareSensorSpec = Sht3xSpec | AnalogSpec;

export interface BoardIo {
  /** Names the target in log lines ("esp32", "simulator"). */
  readonly name: string;
  /** Opens a hardware sensor; throws when the target has no such hardware or the part does not answer. */
  openSensor(spec: HardwareSensorSpec): Sensor;
  /** Opens an output; the simulator's outputs log each level through `log`. */
  openActuator(spec: ActuatorSpec, log: LogSink): ActuatorOutput;
  /** The setup button's pin where the board's description names none (GPIO 0 on an ESP32). */
  readonly fallbackButtonPin?: number;
  /** Whether the button on `pin` is held now (read at boot); targets without buttons leave it out. */
  isButtonHeld?(pin: number): boolean;
  /** Why the board last started (device/reset-reason.ts names); absent where the target cannot say. */
  resetReason?(): string;
}
