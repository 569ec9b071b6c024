// `npm run fuzz [-- --stage codec|endpoint|all --count N --endpoint-count N --seed S]`: long seeded
// runs on Node. Stage "codec" feeds the datagram fuzzer to the codec (default 10^6 cases);
// stage "endpoint" runs the endpoint under a hostile peer (test/fuzz/endpoint-fuzz.ts), once
// per attacker, blind and on-path (default 10^6 datagrams each), sampling the heap after a
// forced GC every 100,000 datagrams when Node runs with --expose-gc (npm run fuzz does). Prints
// a summary and exits non-zero on any failure; `--seed S` reproduces a run.
import { parseArgs } from "node:util";
import { runDatagramFuzz } from "./datagram-fuzz.js";
import { judgeEndpointFuzz, runEndpointFuzz } from "./endpoint-fuzz.js";

const { values } = parseArgs({
  options: {
    stage: { type: "string", default: "all" },
    count: { type: "string", default: "1000000" },
    "endpoint-count": { type: "string", default: "1000000" },
    seed: { type: "string", default: "20240607" },
  },
});
const stage = values.stage;
const count = Number(values.count);
const endpointCount = Number(values["endpoint-count"]);
const seed = Number(values.seed);
const positive = (n: number): boolean => Number.isInteger(n) && n > 0;
if (
  !["codec", "endpoint", "all"].includes(stage) ||
  !positive(count) ||
  !positive(endpointCount) ||
  !Number.isInteger(seed) ||
  seed < 0 ||
  seed > 0xffffffff
) {
  console.error(
    "usage: run.js [--stage codec|endpoint|all] [--count N] [--endpoint-count N] [--seed S] (N positive integers, S a uint32)",
  );
  process.exit(2);
}

/**
 * Heap growth from the first sample to the last beyond which the endpoint stage fails: a leak of 4
 * bytes per datagram over 900,000.
 */
const HEAP_GROWTH_LIMIT = 4 * 1024 * 1024;
const HEAP_SAMPLE_EVERY = 100_000;
const collect = (globalThis as { gc?: () => void }).gc;
let failed = false;

function codecStage(): void {
  const started = performance.now();
  const summary = runDatagramFuzz({ count, seed, maxFailures: 20 });
  const seconds = (performance.now() - started) / 1000;
  console.log(`codec fuzz: ${summary.cases} datagrams, seed ${summary.seed}, ${seconds.toFixed(1)} s`);
  console.log(`  decoded to a message and re-encoded to the same bytes: ${summary.decoded}`);
  console.log(`    of which carried critical options to treat as unrecognised: ${summary.unrecognisedCritical}`);
  console.log(`  rejected with CoapFormatError: ${summary.cases - summary.decoded}`);
  for (const [reason, n] of Object.entries(summary.rejected).sort((a, b) => b[1] - a[1])) {
    console.log(`    ${reason.padEnd(26)} ${n}`);
  }
  console.log(`  failures: ${summary.failureCount}`);
  for (const failure of summary.failures) {
    console.log(`    case ${failure.caseIndex}: ${failure.problem}\n      ${failure.datagram}`);
  }
  if (summary.failureCount > 0) failed = true;
}

function heapUsed(): number {
  collect!();
  collect!();
  return process.memoryUsage().heapUsed;
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(2)} MB`;

async function endpointStage(): Promise<void> {
  for (const profile of ["blind", "on-path"] as const) {
    const samples: number[] = [];
    const started = performance.now();
    const summary = await runEndpointFuzz({
      count: endpointCount,
      seed,
      profile,
      checkpointEvery: collect === undefined ? 0 : HEAP_SAMPLE_EVERY,
      onCheckpoint: () => samples.push(heapUsed()),
    });
    const seconds = (performance.now() - started) / 1000;
    const s = summary;
    const failures =
      Object.entries(s.exchanges.failed)
        .map(([kind, n]) => `${kind} ${n}`)
        .join(", ") || "none";
    console.log(
      `\nendpoint fuzz, ${profile} attacker: ${s.hostile.total} datagrams, seed ${s.seed}, ${seconds.toFixed(1)} s (${Math.round(s.simulatedMs / 1000)} s simulated)`,
    );
    console.log(
      `  from the server's address ${s.hostile.fromServer} (${s.hostile.undecodableFromServer} undecodable), from other addresses ${s.hostile.foreign}`,
    );
    console.log(
      `  kinds: random ${s.hostile.byKind.random}, mutated ${s.hostile.byKind.mutated}, forged ${s.hostile.byKind.forged}, replayed ${s.hostile.byKind.replay}`,
    );
    console.log(
      `  exchanges during the attack: ${s.exchanges.attempted}; real answer ${s.exchanges.authentic}, forged answer ${s.exchanges.forged}, failed: ${failures}`,
    );
    console.log(
      `  notifications sent ${s.notifications.sent}: real delivered ${s.notifications.authentic}, forged ${s.notifications.forged}; lost ${s.notifications.lost}, re-established ${s.notifications.reestablished}`,
    );
    const st = s.stats;
    console.log(
      `  endpoint: received ${st.datagramsReceived}; dropped foreign ${st.droppedForeign}, malformed ${st.droppedMalformed}, unmatched ${st.droppedUnmatched}; critical rejected ${st.rejectedCritical}; duplicates ${st.duplicates}; ACK sent ${st.acksSent}, RST sent ${st.rstSent}; stale notifications ${st.staleNotifications}; re-registrations ${st.observeReregistrations}; block requests ${st.blockRequests}`,
    );
    console.log(
      `  escaped exceptions ${s.escapedCount}, internal errors logged ${s.internalErrorCount}; timers pending at most ${s.maxPendingTimers}, after close ${s.timersAfterClose}`,
    );
    console.log(
      `  recovery: real answer after ${s.recovery.exchangeAttempts} exchange(s), real notification ${s.recovery.notificationAfterMs === undefined ? "never" : `after ${Math.round(s.recovery.notificationAfterMs)} ms`}`,
    );
    const problems = judgeEndpointFuzz(s);
    if (samples.length > 1) {
      const growth = samples[samples.length - 1]! - samples[0]!;
      console.log(
        `  Node heap after GC every ${HEAP_SAMPLE_EVERY} datagrams: ${samples.map(mb).join(", ")}; first to last ${growth >= 0 ? "+" : ""}${mb(growth)}`,
      );
      if (growth > HEAP_GROWTH_LIMIT) problems.push(`the heap grew by ${mb(growth)} (limit ${mb(HEAP_GROWTH_LIMIT)})`);
    } else if (collect === undefined) console.log("  (run node with --expose-gc to sample the heap)");
    console.log(`  properties: ${problems.length === 0 ? "all held" : `BROKEN:\n    ${problems.join("\n    ")}`}`);
    if (problems.length > 0) failed = true;
  }
}

if (stage !== "endpoint") codecStage();
if (stage !== "codec") await endpointStage();
process.exitCode = failed ? 1 : 0;
