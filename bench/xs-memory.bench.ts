// The XS heap figures of tools/xs-memory.ts as a Markdown table for bench/RESULTS-hostile.md:
// slots in use and heap snapshot bytes after a forced GC, at the baseline (after warm-up) and
// after each phase — 10,000 exchanges, 1,000 commands, 1,000 hostile payloads, 5,000 hostile
// datagrams — and, to show the one unbounded case found, 200 notifications of 50 never-seen JSON
// member names each. `node build/bench/xs-memory.bench.js` (part of `npm run bench`), about 15 s.
import { describeXsMemory, type MeasuredPhase, measureXsMemory, SLOT_BYTES_HOST } from "../tools/xs-memory.js";
import { thousands } from "./measure.js";

const started = performance.now();
const report = await measureXsMemory({
  exchanges: 10_000,
  notifications: 1_000,
  hostileNotifications: 1_000,
  fuzzDatagrams: 5_000,
  uniqueNameNotifications: 200,
});
const seconds = (performance.now() - started) / 1000;

const signed = (n: number): string => (n > 0 ? `+${thousands(n)}` : n < 0 ? `-${thousands(-n)}` : "0");
console.log(
  `XS (@agoric/xsnap) heap after gc(), seed ${report.seed}; slots are ${SLOT_BYTES_HOST} bytes in xsnap on a 64-bit host (16 on the ESP32)\n`,
);
console.log("| after | what ran | XS time | slots in use | Δ slots | snapshot bytes | Δ bytes |");
console.log("|---|---|---:|---:|---:|---:|---:|");
function ran(phase: MeasuredPhase): string {
  const c = phase.counts;
  const r = phase.report;
  return [
    c.exchanges ? `${thousands(c.exchanges)} exchanges (${thousands(r.exchanges.ok)} answered)` : "",
    c.notifications ? `${thousands(c.notifications)} commands (${thousands(r.commands.applied)} applied)` : "",
    c.hostileNotifications
      ? `${thousands(c.hostileNotifications)} hostile payloads (${r.hostile.applied} applied)`
      : "",
    c.fuzzDatagrams ? `${thousands(c.fuzzDatagrams)} hostile datagrams` : "",
    c.uniqueNameNotifications
      ? `${c.uniqueNameNotifications} notifications × 50 new JSON member names (${r.uniqueNames.applied} applied)`
      : "",
  ]
    .filter((s) => s !== "")
    .join(", ");
}

const base = report.baseline;
console.log(
  `| warm-up (baseline) | ${ran(report.warmup)} | ${(report.warmup.wallMs / 1000).toFixed(1)} s | ${thousands(base.slots)} | | ${thousands(base.snapshotBytes)} | |`,
);
for (const phase of report.phases) {
  const heap = phase.heap;
  console.log(
    `| ${phase.name} | ${ran(phase)} | ${(phase.wallMs / 1000).toFixed(1)} s | ${thousands(heap.slots)} | ${signed(heap.slots - base.slots)} | ${thousands(heap.snapshotBytes)} | ${signed(heap.snapshotBytes - base.snapshotBytes)} |`,
  );
}
console.log("");
for (const line of describeXsMemory(report)) console.log(line);
console.log(`(${seconds.toFixed(1)} s)`);
