// A power-cut chaos run: the PC runner (as a child process, test/chaos/power-cut-device.ts) talks
// to the local platform through the seeded chaos proxy (loss each way and an outage), and is
// killed with SIGKILL at seeded random moments, each time restarted at once on the same --state
// folder. Every value it samples is uniquely numbered and logged with its time before it reaches
// telemetry, so the run can check the promise value by value: every value sampled more than
// persistAfter before a kill is stored, exactly once but for the batch in flight at a kill (re-sent
// from a new port after the reboot, which CoAP deduplication cannot recognise: counted apart, at
// most one batch per kill); what a kill loses was sampled during its last persistAfter; and the
// device boots every time on the state it left. Used by `npm run chaos` (test/chaos/run.ts) and,
// shorter, by test/node/power-cut.test.ts.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PAYLOAD_FRAME_BYTES, valueItemBytes } from "../../sensors/batch-payload.js";
import { RestartablePlatform, sleep, waitFor } from "../e2e/harness.js";
import { ChaosProxy, type DirectionCounters, type DirectionFaults, seededRandom } from "./chaos-proxy.js";
import { COUNTER_KEY } from "./counter-sensor.js";

export interface PowerCutScenario {
  readonly seed: number;
  readonly kills: number;
  /** The kills fall at seeded moments in this window, which opens once the device activated and the faults are on. */
  readonly windowMs: number;
  readonly intervalMs: number;
  readonly valuesPerSample: number;
  readonly batch: number;
  readonly maxDelayMs: number;
  readonly persistAfterMs: number;
  readonly keepAliveMs: number;
  /** The child's CoAP ACK_TIMEOUT (RFC 7252 §4.8): short on loopback. */
  readonly ackTimeoutMs: number;
  readonly faults: DirectionFaults;
  /** The link drops every datagram from atMs (into the window) for durationMs. */
  readonly outage: { readonly atMs: number; readonly durationMs: number };
  /**
   * Slack on the promise for timers and the kill's delivery: a value sampled persistAfter + slack
   * before a kill must be stored.
   */
  readonly slackMs: number;
  /** After the window: the counter falls silent, the link heals, and everything must be stored within this. */
  readonly drainTimeoutMs: number;
  readonly progress?: (line: string) => void;
}

export interface KillReport {
  /** Since the window opened. */
  readonly atMs: number;
  /** Values that boot sampled, and how many of them were sampled during the last persistAfter + slack. */
  readonly sampled: number;
  readonly atRisk: number;
  /** Values of that boot never stored (all within the promise, or listed in lostBeyondPromise). */
  readonly lost: number;
  /** From the kill to the next boot's first sample. */
  readonly rebootMs: number | undefined;
  /** The next boot found this many values in flash (from its log). */
  readonly recoveredNext: number | undefined;
}

export interface PowerCutReport {
  readonly scenario: Omit<PowerCutScenario, "progress">;
  readonly durationMs: number;
  readonly boots: number;
  readonly sampled: number;
  /** Distinct values the platform stored. */
  readonly stored: number;
  readonly kills: readonly KillReport[];
  /** Values lost though sampled over persistAfter + slack before a kill (or by the last boot): the promise broken. */
  readonly lostBeyondPromise: readonly number[];
  /** Values stored twice, and in how many runs of consecutive values (a run is one batch re-sent after a kill). */
  readonly duplicated: number;
  readonly duplicateRuns: number;
  readonly largestDuplicateRun: number;
  /** Boots whose log shows values found in flash, and how many in all. */
  readonly bootsRecovering: number;
  readonly recovered: number;
  /** The last boot's stats line (printed on SIGTERM after the drain). */
  readonly finalStats: Record<string, number> | undefined;
  readonly proxy: { readonly toServer: DirectionCounters; readonly toDevice: DirectionCounters };
  readonly failures: readonly string[];
}

const ACTIVATION_CODE = "POWERCUTACTIVATIONCODE00000000001";
/** Each boot numbers its values from boot × BASE_STEP. */
const BASE_STEP = 1_000_000;
const CHILD = fileURLToPath(new URL("./power-cut-device.js", import.meta.url));
const BOOT_TIMEOUT_MS = 15_000;

