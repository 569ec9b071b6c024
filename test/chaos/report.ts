// The chaos run's figures as text: what `npm run chaos` prints and bench/RESULTS-chaos.md quotes.
import type { ChaosReport } from "./scenario.js";

function ms(value: number | undefined): string {
  return value === undefined ? "—" : `${(value / 1000).toFixed(1)} s`;
}

export function formatReport(r: ChaosReport): string {
  const s = r.scenario;
  const f = s.faults;
  const lost = Math.max(0, r.missing.length - r.stats.dropped - r.stats.buffered);
  const lines = [
    `chaos run, seed ${s.seed}: ${s.values} values, ${s.valuesPerSample} every ${s.intervalMs} ms, batch ${s.batch}, buffer ${s.bufferSize}, keepAlive ${s.keepAliveMs} ms, ACK_TIMEOUT ${s.ackTimeoutMs ?? 2000} ms`,
    `link, each way: ${(f.loss ?? 0) * 100}% loss, ${(f.duplicate ?? 0) * 100}% duplication, ${(f.reorder ?? 0) * 100}% reordering, ${f.delayMs ?? 0} ms + up to ${f.jitterMs ?? 0} ms delay`,
    "",
    `sampled                 ${r.stats.sampled}`,
    `sent (acknowledged)     ${r.stats.sent}  in ${r.stats.batchesSent} batches; ${r.stats.writeFailures} failed write attempts, ${r.stats.retransmissions} CoAP retransmissions`,
    `stored at the platform  ${r.stored}`,
    `dropped by the buffer   ${r.stats.dropped}  (drop reports stored: ${r.dropReportsStored})`,
    `lost                    ${lost}`,
    `duplicated              ${r.duplicated.length}${r.duplicatedAcrossRestart.length > 0 ? `  (${r.duplicatedAcrossRestart.length} across the platform restart: ${r.duplicatedAcrossRestart[0]}…${r.duplicatedAcrossRestart.at(-1)})` : ""}`,
    `still buffered          ${r.stats.buffered}`,
    `repeats the platform caught from its stored duplicate record: ${r.platformDuplicates}`,
    "",
    "disruption   length   lost after   subscription down   back after end   command after recovery   command during the gap",
    ...r.disruptions.map(
      (d, i) =>
        `${`${d.kind} ${i + 1}`.padEnd(12)} ${ms(d.durationMs).padStart(6)}   ${ms(d.lostAfterMs).padStart(10)}   ${ms(d.subscriptionDownMs).padStart(17)}   ${ms(d.recoveryMs).padStart(14)}   ${(d.commandLatencyMs === undefined ? "not applied" : `applied in ${d.commandLatencyMs} ms`).padEnd(22)}   ${d.missedCommandAppliedMs !== undefined ? `applied ${d.missedCommandAppliedMs} ms after return` : d.catchUpReadFailed ? "not applied (catch-up read failed)" : "not applied"}`,
    ),
    `subscription losses outside the disruptions: ${r.spuriousLosses}`,
    "",
    `proxy to platform: ${counters(r.proxy.toServer)}`,
    `proxy to device:   ${counters(r.proxy.toDevice)}`,
    `run time ${ms(r.durationMs)}`,
    "",
    r.failures.length === 0 ? "PASS" : `FAIL (seed ${s.seed}):\n${r.failures.map((line) => `  - ${line}`).join("\n")}`,
  ];
  return lines.join("\n");
}

function counters(c: ChaosReport["proxy"]["toServer"]): string {
  return `${c.forwarded} forwarded, ${c.dropped} lost, ${c.duplicated} duplicated, ${c.reordered} reordered, ${c.droppedByOutage} dropped in outages`;
}
