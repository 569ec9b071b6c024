// The ESP32 target: ECMA-419 Analog and I2C sensors (SHT3x through Moddable's driver), Digital
// and PWM outputs. Pins come from the configuration, whose defaults are the board's own
// (moddable/board-pins.ts) or device/io-specs.ts's fallbacks; nothing here is board-specific.
/// <reference path="./esp32/sht3x.d.ts" />
import I2C from "embedded:io/i2c";
import SHT3x from "embedded:sensor/Humidity-Temperature/SHT3x";
import type { ActuatorOutput } from "../device/actuator-output.js";
import type { BoardIo, HardwareSensorSpec } from "../device/board-io.js";
import type { ActuatorSpec } from "../device/io-specs.js";
import type { LogSink } from "../kernel/log.js";
import type { Sensor } from "../sensors/sensor.js";
import { AnalogInput } from "./esp32/analog-input.js";
import { DigitalOutput } from "./esp32/digital-output.js";
import { PwmOutput } from "./esp32/pwm-output.js";
import { readResetReason } from "./esp32/reset-reason.js";
import { BOOT_BUTTON_PIN, isButtonHeld } from "./esp32/setup-button.js";

const esp32Io: BoardIo = Object.freeze({
  name: "esp32",
  openSensor(spec: HardwareSensorSpec): Sensor {
    if (spec.kind === "analog") return new AnalogInput({ pin: spec.pin });
    // The driver soft-resets the part in its constructor, so a missing SHT3x throws here.
    return new SHT3x({ sensor: { io: I2C, data: spec.sda, clock: spec.scl, address: spec.address } });
  },
  openActuator(spec: ActuatorSpec, _log: LogSink): ActuatorOutput {
    return spec.kind === "digital"
      ? new DigitalOutput({ pin: spec.pin, activeLow: spec.activeLow })
      : new PwmOutput({ pin: spec.pin, hz: spec.hz });
  },
  resetReason: readResetReason,
  fallbackButtonPin: BOOT_BUTTON_PIN,
  isButtonHeld,
});

export default esp32Io;
