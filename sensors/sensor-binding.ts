// How a sensor's readings map to theThings.IO keys. Any ECMA-419 sensor (Sensor Class Pattern:
// sample() returns an object of readings) plugs in the same way, simulated or real:
//   { sensor: sht3x, readings: [{ path: "temperature", key: "temperature", decimals: 2 }] }
//   { sensor: bmp280, readings: [{ path: "thermometer.temperature", key: "temp" }] }
import type { Sensor } from "./sensor.js";
import { checkThingKey } from "./thing-key.js";

export interface ReadingBinding {
  /** Where the reading sits in the sample object: "temperature", or "thermometer.temperature" for nested classes. */
  readonly path: string;
  /** The theThings.IO key the reading is written to. */
  readonly key: string;
  /** Multiplies the reading before it is sent (e.g. 3.3 / 4095 turns ADC counts into volts). */
  readonly scale?: number;
  /** Rounds the (scaled) reading to this many decimals, 0–10: fewer bytes per value. */
  readonly decimals?: number;
}

export interface SensorBinding {
  readonly sensor: Sensor;
  readonly readings: readonly ReadingBinding[];
  /** Names the sensor in log lines; defaults to "sensor N". */
  readonly name?: string;
}

/** A reading binding checked and prepared once, so sampling does no parsing. */
export interface CompiledReading {
  /** Index of its key in the compiled plan's key table (the key itself is kept there only). */
  readonly keyIndex: number;
  /** The path's segments; a path of one segment is kept as its string (the binding's own: no array, no copy). */
  readonly segments: string | readonly string[];
  readonly scale: number;
  /** 10 ** decimals, or 0 for "no rounding". */
  readonly rounding: number;
}

export interface CompiledBinding {
  readonly name: string;
  readonly sensor: Sensor;
  readonly readings: readonly CompiledReading[];
}

export interface CompiledPlan {
  readonly bindings: readonly CompiledBinding[];
  /** Every distinct key, in first-use order; values in the buffer refer to keys by index. */
  readonly keys: readonly string[];
  /** How many readings the plan has in all (its bound on values per sampling round). */
  readonly readingCount: number;
}

const MAX_DECIMALS = 10;

function compileReading(reading: ReadingBinding, where: string, keys: string[]): CompiledReading {
  if (reading === null || typeof reading !== "object") throw new TypeError(`${where}: not an object`);
  const key = checkThingKey(reading.key, `${where}.key`);
  if (typeof reading.path !== "string") throw new TypeError(`${where}.path: not a string`);
  const segments = reading.path.split(".");
  if (segments.some((segment) => segment === ""))
    throw new TypeError(`${where}.path: ${JSON.stringify(reading.path)} has an empty segment`);
  const scale = reading.scale ?? 1;
  if (typeof scale !== "number" || !Number.isFinite(scale)) throw new TypeError(`${where}.scale: not a finite number`);
  const decimals = reading.decimals;
  if (decimals !== undefined && (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_DECIMALS)) {
    throw new RangeError(`${where}.decimals: an integer 0–${MAX_DECIMALS}`);
  }
  let keyIndex = keys.indexOf(key);
  if (keyIndex < 0) keyIndex = keys.push(key) - 1;
  return Object.freeze({
    keyIndex,
    segments: segments.length === 1 ? reading.path : Object.freeze(segments),
    scale,
    rounding: decimals === undefined ? 0 : 10 ** decimals,
  });
}

/** Checks the bindings (misuse throws TypeError/RangeError) and prepares them for sampling. */
export function compileBindings(bindings: readonly SensorBinding[]): CompiledPlan {
  if (!Array.isArray(bindings)) throw new TypeError("bindings: not an array");
  const keys: string[] = [];
  let readingCount = 0;
  const compiled = bindings.map((binding: SensorBinding, i) => {
    const where = `bindings[${i}]`;
    if (binding === null || typeof binding !== "object") throw new TypeError(`${where}: not an object`);
    if (binding.sensor === null || typeof binding.sensor !== "object" || typeof binding.sensor.sample !== "function") {
      throw new TypeError(`${where}.sensor: has no sample()`);
    }
    if (!Array.isArray(binding.readings) || binding.readings.length === 0)
      throw new TypeError(`${where}.readings: a non-empty array`);
    const readings = binding.readings.map((reading: ReadingBinding, j) =>
      compileReading(reading, `${where}.readings[${j}]`, keys),
    );
    readingCount += readings.length;
    return Object.freeze({
      name: binding.name ?? `sensor ${i}`,
      sensor: binding.sensor,
      readings: Object.freeze(readings),
    });
  });
  return Object.freeze({ bindings: Object.freeze(compiled), keys: Object.freeze(keys), readingCount });
}

/** The property `name` of `node`, or undefined when `node` is not an object. */
function readingOf(node: unknown, name: string): unknown {
  return node === null || typeof node !== "object" ? undefined : (node as Record<string, unknown>)[name];
}

/** The path of a compiled reading, for log lines. */
export function readingPath(reading: CompiledReading): string {
  return typeof reading.segments === "string" ? reading.segments : reading.segments.join(".");
}

/**
 * The reading at `reading`'s path in `sample`, scaled and rounded, or undefined when it is
 * missing, not a number, NaN or infinite (before or after scaling). Getters that throw count
 * as missing.
 */
export function extractReading(sample: unknown, reading: CompiledReading): number | undefined {
  let node: unknown = sample;
  const { segments } = reading;
  try {
    if (typeof segments === "string") node = readingOf(node, segments);
    else for (const segment of segments) node = readingOf(node, segment);
  } catch {
    return undefined;
  }
  if (typeof node !== "number") return undefined;
  let value = node * reading.scale;
  if (reading.rounding !== 0) value = Math.round(value * reading.rounding) / reading.rounding;
  return Number.isFinite(value) ? value : undefined;
}
