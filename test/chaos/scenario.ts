// A chaos run: the device core (Node adapters) talks to the local platform through the seeded
// chaos proxy. Once the device is subscribed, the link turns hostile (loss, duplication,
// reordering, delay with jitter in both directions) and a schedule of disruptions plays: link
// outages and platform restarts. After each one the run measures how long the subscription was
// down and sends an actuator command from another client, which must reach the output. A counter
// sensor gives every value a unique number and stops after `values`, so the buffer drains and
// the platform's store can be checked value by value: nothing lost beyond what the device says
// its buffer dropped, nothing stored twice. Used by `npm run chaos` (test/chaos/run.ts) and, with
// smaller numbers, by test/node/chaos-run.test.ts.
import { writeFileSync } from "node:fs";
import type { DeviceStats } from "../../device/app.js";
import { TOKEN_STORE_KEY } from "../../device/provisioning.js";
import { DEFAULT_GRACE_MS } from "../../thethings/subscription.js";
import { DeviceUnderTest, RestartablePlatform, sleep, waitFor, writeAsAnotherClient } from "../e2e/harness.js";
import { ChaosProxy, type DirectionCounters, type DirectionFaults } from "./chaos-proxy.js";
import { COUNTER_KEY, CounterSensor } from "./counter-sensor.js";

export type Disruption =
  /** The link drops every datagram in both directions for `durationMs`. */
  | { readonly kind: "outage"; readonly atMs: number; readonly durationMs: number }
  /** The platform stops, stays down `durationMs`, and starts again on the same port and database. */
  | { readonly kind: "restart"; readonly atMs: number; readonly durationMs: number };

export interface ChaosScenario {
  /** Seeds the proxy's fault decisions; print it with any failure. */
  readonly seed: number;
  /** Values the counter sensor gives before it falls silent. */
  readonly values: number;
  /** Sampling interval (the config's minimum is 100 ms) … */
  readonly intervalMs: number;
  /** … and counter values per sample: values per second = valuesPerSample × 1000 / intervalMs. */
  readonly valuesPerSample: number;
  readonly batch: number;
  readonly bufferSize: number;
  /**
   * The flash outbox (0, the default: none, so the buffer overflows and the drop accounting is
   * what this run checks; test/chaos/power-cut.ts is the outbox's run).
   */
  readonly outboxSize?: number;
  readonly keepAliveMs: number;
  readonly maxDelayMs: number;
  /** ACK_TIMEOUT for the device's endpoint (RFC 7252 §4.8; 2000 by default): shorter runs faster on loopback. */
  readonly ackTimeoutMs?: number;
  /** Applied in each direction once the device is subscribed. */
  readonly faults: DirectionFaults;
  /** In order of atMs, which counts from the moment the faults start. */
  readonly disruptions: readonly Disruption[];
  /** How long the subscription may take to come back after a disruption ends: keepAlive + grace by default. */
  readonly recoveryBoundMs?: number;
  /** The whole run gives up (and fails) after this long. */
  readonly deadlineMs: number;
  /** Progress lines; silent by default. */
  readonly progress?: (line: string) => void;
  /** Writes every device event, device log line and platform event here, in time order, at the end. */
  readonly traceFile?: string;
}

export interface DisruptionReport {
  readonly kind: Disruption["kind"];
  readonly durationMs: number;
  /** Since the faults started. */
  readonly startedAtMs: number;
  /**
   * When the device declared its subscription lost, after the disruption started (ms since then);
   * undefined if it never did.
   */
  readonly lostAfterMs: number | undefined;
  /** From the loss (or the disruption's start, had no loss been seen) to the next "subscribed". */
  readonly subscriptionDownMs: number | undefined;
  /** From the disruption's end to the next "subscribed". */
  readonly recoveryMs: number | undefined;
  /** From the command's write to its application on the output. */
  readonly commandLatencyMs: number | undefined;
  readonly commandLevel: number;
  /**
   * A command written while the device could not hear it (mid-outage, or just after the
   * platform came back and before the device re-subscribed): ms from the subscription's return
   * to its application, or undefined if it was not applied within the recovery bound
   * (keepAlive + grace: room for a catch-up read that fails and is tried again).
   * The device finds such commands by reading each output's last value once the subscription
   * is back (its "catch-up").
   */
  readonly missedCommandAppliedMs: number | undefined;
  /** The device logged that a catch-up read of that output failed (all its transmissions lost); it tries again. */
  readonly catchUpReadFailed: boolean;
}

