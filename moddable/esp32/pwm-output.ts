// An ECMA-419 PWM output as an ActuatorOutput: write(duty) with duty in [0, 1], scaled to the
// port's resolution (ESP32 LEDC: 10 bits by default). Starts at 0.
import PWM from "embedded:io/pwm";
import type { ActuatorOutput } from "../../device/actuator-output.js";

export interface PwmOutputOptions {
  readonly pin: number;
  /** Frequency in Hz; undefined keeps the port's default. */
  readonly hz: number | undefined;
}

/** PWM's close() exists on every port but is missing from the typings. */
type Closable = { close?: () => void };

export class PwmOutput implements ActuatorOutput {
  readonly kind = "pwm";
  #pwm: PWM | undefined;
  readonly #fullScale: number;

  constructor(options: PwmOutputOptions) {
    const pwm =
      options.hz === undefined ? new PWM({ pin: options.pin }) : new PWM({ pin: options.pin, hz: options.hz });
    this.#pwm = pwm;
    this.#fullScale = 2 ** pwm.resolution - 1;
    this.write(0);
  }

  write(level: number): void {
    if (this.#pwm === undefined) throw new Error("PwmOutput: closed");
    if (!(level >= 0 && level <= 1)) throw new RangeError(`PwmOutput: duty ${level} is outside 0–1`);
    this.#pwm.write(Math.round(level * this.#fullScale));
  }

  close(): void {
    (this.#pwm as Closable | undefined)?.close?.();
    this.#pwm = undefined;
  }
}
