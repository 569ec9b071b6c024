// `npm run fuzz [-- --count N --seed S]`: a long seeded run of the datagram fuzzer on Node
// (default 10^6 cases). Prints a summary and exits non-zero on any failure; a failure lists the
// case index and datagram, so `--seed S` reproduces it.
import { parseArgs } from "node:util";
import { runDatagramFuzz } from "./datagram-fuzz.js";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "1000000" },
    seed: { type: "string", default: "20240607" },
  },
});
const count = Number(values.count);
const seed = Number(values.seed);
if (!Number.isInteger(count) || count <= 0 || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
  console.error("usage: run.js [--count N] [--seed S] (N a positive integer, S a uint32)");
  process.exit(2);
}

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
process.exitCode = summary.failureCount === 0 ? 0 : 1;