interface Child {
  readonly boot: number;
  readonly process: ChildProcess;
  readonly events: { at: number; event: Record<string, unknown> }[];
  readonly stderr: string[];
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<void>;
}

interface Sample {
  readonly at: number;
  readonly value: number;
}

function readSamples(path: string): Sample[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const [at, first, count] = line.split(" ").map(Number);
    if (at === undefined || first === undefined || count === undefined || !Number.isFinite(count)) continue;
    for (let i = 0; i < count; i++) samples.push({ at, value: first + i });
  }
  return samples;
}

/**
 * The kill moments: one per equal slot of the window, seeded, never in a slot's first 30 %. Unless
 * one already falls there, the slot holding the outage's sure point (persistAfter + slack + 0.5 s
 * into it, the link still down) has its kill moved to that point: values have then waited in the
 * flash outbox whatever the machine's load does to the timing, so the next boot must find them.
 */
function killMoments(scenario: PowerCutScenario): number[] {
  const random = seededRandom(scenario.seed * 7919 + 17);
  const slot = scenario.windowMs / scenario.kills;
  const moments: number[] = [];
  for (let k = 0; k < scenario.kills; k++) moments.push(Math.round(k * slot + slot * (0.3 + 0.7 * random())));
  const { outage, persistAfterMs, slackMs } = scenario;
  const sure = outage.atMs + persistAfterMs + slackMs + 500;
  const outageEnd = outage.atMs + outage.durationMs;
  const slotOfSure = Math.floor(sure / slot);
  if (sure < outageEnd && slotOfSure < scenario.kills && !moments.some((m) => m >= sure && m <= outageEnd))
    moments[slotOfSure] = sure;
  return moments;
}

