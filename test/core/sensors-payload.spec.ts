// The write body and its exact size (sensors/batch-payload.ts).
import { utf8Length } from "../../kernel/utf8.js";
import { encodeBatchPayload, payloadBytes, valueItemBytes } from "../../sensors/batch-payload.js";
import type { BatchValue } from "../../sensors/batch-sink.js";
import { formatCompactDate } from "../../thethings/dates.js";
import { independentPayload } from "../core-fakes/telemetry-fakes.js";
import { equal } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { SeededRandom } from "../sim/seeded-random.js";

suite("sensors: batch payload", () => {
  test("is the platform's write body, as JSON.stringify writes it", () => {
    const values: BatchValue[] = [
      { key: "temperature", value: 21.53, datetime: Date.UTC(2024, 4, 6, 7, 8, 9) },
      { key: "fun", value: -0.000001 },
      { key: "telemetry.dropped", value: 12 },
    ];
    equal(
      encodeBatchPayload(values),
      '{"values":[{"key":"temperature","value":21.53,"datetime":"20240506070809"},{"key":"fun","value":-0.000001},{"key":"telemetry.dropped","value":12}]}',
    );
    equal(encodeBatchPayload(values), independentPayload(values));
  });

  test("sizes add up to the encoded body's UTF-8 length, for any mix of values", () => {
    const random = new SeededRandom(7);
    const keys = ["t", "humidity", "a.b-c_d", "x".repeat(64)];
    for (let round = 0; round < 200; round++) {
      const values: BatchValue[] = [];
      let items = 0;
      const count = random.int(30);
      for (let i = 0; i < count; i++) {
        const key = keys[random.int(keys.length)]!;
        const magnitude = 10 ** (random.int(40) - 20);
        const value = (random.next() - 0.5) * magnitude;
        const datetime = random.chance(0.5)
          ? Date.UTC(
              2020 + random.int(10),
              random.int(12),
              1 + random.int(28),
              random.int(24),
              random.int(60),
              random.int(60),
            )
          : undefined;
        values.push(datetime === undefined ? { key, value } : { key, value, datetime });
        items += valueItemBytes(key, value, datetime === undefined ? undefined : formatCompactDate(datetime));
      }
      equal(payloadBytes(items, count), utf8Length(encodeBatchPayload(values)), `round ${round}`);
      equal(encodeBatchPayload(values), independentPayload(values), `round ${round}`);
    }
  });
});
