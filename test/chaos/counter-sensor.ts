// A test sensor whose every reading is unique: 0, 1, 2, … up to a limit, then nothing. With it a
// chaos run can name exactly which values the platform is missing or holds twice, and the limit
// stops the flow of new values so the buffer can drain (a reading that is missing is skipped by
// telemetry, not sampled). Each sample carries `perSample` numbers, all on one key, so a run can
// produce values faster than the shortest sampling interval the config takes (100 ms).
import type { Sensor } from "../../sensors/sensor.js";
import type { SensorBinding } from "../../sensors/sensor-binding.js";

/** The theThings.IO key the counter's values are written to. */
export const COUNTER_KEY = "seq";

export class CounterSensor implements Sensor {
  readonly limit: number;
  readonly perSample: number;
  #next = 0;

  constructor(limit: number, perSample = 1) {
    if (!Number.isInteger(limit) || limit < 0)
      throw new RangeError(`CounterSensor: limit must be a whole number ≥ 0, got ${limit}`);
    if (!Number.isInteger(perSample) || perSample < 1)
      throw new RangeError(`CounterSensor: perSample must be a whole number ≥ 1, got ${perSample}`);
    this.limit = limit;
    this.perSample = perSample;
  }

  /** How many values it has given so far. */
  get produced(): number {
    return this.#next;
  }

  /** `{seq: [n, n+1, …]}`, shorter (then empty) once the limit is reached. */
  sample(): { seq: number[] } {
    const seq: number[] = [];
    while (seq.length < this.perSample && this.#next < this.limit) seq.push(this.#next++);
    return { seq };
  }

  /** One reading per slot of the sample ("seq.0", "seq.1", …), all written to COUNTER_KEY. */
  binding(): SensorBinding {
    const readings = [];
    for (let i = 0; i < this.perSample; i++) readings.push({ path: `seq.${i}`, key: COUNTER_KEY });
    return { sensor: this, readings, name: "counter" };
  }
}
