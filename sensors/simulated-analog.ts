// A simulated analog input (think potentiometer or light sensor on an ADC pin) for the simulator
// and the PC. sample() returns {raw}: an integer count 0 … 2^resolution − 1, as ECMA-419 Analog's
// read() gives; a reading binding's `scale` turns counts into units (e.g. 3.3 / 4095 for volts).
import type { RandomSource } from "../kernel/random.js";
import type { Sensor } from "./sensor.js";

export interface SimulatedAnalogOptions {
  readonly random: RandomSource;
  /** ADC bits (default 12, the ESP32's). */
  readonly resolution?: number;
  /** Where the signal starts, as a share of full scale (default 0.5). */
  readonly start?: number;
  /** Largest change per sample, as a share of full scale (default 0.02). */
  readonly step?: number;
}

export interface AnalogSample {
  readonly raw: number;
}

/** Chance per sample of a jump (a hand turning the knob, a light switched on). */
const JUMP_CHANCE = 0.02;

export class SimulatedAnalogInput implements Sensor {
  readonly resolution: number;
  readonly #random: RandomSource;
  readonly #step: number;
  /** The signal as a share of full scale, 0–1. */
  #level: number;
  #closed = false;

  constructor(options: SimulatedAnalogOptions) {
    if (options?.random === undefined || typeof options.random.next !== "function")
      throw new TypeError("SimulatedAnalogInput: random required");
    const resolution = options.resolution ?? 12;
    if (!Number.isInteger(resolution) || resolution < 1 || resolution > 24)
      throw new RangeError(`SimulatedAnalogInput resolution: 1–24 bits, got ${resolution}`);
    const start = options.start ?? 0.5;
    if (typeof start !== "number" || !(start >= 0 && start <= 1))
      throw new RangeError(`SimulatedAnalogInput start: 0–1, got ${start}`);
    const step = options.step ?? 0.02;
    if (typeof step !== "number" || !(step >= 0 && step <= 1))
      throw new RangeError(`SimulatedAnalogInput step: 0–1, got ${step}`);
    this.resolution = resolution;
    this.#random = options.random;
    this.#step = step;
    this.#level = start;
  }

  /** One conversion; each call moves the simulated signal by one step. */
  sample(): AnalogSample {
    if (this.#closed) throw new Error("SimulatedAnalogInput: closed");
    const jump = this.#random.next() < JUMP_CHANCE;
    const move = this.#random.next();
    this.#level = jump ? move : Math.min(1, Math.max(0, this.#level + (move * 2 - 1) * this.#step));
    const full = 2 ** this.resolution - 1;
    return { raw: Math.round(this.#level * full) };
  }

  close(): void {
    this.#closed = true;
  }
}
