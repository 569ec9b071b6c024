// What open dashboards cost the CoAP write path: N things write `valuesPerSecond` values each
// (one value per CON write, one write outstanding per thing) for the whole run. After a warm-up
// (long enough for node-coap's reply cache to fill to its bound), phases without and with
// `dashboards` open pages alternate (without, with, without, with, …), so both are measured in
// one run under the same machine load. Each write's round trip counts for the phase it was sent
// in. At the end of each phase (pages still open) the platform thread's heap is measured after a
// full garbage collection; at the end every thing reads its values back, none may be missing or
// doubled.
import { randomBytes } from "node:crypto";
import { Worker } from "node:worker_threads";
import type { PagesReport } from "./dashboard-load-worker.js";
import { activateAll, Endpoint, type Integrity, PlatformWorker, quantile, readBack } from "./platform-load-driver.js";

export interface DashboardLoadOptions {
  things: number;
  valuesPerSecond: number;
  dashboards: number;
  /** Seconds per phase. */
  phaseSeconds: number;
  /** Pairs of phases (without, with). */
  rounds: number;
  /** Seconds of writing before the first phase, not measured. */
  warmupSeconds: number;
  dbPath?: string;
}

export interface PhaseLatency {
  writes: number;
  p50: number;
  p99: number;
  max: number;
}

export interface DashboardLoadResult extends Integrity {
  things: number;
  valuesPerSecond: number;
  dashboards: number;
  phaseSeconds: number;
  rounds: number;
  warmupSeconds: number;
  /** Writes acknowledged per second over the phases. */
  writesPerSecond: number;
  without: PhaseLatency;
  with: PhaseLatency;
  /** p99 with dashboards over p99 without. */
  p99Ratio: number;
  /** Each phase's p99, ms, in order (without, with, …). */
  phaseP99: number[];
  /** Each round's p99 with over its p99 without: how much the machine's own noise moves it. */
  roundRatios: number[];
  retransmissions: number;
  failed: number;
  /** The platform thread's heap after each phase, MB, in order (without, with, …). */
  heapMb: number[];
  /** The platform process's resident set after each phase, MB. */
  rssMb: number[];
  pages: PagesReport;
  /** Pages the dashboard dropped for falling behind, and refused. */
  dashboard: { dropped: number; refused: number; reads: number };
}

const MB = 1024 * 1024;

