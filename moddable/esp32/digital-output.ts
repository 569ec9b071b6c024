// An ECMA-419 Digital output as an ActuatorOutput: write(0 | 1), inverted for active-low wiring.
// Starts off, so a reboot never leaves a relay on until the first command arrives.
import Digital from "embedded:io/digital";
import type { ActuatorOutput } from "../../device/actuator-output.js";

export interface DigitalOutputOptions {
  readonly pin: number;
  /** On is a low pin (an LED or relay wired to the supply). */
  readonly activeLow: boolean;
}

export class DigitalOutput implements ActuatorOutput {
  readonly kind = "digital";
  readonly #activeLow: boolean;
  #digital: Digital | undefined;

  constructor(options: DigitalOutputOptions) {
    this.#activeLow = options.activeLow;
    this.#digital = new Digital({ pin: options.pin, mode: Digital.Output });
    this.write(0);
  }

  write(level: number): void {
    if (this.#digital === undefined) throw new Error("DigitalOutput: closed");
    if (level !== 0 && level !== 1) throw new RangeError(`DigitalOutput: level ${level} is not 0 or 1`);
    this.#digital.write(this.#activeLow ? (level === 1 ? 0 : 1) : level);
  }

  close(): void {
    this.#digital?.close();
    this.#digital = undefined;
  }
}