export interface ChaosReport {
  readonly scenario: Omit<ChaosScenario, "progress">;
  readonly durationMs: number;
  readonly stats: Pick<DeviceStats, "sampled" | "sent" | "buffered" | "dropped" | "retransmissions"> & {
    readonly rejected: number;
    readonly writeFailures: number;
    readonly batchesSent: number;
  };
  /** Distinct counter values the platform stored. */
  readonly stored: number;
  /** Counter values neither stored nor still buffered (includes the ones the buffer dropped). */
  readonly missing: readonly number[];
  /** Counter values stored more than once, each listed once per extra copy. */
  readonly duplicated: readonly number[];
  /**
   * The part of `duplicated` whose copies were stored on both sides of a platform restart: a
   * retransmission (same message ID, as RFC 7252 §4.5 wants) of a write stored just before the
   * restart, which the new platform process took for a new request because its duplicate cache
   * lives in memory.
   */
  readonly duplicatedAcrossRestart: readonly number[];
  /**
   * Writes the platform recognised as repeats from its stored duplicate record (those its
   * in-memory reply cache no longer knew, e.g. after the restart) and so did not store again.
   */
  readonly platformDuplicates: number;
  /** Sum of the drop reports ('telemetry.dropped') the platform stored. */
  readonly dropReportsStored: number;
  readonly disruptions: readonly DisruptionReport[];
  /** Subscription losses outside any disruption (a keep-alive and its retransmissions all lost). */
  readonly spuriousLosses: number;
  readonly proxy: { readonly toServer: DirectionCounters; readonly toDevice: DirectionCounters };
  /** Reasons the run failed; empty when it passed. */
  readonly failures: readonly string[];
}

const ACTIVATION_CODE = "CHAOSACTIVATIONCODE000000000000001";
/** The output commanded after each recovery, and the one commanded while the device cannot hear. */
const COMMAND_KEY = "led";
const MISSED_COMMAND_KEY = "fan";
/** node-coap's notification retransmissions span up to 45 s (RFC 7252 defaults): a command may take that long. */
const COMMAND_WAIT_MS = 50_000;
const DROPPED_KEY = "telemetry.dropped";
/** The device's own boot report (device/app.ts): once, since the device boots once. */
const BOOT_KEY = "device.boot";
/** The settings in force, reported after the boot's settings read (device/settings-catch-up.ts). */
const SETTINGS_REPORT_KEY = "device.settings";

