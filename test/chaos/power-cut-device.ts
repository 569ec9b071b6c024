// The device the power-cut chaos run kills: the PC runner (host/device-cli.ts, flags as typed by
// `npm run device --`) with a counter sensor whose values are unique across boots. Each boot gets
// its own range of numbers (POWER_CUT_BASE + 0, 1, 2 …), and every sample is appended to
// POWER_CUT_LOG as "wall-ms first count" before it reaches telemetry, synchronously, so the lines
// survive a SIGKILL: the run knows what was sampled when. The counter falls silent at
// POWER_CUT_STOP_AT (wall ms), so the last boot can drain. POWER_CUT_ACK_TIMEOUT_MS shortens the
// CoAP ACK_TIMEOUT (RFC 7252 §4.8) for a loopback link.
import { appendFileSync } from "node:fs";
import { runDeviceCli } from "../../host/device-cli.js";
import type { Sensor } from "../../sensors/sensor.js";
import type { SensorBinding } from "../../sensors/sensor-binding.js";
import { COUNTER_KEY } from "./counter-sensor.js";

function numberFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (Number.isNaN(value)) throw new Error(`${name}: not a number`);
  return value;
}

class LoggedCounter implements Sensor {
  readonly #log: string;
  readonly #perSample: number;
  readonly #stopAt: number;
  #next: number;

  constructor(log: string, base: number, perSample: number, stopAt: number) {
    this.#log = log;
    this.#next = base;
    this.#perSample = perSample;
    this.#stopAt = stopAt;
  }

  sample(): { seq: number[] } {
    const seq: number[] = [];
    if (Date.now() >= this.#stopAt) return { seq };
    while (seq.length < this.#perSample) seq.push(this.#next++);
    appendFileSync(this.#log, `${Date.now()} ${seq[0]} ${seq.length}\n`);
    return { seq };
  }

  binding(): SensorBinding {
    const readings = [];
    for (let i = 0; i < this.#perSample; i++) readings.push({ path: `seq.${i}`, key: COUNTER_KEY });
    return { sensor: this, readings, name: "counter" };
  }
}

const log = process.env.POWER_CUT_LOG;
if (log === undefined) throw new Error("POWER_CUT_LOG: the sample log's path");
const counter = new LoggedCounter(
  log,
  numberFromEnv("POWER_CUT_BASE", 0),
  numberFromEnv("POWER_CUT_PER_SAMPLE", 1),
  numberFromEnv("POWER_CUT_STOP_AT", Number.POSITIVE_INFINITY),
);
await runDeviceCli(process.argv.slice(2), {
  sensors: [counter.binding()],
  endpoint: { parameters: { ackTimeoutMs: numberFromEnv("POWER_CUT_ACK_TIMEOUT_MS", 2000) } },
});
