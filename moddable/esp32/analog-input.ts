// An ECMA-419 Analog input as a Sensor: sample() is {raw}, the ADC count (0 … 2^resolution − 1),
// the same shape as the simulated analog input, so one reading binding serves both.
import Analog from "embedded:io/analog";
import type { Sensor } from "../../sensors/sensor.js";

export interface AnalogInputOptions {
  readonly pin: number;
}

/** Analog's close() exists on every port but is missing from the typings. */
type Closable = { close?: () => void };

export class AnalogInput implements Sensor {
  #analog: Analog | undefined;

  constructor(options: AnalogInputOptions) {
    this.#analog = new Analog({ pin: options.pin });
  }

  get resolution(): number {
    return this.#analog?.resolution ?? 0;
  }

  sample(): { raw: number } {
    if (this.#analog === undefined) throw new Error("AnalogInput: closed");
    return { raw: this.#analog.read() };
  }

  close(): void {
    (this.#analog as Closable | undefined)?.close?.();
    this.#analog = undefined;
  }
}
