// Short load runs on the local platform inside npm test: 200 things writing concurrently for
// 3 s over loopback, every acknowledged value then read back exactly once; and things writing
// at a steady rate while dashboard pages open and close. The full runs are `npm run load`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runDashboardLoad } from "../../bench/platform-load-dashboards.js";
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

test("load with dashboards: things write 10 values/s while pages come and go; nothing lost, pages fed, heap flat", async (t) => {
  const result = await runDashboardLoad({
    things: 20,
    valuesPerSecond: 10,
    dashboards: 2,
    phaseSeconds: 2,
    rounds: 1,
    warmupSeconds: 1,
  });
  t.diagnostic(
    `p99 ${result.without.p99} ms without, ${result.with.p99} ms with 2 pages (×${result.p99Ratio}); ` +
      `heap ${result.heapMb.join(" → ")} MB; pages got ${result.pages.values} values`,
  );
  assert.ok(result.without.writes > 200 && result.with.writes > 200, "both phases wrote");
  assert.equal(result.failed, 0);
  assert.equal(result.missing, 0);
  assert.equal(result.duplicated, 0);
  assert.equal(result.unexpected, 0);
  assert.ok(result.pages.values > 0, "the pages got live values");
  assert.equal(result.pages.errors, 0);
  assert.ok(result.pages.historyReads >= 2, "each page read its history");
  assert.equal(result.dashboard.dropped, 0, "no page fell behind");
});
