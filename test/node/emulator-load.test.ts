// A short load run on the local platform inside npm test: 200 things writing concurrently for
// 3 s over loopback, every acknowledged value then read back exactly once. The full 20 s run is
// `npm run load`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runLoad } from "../../bench/platform-load-driver.js";

test("load: 200 things write concurrently for 3 s; every value is readable afterwards, none twice", async (t) => {
  const result = await runLoad({ things: 200, seconds: 3 });
  t.diagnostic(
    `${result.writesPerSecond} writes/s (${result.acknowledged} writes, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, ${result.retransmissions} retransmissions)`,
  );
  assert.ok(result.acknowledged >= 200, `every thing wrote at least once: ${result.acknowledged}`);
  assert.equal(result.failed, 0, "no write refused");
  assert.equal(result.missing, 0, "no acknowledged value lost");
  assert.equal(result.duplicated, 0, "no value stored twice");
  assert.equal(result.unexpected, 0, "nothing stored that was not written");
});