export async function runPowerCutScenario(scenario: PowerCutScenario): Promise<PowerCutReport> {
  const progress = scenario.progress ?? (() => undefined);
  const startedAt = Date.now();
  const failures: string[] = [];
  const stateDir = mkdtempSync(join(tmpdir(), "power-cut-"));
  const samplesPath = join(stateDir, "samples.log");
  writeFileSync(samplesPath, "");
  const platform = new RestartablePlatform([ACTIVATION_CODE]);
  await platform.start();
  const proxy = new ChaosProxy({ target: { address: "127.0.0.1", port: platform.port }, seed: scenario.seed });
  const proxyPort = await proxy.start();
  const children: Child[] = [];
  const killedAt: number[] = [];
  let windowStart = startedAt;
  let stopAt = Number.POSITIVE_INFINITY;

  const flags = [
    "--server",
    `coap://127.0.0.1:${proxyPort}`,
    "--activation-code",
    ACTIVATION_CODE,
    "--state",
    join(stateDir, "device"),
    "--interval",
    `${scenario.intervalMs}ms`,
    "--batch",
    String(scenario.batch),
    "--max-delay",
    `${scenario.maxDelayMs}ms`,
    "--persist-after",
    `${scenario.persistAfterMs}ms`,
    "--keep-alive",
    `${scenario.keepAliveMs}ms`,
    "--actuators",
    "",
    "--json",
  ];

  const start = (boot: number): Child => {
    const child = spawn(process.execPath, [CHILD, ...flags], {
      env: {
        ...process.env,
        POWER_CUT_LOG: samplesPath,
        POWER_CUT_BASE: String(boot * BASE_STEP),
        POWER_CUT_PER_SAMPLE: String(scenario.valuesPerSample),
        POWER_CUT_STOP_AT: String(stopAt),
        POWER_CUT_ACK_TIMEOUT_MS: String(scenario.ackTimeoutMs),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const record: Child = {
      boot,
      process: child,
      events: [],
      stderr: [],
      exit: undefined,
      exited: new Promise((resolve) => {
        child.once("exit", (code, signal) => {
          record.exit = { code, signal };
          resolve();
        });
      }),
    };
    let pending = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      pending += chunk;
      let newline = pending.indexOf("\n");
      while (newline >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        try {
          record.events.push({ at: Date.now(), event: JSON.parse(line) as Record<string, unknown> });
        } catch {
          record.stderr.push(`stdout: ${line}`);
        }
        newline = pending.indexOf("\n");
      }
    });
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      for (const line of chunk.split("\n")) if (line !== "") record.stderr.push(line);
      if (record.stderr.length > 400) record.stderr.splice(0, record.stderr.length - 400);
    });
    children.push(record);
    return record;
  };

  const booted = async (child: Child): Promise<number | undefined> => {
    const from = Date.now();
    const base = child.boot * BASE_STEP;
    try {
      await waitFor(
        `boot ${child.boot} sampling`,
        () =>
          child.exit !== undefined ||
          readSamples(samplesPath).some((s) => s.value >= base && s.value < base + BASE_STEP),
        BOOT_TIMEOUT_MS,
      );
    } catch {
      return undefined;
    }
    return child.exit === undefined ? Date.now() - from : undefined;
  };

  const rebootMs: (number | undefined)[] = [];
  try {
    let current = start(0);
    await waitFor(
      "the first activation and subscription",
      () => current.exit !== undefined || current.events.some((e) => e.event.event === "subscribed"),
      30_000,
    );
    if (current.exit !== undefined) throw new Error(`the first boot exited: ${current.stderr.slice(-5).join(" | ")}`);
    proxy.toServer.faults = scenario.faults;
    proxy.toDevice.faults = scenario.faults;
    windowStart = Date.now();
    // The counter falls silent after the window: later boots (and the last one) read it from their env.
    stopAt = windowStart + scenario.windowMs + 1_000;
    current.process.kill("SIGKILL");
    await current.exited;
    killedAt.push(Date.now());
    current = start(1);
    progress(`faults on (seed ${scenario.seed}); ${scenario.kills} kills in ${scenario.windowMs} ms`);
    let outageDone = false;
    const outageAt = windowStart + scenario.outage.atMs;
    for (const moment of killMoments(scenario)) {
      const at = windowStart + moment;
      while (Date.now() < at) {
        if (!outageDone && Date.now() >= outageAt) {
          proxy.setDown(true);
          progress(`outage for ${scenario.outage.durationMs} ms at +${Date.now() - windowStart} ms`);
          setTimeout(() => proxy.setDown(false), scenario.outage.durationMs).unref();
          outageDone = true;
        }
        await sleep(Math.min(20, Math.max(0, at - Date.now())));
      }
      if (current.exit !== undefined)
        failures.push(`boot ${current.boot} exited by itself: ${JSON.stringify(current.exit)}`);
      current.process.kill("SIGKILL");
      await current.exited;
      killedAt.push(Date.now());
      current = start(current.boot + 1);
      rebootMs.push(await booted(current));
      progress(
        `kill ${killedAt.length - 1} at +${killedAt[killedAt.length - 1]! - windowStart} ms; rebooted in ${rebootMs[rebootMs.length - 1]} ms`,
      );
    }
    // The first kill (before the window) only took the activation's process down: it is not one of the seeded ones.
    await sleep(Math.max(0, stopAt - Date.now()));
    proxy.setDown(false);
    proxy.toServer.faults = {};
    proxy.toDevice.faults = {};
    progress("window over: counter silent, link healed; draining");
    const last = current;
    // Drained when every value the promise covers is stored and nothing more arrives for 2 s.
    const drainedBy = Date.now() + scenario.drainTimeoutMs;
    let storedBefore = -1;
    let quietSince = Date.now();
    for (;;) {
      const stored = new Set(
        platform
          .storedValues()
          .filter((row) => row.key === COUNTER_KEY)
          .map((row) => Number(JSON.parse(row.value))),
      );
      const missing = readSamples(samplesPath).filter((sample) => {
        const kill = killedAt[Math.floor(sample.value / BASE_STEP)];
        const atRisk = kill !== undefined && sample.at > kill - scenario.persistAfterMs - scenario.slackMs;
        return !atRisk && !stored.has(sample.value);
      }).length;
      if (stored.size !== storedBefore) quietSince = Date.now();
      storedBefore = stored.size;
      if (missing === 0 && Date.now() - quietSince >= 2_000) break;
      if (Date.now() > drainedBy) {
        failures.push(
          `not drained within ${scenario.drainTimeoutMs} ms: ${missing} values covered by the promise not stored`,
        );
        break;
      }
      await sleep(250);
    }
    last.process.kill("SIGTERM");
    await Promise.race([last.exited, sleep(5_000)]);
    if (last.exit === undefined) {
      failures.push("the last boot did not exit on SIGTERM");
      last.process.kill("SIGKILL");
      await last.exited;
    } else if (last.exit.code !== 0) failures.push(`the last boot exited with ${JSON.stringify(last.exit)}`);
  } catch (error) {
    failures.push(`run aborted: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    for (const child of children) if (child.exit === undefined) child.process.kill("SIGKILL");
    await Promise.all(children.map((child) => child.exited));
  }
  await sleep(300);
  await proxy.stop();
  const rows = platform.storedValues();
  await platform.dispose();

  const samples = readSamples(samplesPath);
  rmSync(stateDir, { recursive: true, force: true });
  const copies = new Map<number, number>();
  const unexpected: string[] = [];
  for (const row of rows) {
    if (row.key !== COUNTER_KEY) continue;
    const value = Number(JSON.parse(row.value));
    copies.set(value, (copies.get(value) ?? 0) + 1);
  }
  const sampledValues = new Set(samples.map((s) => s.value));
  for (const value of copies.keys()) if (!sampledValues.has(value)) unexpected.push(String(value));
  samples.sort((a, b) => a.value - b.value);
  // Kills: killedAt[0] is the activation boot's (before the window), then the seeded ones.
  const kills: KillReport[] = [];
  const lostBeyondPromise: number[] = [];
  const perBoot = new Map<number, { sampled: number; atRisk: number; lost: number }>();
  let duplicated = 0;
  let duplicateRuns = 0;
  let largestDuplicateRun = 0;
  let run = 0;
  for (const sample of samples) {
    const boot = Math.floor(sample.value / BASE_STEP);
    const kill = killedAt[boot];
    const atRisk = kill !== undefined && sample.at > kill - scenario.persistAfterMs - scenario.slackMs;
    const stats = perBoot.get(boot) ?? { sampled: 0, atRisk: 0, lost: 0 };
    stats.sampled++;
    if (atRisk) stats.atRisk++;
    const count = copies.get(sample.value) ?? 0;
    if (count === 0) {
      stats.lost++;
      if (!atRisk) lostBeyondPromise.push(sample.value);
    }
    perBoot.set(boot, stats);
    if (count >= 2) {
      duplicated += count - 1;
      if (run === 0) duplicateRuns++;
      run++;
      largestDuplicateRun = Math.max(largestDuplicateRun, run);
    } else run = 0;
  }
  const recoveredBy = children.map((child) => {
    const line = child.stderr.find((l) => l.includes("values and") && l.includes("found in flash"));
    const match = line === undefined ? undefined : /outbox: (\d+) values/.exec(line);
    return match === undefined || match === null ? 0 : Number(match[1]);
  });
  for (let k = 0; k < killedAt.length; k++) {
    const stats = perBoot.get(k) ?? { sampled: 0, atRisk: 0, lost: 0 };
    kills.push({
      atMs: killedAt[k]! - windowStart,
      ...stats,
      rebootMs: k === 0 ? undefined : rebootMs[k - 1],
      recoveredNext: recoveredBy[k + 1],
    });
  }
  const lastChild = children[children.length - 1];
  const statsEvent = lastChild?.events.find((e) => e.event.event === "stats")?.event;
  const finalStats =
    statsEvent === undefined
      ? undefined
      : (Object.fromEntries(Object.entries(statsEvent).filter(([, v]) => typeof v === "number")) as Record<
          string,
          number
        >);

  const seededKills = killedAt.length - 1;
  if (seededKills < scenario.kills) failures.push(`only ${seededKills} of ${scenario.kills} kills happened`);
  if (lostBeyondPromise.length > 0) {
    failures.push(
      `${lostBeyondPromise.length} values lost although sampled more than persistAfter + ${scenario.slackMs} ms before a kill (or by the last boot): ${lostBeyondPromise.slice(0, 12).join(", ")}`,
    );
  }
  if (duplicateRuns > seededKills + 1)
    failures.push(`${duplicateRuns} runs of values stored twice for ${seededKills + 1} kills (at most one batch each)`);
  // A batch holds what fits a 1024-byte payload; the shortest item here is seq 0 with its datetime.
  const maxBatch = Math.floor(
    (1024 - PAYLOAD_FRAME_BYTES + 1) / (valueItemBytes(COUNTER_KEY, 0, "20240101000000") + 1),
  );
  if (largestDuplicateRun > maxBatch)
    failures.push(`a run of ${largestDuplicateRun} values stored twice: more than a batch`);
  if (unexpected.length > 0)
    failures.push(`${unexpected.length} stored values never sampled: ${unexpected.slice(0, 10).join(", ")}`);
  rebootMs.forEach((ms, k) => {
    if (ms === undefined)
      failures.push(`boot ${k + 2} did not start sampling within ${BOOT_TIMEOUT_MS} ms of kill ${k + 1}`);
  });
  for (const child of children.slice(0, -1)) {
    if (child.exit !== undefined && child.exit.signal !== "SIGKILL")
      failures.push(`boot ${child.boot} ended with ${JSON.stringify(child.exit)}, not by the kill`);
  }
  if (finalStats === undefined) failures.push("the last boot printed no stats");
  else if (finalStats.buffered !== 0) failures.push(`the last boot still buffered ${finalStats.buffered} values`);
  const bootsRecovering = recoveredBy.filter((n) => n > 0).length;
  if (bootsRecovering === 0) failures.push("no boot found values in flash: the outbox was never exercised");

  const { progress: _progress, ...scenarioShown } = scenario;
  return {
    scenario: scenarioShown,
    durationMs: Date.now() - startedAt,
    boots: children.length,
    sampled: samples.length,
    stored: copies.size,
    kills,
    lostBeyondPromise,
    duplicated,
    duplicateRuns,
    largestDuplicateRun,
    bootsRecovering,
    recovered: recoveredBy.reduce((a, b) => a + b, 0),
    finalStats,
    proxy: { toServer: { ...proxy.toServer.counters }, toDevice: { ...proxy.toDevice.counters } },
    failures,
  };
}

/** The report as text: one line per kill, then the totals. */
export function formatPowerCutReport(report: PowerCutReport): string {
  const s = report.scenario;
  const lines = [
    `power-cut chaos, seed ${s.seed}: ${report.kills.length - 1} seeded kills (and one after activation) in ${s.windowMs} ms, ` +
      `${s.valuesPerSample} values every ${s.intervalMs} ms, persistAfter ${s.persistAfterMs} ms, loss ${s.faults.loss ?? 0} each way, ` +
      `outage ${s.outage.durationMs} ms at +${s.outage.atMs} ms`,
    "  kill   at (ms)  sampled  at risk  lost  reboot (ms)  found in flash next boot",
  ];
  report.kills.forEach((k, i) => {
    lines.push(
      `  ${String(i).padStart(4)} ${String(k.atMs).padStart(9)} ${String(k.sampled).padStart(8)} ${String(k.atRisk).padStart(8)} ${String(k.lost).padStart(5)} ${String(k.rebootMs ?? "-").padStart(12)} ${String(k.recoveredNext ?? "-").padStart(10)}`,
    );
  });
  const lost = report.kills.reduce((a, k) => a + k.lost, 0);
  lines.push(
    `  ${report.boots} boots, ${report.sampled} values sampled, ${report.stored} stored; ${lost} lost, all within the last persistAfter of a kill` +
      (report.lostBeyondPromise.length > 0 ? ` but ${report.lostBeyondPromise.length}` : ""),
    `  stored twice: ${report.duplicated} values in ${report.duplicateRuns} runs (largest ${report.largestDuplicateRun}); ` +
      `${report.bootsRecovering} boots found ${report.recovered} values in flash`,
    `  last boot: ${JSON.stringify(report.finalStats)}; ${(report.durationMs / 1000).toFixed(1)} s`,
    report.failures.length === 0 ? "  PASS" : `  FAIL:\n${report.failures.map((f) => `    - ${f}`).join("\n")}`,
  );
  return lines.join("\n");
}