export async function runChaosScenario(scenario: ChaosScenario): Promise<ChaosReport> {
  const progress = scenario.progress ?? (() => undefined);
  const recoveryBoundMs = scenario.recoveryBoundMs ?? scenario.keepAliveMs + DEFAULT_GRACE_MS;
  const startedAt = Date.now();
  const deadline = startedAt + scenario.deadlineMs;
  const remaining = (): number => Math.max(0, deadline - Date.now());
  const failures: string[] = [];

  const platform = new RestartablePlatform([ACTIVATION_CODE]);
  await platform.start();
  const proxy = new ChaosProxy({ target: { address: "127.0.0.1", port: platform.port }, seed: scenario.seed });
  const proxyPort = await proxy.start();
  const counter = new CounterSensor(scenario.values, scenario.valuesPerSample);
  const device = new DeviceUnderTest();
  const disruptions: DisruptionReport[] = [];
  /** Rows the platform had stored when each restart stopped it. */
  const restartBoundaries: number[] = [];
  let chaosStart = startedAt;
  try {
    await device.start(
      {
        server: `coap://127.0.0.1:${proxyPort}`,
        activationCode: ACTIVATION_CODE,
        interval: `${scenario.intervalMs}ms`,
        batch: String(scenario.batch),
        maxDelay: `${scenario.maxDelayMs}ms`,
        bufferSize: String(scenario.bufferSize),
        outboxSize: String(scenario.outboxSize ?? 0),
        keepAlive: `${scenario.keepAliveMs}ms`,
        actuators: `${COMMAND_KEY}:digital:2,${MISSED_COMMAND_KEY}:digital:4`,
      },
      {
        sensors: [counter.binding()],
        endpoint:
          scenario.ackTimeoutMs === undefined ? undefined : { parameters: { ackTimeoutMs: scenario.ackTimeoutMs } },
      },
    );
    const core = device.running!.device;
    // Activation happens on a clean link: a first boot is not what this run measures.
    await waitFor("the first subscription", () => device.count("subscribed") > 0, Math.min(remaining(), 20_000));
    const token = device.running!.store.read(TOKEN_STORE_KEY);
    if (token === undefined) throw new Error("subscribed without a stored token");
    proxy.toServer.faults = scenario.faults;
    proxy.toDevice.faults = scenario.faults;
    chaosStart = Date.now();
    progress(
      `faults on (seed ${scenario.seed}); ${scenario.values} values, ${scenario.valuesPerSample} every ${scenario.intervalMs} ms`,
    );

    let commandLevel = 1;
    for (const disruption of scenario.disruptions) {
      const wait = chaosStart + disruption.atMs - Date.now();
      if (wait > 0) await sleep(Math.min(wait, remaining()));
      const report = await disrupt(disruption, {
        platform,
        proxy,
        device,
        chaosStart,
        recoveryBoundMs,
        remaining,
        token,
        commandLevel,
        progress,
        restartBoundaries,
      });
      disruptions.push(report);
      commandLevel = 1 - commandLevel;
    }

    progress("disruptions done; waiting for the buffer to drain");
    await waitFor(
      "every value sampled and then acknowledged or dropped",
      () => counter.produced === scenario.values && core.stats().buffered === 0,
      remaining(),
    ).catch((error: unknown) => failures.push(String(error instanceof Error ? error.message : error)));
  } catch (error) {
    failures.push(`run aborted: ${error instanceof Error ? error.message : String(error)}`);
  }

  const core = device.running?.device;
  const final = core?.stats();
  device.stop();
  // Copies of the last exchanges still held back or delayed by the proxy land now, and would be
  // caught as duplicates if the platform stored them.
  await sleep(500);
  await proxy.stop();
  const stored = platform.storedValues();
  if (scenario.traceFile !== undefined) writeTrace(scenario.traceFile, startedAt, device, platform);
  await platform.dispose();
  device.dispose();

  /** Row positions (storage order) of each counter value. */
  const copies = new Map<number, number[]>();
  let dropReportsStored = 0;
  const unexpected: string[] = [];
  let bootReports = 0;
  let settingsReports = 0;
  for (const [position, row] of stored.entries()) {
    if (row.key === BOOT_KEY) bootReports++;
    else if (row.key === SETTINGS_REPORT_KEY) settingsReports++;
    else if (row.key === DROPPED_KEY) dropReportsStored += Number(JSON.parse(row.value));
    else if (row.key === COUNTER_KEY) {
      const seq = Number(JSON.parse(row.value));
      if (!Number.isInteger(seq) || seq < 0 || seq >= scenario.values) unexpected.push(row.value);
      else copies.set(seq, [...(copies.get(seq) ?? []), position]);
    } else if (row.key !== COMMAND_KEY && row.key !== MISSED_COMMAND_KEY) unexpected.push(`${row.key}=${row.value}`);
  }
  const missing: number[] = [];
  const duplicated: number[] = [];
  const duplicatedAcrossRestart: number[] = [];
  for (let seq = 0; seq < counter.produced; seq++) {
    const positions = copies.get(seq) ?? [];
    if (positions.length === 0) missing.push(seq);
    for (let extra = 1; extra < positions.length; extra++) {
      duplicated.push(seq);
      const before = positions[extra - 1]!;
      const after = positions[extra]!;
      if (restartBoundaries.some((boundary) => before < boundary && after >= boundary))
        duplicatedAcrossRestart.push(seq);
    }
  }

  const stats = {
    sampled: final?.sampled ?? 0,
    sent: final?.sent ?? 0,
    buffered: final?.buffered ?? 0,
    dropped: final?.dropped ?? 0,
    retransmissions: final?.retransmissions ?? 0,
    rejected: final?.telemetry.rejected ?? 0,
    writeFailures: final?.telemetry.writeFailures ?? 0,
    batchesSent: final?.telemetry.batchesSent ?? 0,
  };
  if (stats.sampled !== scenario.values)
    failures.push(`the device sampled ${stats.sampled} values, not ${scenario.values}`);
  if (stats.buffered !== 0) failures.push(`${stats.buffered} values still buffered at the end`);
  if (stats.rejected !== 0) failures.push(`${stats.rejected} values refused for good by the platform`);
  if (stats.sent + stats.dropped + stats.buffered + stats.rejected !== stats.sampled) {
    failures.push(
      `device counters do not add up: sent ${stats.sent} + dropped ${stats.dropped} + buffered ${stats.buffered} + rejected ${stats.rejected} ≠ sampled ${stats.sampled}`,
    );
  }
  if (duplicated.length > 0) {
    const across = duplicatedAcrossRestart.length;
    failures.push(
      `${duplicated.length} values stored twice${across > 0 ? ` (${across} of them across the platform restart)` : ""}: ${listed(duplicated)}`,
    );
  }
  if (bootReports !== 1) failures.push(`${bootReports} boot reports stored for one boot`);
  // Catch-ups after each outage find the same settings: they report nothing more.
  if (settingsReports > 1) failures.push(`${settingsReports} settings reports stored; no setting changed`);
  if (unexpected.length > 0)
    failures.push(`${unexpected.length} stored values the device never sampled: ${unexpected.slice(0, 10).join(", ")}`);
  if (copies.size !== stats.sent)
    failures.push(`the platform holds ${copies.size} distinct values, the device had ${stats.sent} acknowledged`);
  const lostBeyondOverflow = missing.length - stats.dropped - stats.buffered;
  if (lostBeyondOverflow > 0)
    failures.push(
      `${lostBeyondOverflow} values lost beyond the ${stats.dropped} the buffer dropped: ${listed(missing)}`,
    );
  if (dropReportsStored !== stats.dropped)
    failures.push(`drop reports stored sum to ${dropReportsStored}, the device dropped ${stats.dropped}`);
  for (const [i, d] of disruptions.entries()) {
    const name = `${d.kind} ${i + 1}`;
    if (d.recoveryMs === undefined) failures.push(`${name}: the subscription did not come back`);
    else if (d.recoveryMs > recoveryBoundMs)
      failures.push(
        `${name}: the subscription came back ${d.recoveryMs} ms after the end, over keepAlive + grace (${recoveryBoundMs} ms)`,
      );
    if (d.commandLatencyMs === undefined) failures.push(`${name}: the command sent after recovery was not applied`);
    if (d.missedCommandAppliedMs === undefined) {
      failures.push(
        `${name}: the command written during the gap was not applied within ${recoveryBoundMs} ms of the subscription's return` +
          (d.catchUpReadFailed ? " (a catch-up read of the output failed)" : ""),
      );
    }
  }
  if (disruptions.length < scenario.disruptions.length)
    failures.push(`only ${disruptions.length} of ${scenario.disruptions.length} disruptions ran`);
  const { toServer, toDevice } = proxy;
  for (const [name, direction] of [
    ["to the platform", toServer],
    ["to the device", toDevice],
  ] as const) {
    const c = direction.counters;
    const wanted = scenario.faults;
    if ((wanted.loss ?? 0) > 0 && c.dropped === 0)
      failures.push(`no datagram was lost ${name}: the faults did not apply`);
    if ((wanted.duplicate ?? 0) > 0 && c.duplicated === 0) failures.push(`no datagram was duplicated ${name}`);
    if ((wanted.reorder ?? 0) > 0 && c.reordered === 0) failures.push(`no datagram was reordered ${name}`);
  }

  const { progress: _progress, traceFile: _traceFile, ...scenarioShown } = scenario;
  return {
    scenario: scenarioShown,
    durationMs: Date.now() - startedAt,
    stats,
    stored: copies.size,
    missing,
    duplicated,
    duplicatedAcrossRestart,
    platformDuplicates: platform.count("duplicate"),
    dropReportsStored,
    disruptions,
    spuriousLosses: countSpuriousLosses(device, chaosStart, disruptions),
    proxy: { toServer: { ...toServer.counters }, toDevice: { ...toDevice.counters } },
    failures,
  };
}

