// The simulated sensors (sensors/simulated-*.ts): plausible, drifting, deterministic per seed.
import { SimulatedAnalogInput } from "../../sensors/simulated-analog.js";
import { SimulatedClimateSensor } from "../../sensors/simulated-climate.js";
import { equal, ok, throws } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { ConstantRandom, SeededRandom } from "../sim/seeded-random.js";

function isTwoDecimals(value: number): boolean {
  return Math.abs(Math.round(value * 100) / 100 - value) < 1e-9;
}

suite("sensors: simulated climate", () => {
  test("readings stay plausible and near the set points, at 0.01 resolution, and drift", () => {
    const sensor = new SimulatedClimateSensor({ random: new SeededRandom(3), temperature: 22, humidity: 50 });
    const temperatures = new Set<number>();
    let previous = 22;
    for (let i = 0; i < 5000; i++) {
      const { temperature, humidity } = sensor.sample();
      ok(temperature > 22 - 5 && temperature < 22 + 5, `temperature ${temperature}`);
      ok(humidity >= 0 && humidity <= 100 && Math.abs(humidity - 50) < 25, `humidity ${humidity}`);
      ok(isTwoDecimals(temperature) && isTwoDecimals(humidity));
      ok(Math.abs(temperature - previous) < 0.5, "no jumps between samples");
      previous = temperature;
      temperatures.add(temperature);
    }
    ok(temperatures.size > 100, "values change");
  });

  test("the same seed gives the same series", () => {
    const a = new SimulatedClimateSensor({ random: new SeededRandom(9) });
    const b = new SimulatedClimateSensor({ random: new SeededRandom(9) });
    for (let i = 0; i < 50; i++) equal(JSON.stringify(a.sample()), JSON.stringify(b.sample()));
  });

  test("sample() after close() throws; close() twice is fine; bad options throw", () => {
    const sensor = new SimulatedClimateSensor({ random: new SeededRandom(1) });
    sensor.close();
    sensor.close();
    throws(() => sensor.sample());
    throws(
      () => new SimulatedClimateSensor({ random: new SeededRandom(1), humidity: 120 }),
      (e) => e instanceof RangeError,
    );
    throws(
      () => new SimulatedClimateSensor({} as never),
      (e) => e instanceof TypeError,
    );
  });
});

suite("sensors: simulated analog input", () => {
  test("raw counts are integers within the resolution and wander", () => {
    const input = new SimulatedAnalogInput({ random: new SeededRandom(5), resolution: 10 });
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const { raw } = input.sample();
      ok(Number.isInteger(raw) && raw >= 0 && raw <= 1023, `raw ${raw}`);
      seen.add(raw);
    }
    ok(seen.size > 50, "values change");
  });

  test("defaults to 12 bits starting mid-scale; bad options throw; closed input throws", () => {
    // A random source stuck at 0.5 never jumps and moves by 0: the level stays where it starts.
    const input = new SimulatedAnalogInput({ random: new ConstantRandom(0.5) });
    equal(input.resolution, 12);
    equal(input.sample().raw, 2048);
    equal(input.sample().raw, 2048);
    throws(
      () => new SimulatedAnalogInput({ random: new SeededRandom(1), resolution: 0 }),
      (e) => e instanceof RangeError,
    );
    throws(
      () => new SimulatedAnalogInput({ random: new SeededRandom(1), start: 2 }),
      (e) => e instanceof RangeError,
    );
    input.close();
    throws(() => input.sample());
  });
});
