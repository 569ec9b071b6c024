// `npm run load -- [--only throughput|dashboards] [--things 200] [--seconds 20] [--db FILE]
//                  [--dashboard-things 50] [--values-per-second 10] [--dashboards 5] [--phase-seconds 5]
//                  [--rounds 6] [--warmup-seconds 20]`
// Two load runs on the local platform, its store in memory or in a SQLite file:
// - throughput: N things write as fast as the platform answers (one CON write outstanding each);
// - dashboards: 50 things write 10 values/s each while phases without and with 5 open dashboard
//   pages alternate; the CoAP write path's p99 with pages must stay within 1.2 × the p99 without,
//   and the platform's heap must stay bounded.
// Prints each result as JSON; exits non-zero if an acknowledged value was lost or doubled, or a
// bound was passed.
import { parseArgs } from "node:util";
import { runDashboardLoad } from "./platform-load-dashboards.js";
import { runLoad } from "./platform-load-driver.js";

/** p99 with dashboards open, at most this many times the p99 without. */
const P99_RATIO_MAX = 1.2;
/**
 * After the warm-up, the platform thread's heap may move at most this much from phase to phase
 * (the values themselves live in SQLite, outside the heap; node-coap's reply cache is full).
 */
const HEAP_SPREAD_MAX_MB = 16;

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    things: { type: "string", default: "200" },
    seconds: { type: "string", default: "20" },
    db: { type: "string" },
    "dashboard-things": { type: "string", default: "50" },
    "values-per-second": { type: "string", default: "10" },
    dashboards: { type: "string", default: "5" },
    "phase-seconds": { type: "string", default: "5" },
    rounds: { type: "string", default: "6" },
    "warmup-seconds": { type: "string", default: "20" },
  },
});
const number = (name: keyof typeof values): number => Number(values[name]);
const whole = ["things", "dashboard-things", "dashboards", "rounds"] as const;
const positive = ["seconds", "values-per-second", "phase-seconds"] as const;
const warmup = Number(values["warmup-seconds"]);
if (
  !whole.every((n) => Number.isInteger(number(n)) && number(n) >= 1) ||
  !positive.every((n) => number(n) > 0) ||
  !(warmup >= 0) ||
  (values.only !== undefined && values.only !== "throughput" && values.only !== "dashboards")
) {
  console.error(
    "usage: npm run load -- [--only throughput|dashboards] [--things N] [--seconds S] [--db FILE]\n" +
      "  [--dashboard-things N] [--values-per-second V] [--dashboards D] [--phase-seconds S] [--rounds R]\n" +
      "  [--warmup-seconds S]",
  );
  process.exit(2);
}
const db = values.db === undefined ? {} : { dbPath: values.db };
let ok = true;

if (values.only !== "dashboards") {
  const things = number("things");
  const seconds = number("seconds");
  console.log(
    `throughput: ${things} things writing for ${seconds} s over loopback, store ${values.db ?? "in memory"}...`,
  );
  const result = await runLoad({ things, seconds, ...db });
  console.log(JSON.stringify(result, null, 2));
  console.log(`${result.writesPerSecond} writes/s`);
  if (result.missing + result.duplicated + result.unexpected + result.failed > 0) {
    console.error("some values were lost, doubled, unexpected or refused");
    ok = false;
  }
}

if (values.only !== "throughput") {
  const options = {
    things: number("dashboard-things"),
    valuesPerSecond: number("values-per-second"),
    dashboards: number("dashboards"),
    phaseSeconds: number("phase-seconds"),
    rounds: number("rounds"),
    warmupSeconds: warmup,
    ...db,
  };
  console.log(
    `dashboards: ${options.things} things writing ${options.valuesPerSecond} values/s each; ` +
      `${options.warmupSeconds} s of warm-up, then ${options.rounds * 2} phases of ${options.phaseSeconds} s, ` +
      `without and with ${options.dashboards} pages open...`,
  );
  const result = await runDashboardLoad(options);
  console.log(JSON.stringify(result, null, 2));
  const spread = Math.max(...result.heapMb) - Math.min(...result.heapMb);
  console.log(
    `p99 ${result.without.p99} ms without, ${result.with.p99} ms with dashboards: ×${result.p99Ratio} ` +
      `(at most ×${P99_RATIO_MAX}; round by round ×${result.roundRatios.join(", ×")}); platform heap ${result.heapMb.join(" → ")} MB (spread ${spread.toFixed(1)} MB, ` +
      `at most ${HEAP_SPREAD_MAX_MB})`,
  );
  if (result.missing + result.duplicated + result.unexpected + result.failed > 0) {
    console.error("some values were lost, doubled, unexpected or refused");
    ok = false;
  }
  if (result.p99Ratio > P99_RATIO_MAX) {
    console.error(`dashboards slowed the write path: p99 ×${result.p99Ratio}`);
    ok = false;
  }
  if (spread > HEAP_SPREAD_MAX_MB) {
    console.error(`the platform's heap moved by ${spread.toFixed(1)} MB`);
    ok = false;
  }
  if (result.pages.values === 0 || result.pages.errors > 0 || result.dashboard.dropped > 0) {
    console.error("the pages did not get their live values, saw errors, or were dropped");
    ok = false;
  }
}
process.exitCode = ok ? 0 : 1;