interface DisruptContext {
  readonly platform: RestartablePlatform;
  readonly proxy: ChaosProxy;
  readonly device: DeviceUnderTest;
  readonly chaosStart: number;
  readonly recoveryBoundMs: number;
  readonly remaining: () => number;
  readonly token: string;
  readonly commandLevel: number;
  readonly progress: (line: string) => void;
  readonly restartBoundaries: number[];
}

/** Plays one disruption, then waits for the subscription and checks a command gets through. */
async function disrupt(disruption: Disruption, ctx: DisruptContext): Promise<DisruptionReport> {
  const { platform, proxy, device, progress } = ctx;
  const start = Date.now();
  progress(`${disruption.kind} for ${disruption.durationMs} ms at +${start - ctx.chaosStart} ms`);
  let missedWrittenAt: number | undefined;
  const writeWhileDeaf = async (): Promise<void> => {
    const code = await writeAsAnotherClient(platform.port, ctx.token, [
      { key: MISSED_COMMAND_KEY, value: ctx.commandLevel },
    ]).catch(String);
    if (code === "2.01") missedWrittenAt = Date.now();
    else progress(`  command during the ${disruption.kind} answered ${code}`);
  };
  if (disruption.kind === "outage") {
    proxy.setDown(true);
    await sleep(disruption.durationMs / 2);
    await writeWhileDeaf();
    await sleep(start + disruption.durationMs - Date.now());
    proxy.setDown(false);
  } else {
    await platform.stop();
    ctx.restartBoundaries.push(platform.storedValues().length);
    await sleep(disruption.durationMs);
    await platform.start();
    // The new platform process has no subscribers until the device notices and registers again.
    await writeWhileDeaf();
  }
  const end = Date.now();
  const lost = device.events.find((e) => e.at >= start && e.event.event === "subscription-lost");
  // Generous, so a slow recovery is measured and reported rather than cut off.
  const back = await waitForEvent(
    device,
    "subscribed",
    lost?.at ?? start,
    Math.min(ctx.remaining(), ctx.recoveryBoundMs * 4 + 10_000),
  );
  const lostNow = lost ?? device.events.find((e) => e.at >= start && e.event.event === "subscription-lost");
  const report = {
    kind: disruption.kind,
    durationMs: disruption.durationMs,
    startedAtMs: start - ctx.chaosStart,
    lostAfterMs: lostNow === undefined ? undefined : lostNow.at - start,
    subscriptionDownMs: back === undefined ? undefined : back - (lostNow?.at ?? start),
    recoveryMs: back === undefined ? undefined : back - end,
    commandLevel: ctx.commandLevel,
  };
  if (back === undefined) {
    progress(`  subscription not back`);
    return { ...report, commandLatencyMs: undefined, missedCommandAppliedMs: undefined, catchUpReadFailed: false };
  }
  progress(`  subscription back ${back - end} ms after the end (down ${report.subscriptionDownMs} ms)`);
  const writtenAt = Date.now();
  const code = await writeAsAnotherClient(platform.port, ctx.token, [
    { key: COMMAND_KEY, value: ctx.commandLevel },
  ]).catch(String);
  let applied: number | undefined;
  if (code === "2.01")
    applied = await waitForCommand(
      device,
      COMMAND_KEY,
      ctx.commandLevel,
      writtenAt,
      Math.min(ctx.remaining(), COMMAND_WAIT_MS),
    );
  else progress(`  command write answered ${code}`);
  progress(applied === undefined ? "  command not applied" : `  command applied after ${applied - writtenAt} ms`);
  let missedApplied: number | undefined;
  if (missedWrittenAt !== undefined) {
    const wait = Math.max(0, Math.min(ctx.remaining(), back + ctx.recoveryBoundMs - Date.now()));
    missedApplied = await waitForCommand(device, MISSED_COMMAND_KEY, ctx.commandLevel, missedWrittenAt, wait);
    progress(
      missedApplied === undefined
        ? "  command written during the gap: not applied"
        : `  command written during the gap: applied ${missedApplied - back} ms after the subscription's return`,
    );
  }
  return {
    ...report,
    commandLatencyMs: applied === undefined ? undefined : applied - writtenAt,
    missedCommandAppliedMs: missedApplied === undefined ? undefined : missedApplied - back,
    catchUpReadFailed: device.timedLogs.some(
      (l) => l.at >= back && l.event.includes(`actuator ${MISSED_COMMAND_KEY}: could not read its last command`),
    ),
  };
}