export async function runDashboardLoad(options: DashboardLoadOptions): Promise<DashboardLoadResult> {
  const codes = Array.from({ length: options.things }, (_, i) => `DASH-${i}-${randomBytes(8).toString("hex")}`);
  const platform = await PlatformWorker.start(codes, options.dbPath ?? ":memory:", true);
  const endpoints = await Promise.all(codes.map(() => Endpoint.open(platform.port)));
  // Thing ids are given in activation order: the pages watch the first ones.
  const watched = Array.from({ length: options.dashboards }, (_, i) => i + 1);
  const pages = new Worker(new URL("./dashboard-load-worker.js", import.meta.url), {
    workerData: { httpPort: platform.httpPort, things: watched },
  });
  try {
    const tokens = await activateAll(endpoints, codes);
    const phases = Array.from({ length: options.rounds * 2 }, (_, i) => i % 2 === 1);
    // -1: the warm-up, counted for no phase.
    let phase = -1;
    const latencies: [number[], number[]] = [[], []];
    const byPhase: number[][] = phases.map(() => []);
    const acknowledged = endpoints.map(() => new Set<number>());
    const inFlight = endpoints.map(() => new Set<number>());
    let failed = 0;
    let running = true;
    const intervalMs = 1000 / options.valuesPerSecond;

    const writers = endpoints.map(async (e, thing) => {
      const token = tokens[thing] as string;
      // Spread over one interval, so the things do not all write in the same millisecond.
      let next = performance.now() + (intervalMs * thing) / endpoints.length;
      let lastDatetime = 0;
      for (let seq = 0; running; seq++) {
        const wait = next - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        if (!running) break;
        next = Math.max(next + intervalMs, performance.now());
        // Each value's own millisecond (the read-back pages by datetime), near now for the history.
        lastDatetime = Math.max(lastDatetime + 1, Date.now());
        const payload = JSON.stringify({
          values: [{ key: "load", value: seq, datetime: new Date(lastDatetime).toISOString() }],
        });
        const sentPhase = phase;
        const sentIn = phases[sentPhase] === true ? 1 : 0;
        const sent = performance.now();
        try {
          const reply = await e.request("0.02", ["v2", "things", token], [], payload);
          if (reply.code === "2.01") {
            acknowledged[thing]?.add(seq);
            const took = performance.now() - sent;
            if (sentPhase >= 0) {
              latencies[sentIn].push(took);
              byPhase[sentPhase]?.push(took);
            }
          } else {
            failed++;
          }
        } catch {
          inFlight[thing]?.add(seq);
        }
      }
    });

    const heap: number[] = [];
    const rss: number[] = [];
    let last: Awaited<ReturnType<PlatformWorker["memory"]>> | undefined;
    let report: PagesReport | undefined;
    await new Promise((resolve) => setTimeout(resolve, options.warmupSeconds * 1000));
    const started = performance.now();
    for (phase = 0; phase < phases.length; phase++) {
      const withPages = phases[phase] === true;
      if (withPages) pages.postMessage("open");
      await new Promise((resolve) => setTimeout(resolve, options.phaseSeconds * 1000));
      // Measured with the pages still open: what they hold counts.
      last = await platform.memory();
      heap.push(Math.round((last.heapUsed / MB) * 10) / 10);
      rss.push(Math.round(last.rss / MB));
      if (withPages) {
        report = await new Promise<PagesReport>((resolve) => {
          pages.once("message", resolve);
          pages.postMessage("close");
        });
      }
    }
    running = false;
    await Promise.all(writers);
    const elapsed = (performance.now() - started) / 1000;
    const integrity = await readBack(endpoints, tokens, "load", acknowledged, inFlight);

    const summary = (list: number[]): PhaseLatency => {
      list.sort((a, b) => a - b);
      return { writes: list.length, p50: quantile(list, 0.5), p99: quantile(list, 0.99), max: quantile(list, 1) };
    };
    const phaseP99 = byPhase.map((list) =>
      quantile(
        list.sort((a, b) => a - b),
        0.99,
      ),
    );
    const without = summary(latencies[0]);
    const withDashboards = summary(latencies[1]);
    return {
      things: options.things,
      valuesPerSecond: options.valuesPerSecond,
      dashboards: options.dashboards,
      phaseSeconds: options.phaseSeconds,
      rounds: options.rounds,
      warmupSeconds: options.warmupSeconds,
      writesPerSecond: Math.round((without.writes + withDashboards.writes) / elapsed),
      without,
      with: withDashboards,
      p99Ratio: Math.round((withDashboards.p99 / Math.max(without.p99, 0.01)) * 100) / 100,
      phaseP99,
      roundRatios: Array.from({ length: options.rounds }, (_, round) => {
        const ratio = (phaseP99[2 * round + 1] ?? 0) / Math.max(phaseP99[2 * round] ?? 0, 0.01);
        return Math.round(ratio * 100) / 100;
      }),
      retransmissions: endpoints.reduce((n, e) => n + e.retransmissions, 0),
      failed,
      heapMb: heap,
      rssMb: rss,
      pages: report ?? { requests: 0, errors: 0, historyReads: 0, valueEvents: 0, values: 0, bytes: 0 },
      dashboard: {
        dropped: last?.dashboard?.dropped ?? 0,
        refused: last?.dashboard?.refused ?? 0,
        reads: last?.dashboard?.reads ?? 0,
      },
      ...integrity,
    };
  } finally {
    for (const e of endpoints) e.close();
    pages.postMessage("exit");
    await new Promise((resolve) => pages.once("exit", resolve));
    await platform.stop();
  }
}
