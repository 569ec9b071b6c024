// A simulated temperature/humidity sensor for the simulator and the PC, shaped like Moddable's
// SHT3x driver (embedded:sensor/Humidity-Temperature/SHT3x): sample() returns
// {temperature (°C), humidity (%RH)}. Values drift plausibly: a random walk pulled back towards
// a set point, humidity moving against temperature, rounded to the SHT3x's 0.01 resolution.
import type { RandomSource } from "../kernel/random.js";
import type { Sensor } from "./sensor.js";

export interface SimulatedClimateOptions {
  readonly random: RandomSource;
  /** The set point the temperature wanders around, °C (default 21). */
  readonly temperature?: number;
  /** The set point the humidity wanders around, %RH (default 45). */
  readonly humidity?: number;
}

export interface ClimateSample {
  readonly temperature: number;
  readonly humidity: number;
}

/** SHT3x measuring ranges. */
const TEMPERATURE_RANGE = Object.freeze([-40, 125] as const);
const HUMIDITY_RANGE = Object.freeze([0, 100] as const);
/** Share of the distance to the set point recovered per sample. */
const PULL = 0.05;
/** Largest random step per sample: °C and %RH. */
const TEMPERATURE_STEP = 0.2;
const HUMIDITY_STEP = 0.6;
/** %RH lost per °C gained (warmer air at the same moisture is relatively drier). */
const HUMIDITY_PER_DEGREE = 2;

function clamp(value: number, range: readonly [number, number]): number {
  return Math.min(range[1], Math.max(range[0], value));
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function checkSetPoint(value: number, range: readonly [number, number], name: string): number {
  if (typeof value !== "number" || !(value >= range[0] && value <= range[1])) {
    throw new RangeError(`SimulatedClimateSensor ${name}: ${range[0]}–${range[1]}, got ${value}`);
  }
  return value;
}

export class SimulatedClimateSensor implements Sensor {
  readonly #random: RandomSource;
  readonly #temperatureSetPoint: number;
  readonly #humiditySetPoint: number;
  #temperature: number;
  #humidity: number;
  #closed = false;

  constructor(options: SimulatedClimateOptions) {
    if (options?.random === undefined || typeof options.random.next !== "function")
      throw new TypeError("SimulatedClimateSensor: random required");
    this.#random = options.random;
    this.#temperatureSetPoint = checkSetPoint(options.temperature ?? 21, TEMPERATURE_RANGE, "temperature");
    this.#humiditySetPoint = checkSetPoint(options.humidity ?? 45, HUMIDITY_RANGE, "humidity");
    this.#temperature = this.#temperatureSetPoint;
    this.#humidity = this.#humiditySetPoint;
  }

  /** One measurement; each call advances the simulated climate by one step. */
  sample(): ClimateSample {
    if (this.#closed) throw new Error("SimulatedClimateSensor: closed");
    const previous = this.#temperature;
    const temperatureStep = (this.#random.next() * 2 - 1) * TEMPERATURE_STEP;
    this.#temperature = clamp(
      previous + (this.#temperatureSetPoint - previous) * PULL + temperatureStep,
      TEMPERATURE_RANGE,
    );
    const humidityStep = (this.#random.next() * 2 - 1) * HUMIDITY_STEP;
    const warming = this.#temperature - previous;
    this.#humidity = clamp(
      this.#humidity + (this.#humiditySetPoint - this.#humidity) * PULL + humidityStep - warming * HUMIDITY_PER_DEGREE,
      HUMIDITY_RANGE,
    );
    return { temperature: round2(this.#temperature), humidity: round2(this.#humidity) };
  }

  close(): void {
    this.#closed = true;
  }
}