/** The time of the first `kind` event at or after `since`, or undefined after `timeoutMs`. */
async function waitForEvent(
  device: DeviceUnderTest,
  kind: "subscribed",
  since: number,
  timeoutMs: number,
): Promise<number | undefined> {
  const find = () => device.events.find((e) => e.at >= since && e.event.event === kind);
  await waitFor(kind, () => find() !== undefined, timeoutMs).catch(() => undefined);
  return find()?.at;
}

/** When `key` was set to `level` (from the subscription, or a re-read), at or after `since`. */
async function waitForCommand(
  device: DeviceUnderTest,
  key: string,
  level: number,
  since: number,
  timeoutMs: number,
): Promise<number | undefined> {
  const find = () =>
    device.events.find(
      (e) => e.at >= since && e.event.event === "command" && e.event.key === key && e.event.level === level,
    );
  await waitFor("the command", () => find() !== undefined, timeoutMs).catch(() => undefined);
  return find()?.at;
}

function countSpuriousLosses(
  device: DeviceUnderTest,
  chaosStart: number,
  disruptions: readonly DisruptionReport[],
): number {
  const windows = disruptions.map((d) => {
    const from = chaosStart + d.startedAtMs;
    return { from, to: from + d.durationMs + (d.recoveryMs ?? 0) };
  });
  return device.events.filter(
    (e) =>
      e.event.event === "subscription-lost" &&
      e.at >= chaosStart &&
      !windows.some((w) => e.at >= w.from && e.at <= w.to),
  ).length;
}

/** The first few numbers of a list, for a failure message. */
function listed(values: readonly number[]): string {
  return values.length <= 20 ? values.join(", ") : `${values.slice(0, 20).join(", ")} … (${values.length})`;
}

/** Device events, device log lines and platform events, merged in time order (ms since the start). */
function writeTrace(path: string, origin: number, device: DeviceUnderTest, platform: RestartablePlatform): void {
  const lines = [
    ...device.events.map((e) => ({ at: e.at, text: `device ${JSON.stringify(e.event)}` })),
    ...device.timedLogs.map((e) => ({ at: e.at, text: `log ${e.event}` })),
    ...platform.events.map((e) => ({ at: e.at, text: `platform ${JSON.stringify(e.event)}` })),
  ].sort((a, b) => a.at - b.at);
  writeFileSync(
    path,
    `${lines.map((l) => `${((l.at - origin) / 1000).toFixed(3).padStart(9)} ${l.text}`).join("\n")}\n`,
  );
}
