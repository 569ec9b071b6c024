// The whole device's heap on the XS engine (npm @agoric/xsnap), running against the local
// platform (emulator/) in real time: test/xs/device-memory-guest.ts, its datagrams relayed by
// tools/xs-bridge.ts. The run:
// 1. the bundle loaded, nothing built: the baseline (on the board this is preloaded, in flash);
// 2. boot: activation, the outputs restored, the subscription (the peak is tracked);
// 3. operation for `minutes`: batches, keep-alives, a command written from outside every
//    `commandEveryMs`, the heap read every `sampleEveryMs`; with, at 40 % of the time, the platform
//    away for `gapMs` (the subscription is lost and comes back, the backlog drains: peak tracked),
//    at 60 % a read of 100 values (Block2; peak tracked), and from 70 % the largest heap of a minute
//    of normal operation (batches in flight, commands); `gapEveryMs` repeats the gap;
// 4. a heap snapshot divided by part (tools/xs-census.ts).
// Every figure is live heap after a collection: slots (32 bytes each here, 16 on the ESP32) and
// chunk bytes (xsnap's snapshot; the SDK's "XS Chunk Heap Used"). The device's share is the heap
// less the baseline. `node build/tools/device-memory.js [--minutes N]` prints the report as JSON;
// bench/device-memory.bench.ts prints it as tables.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { RestartablePlatform, sleep, waitFor, writeAsAnotherClient } from "../test/e2e/harness.js";
import { startXsGuest, type XsGuest } from "./xs-bridge.js";
import {
  type DeviceCensus,
  deviceCensus,
  esp32Bytes,
  type HeapFigure,
  ownFigure,
  type PartFigure,
} from "./xs-census.js";
import { heapTotals, parseXsSnapshot } from "./xs-heap.js";

const CODE = "MEMORYBENCHACTIVATIONCODE000000001";
const entry = fileURLToPath(new URL("../test/xs/device-memory-guest.js", import.meta.url));

/** The device as run: the simulator's sensors and outputs, a batch every ~7 s, keep-alives every 10 s. */
export const MEMORY_RUN_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  interval: "1s",
  batch: "20",
  maxDelay: "60s",
  bufferSize: "500",
  keepAlive: "10s",
  sensors: "sim,sim-analog",
  actuators: "led:digital:2,fan:pwm:4",
});

/** Bytes a value takes in the reading ring (sensors/value-ring.ts: 2 + 8 + 8 + 8 + 2). */
export const RING_BYTES_PER_VALUE = 28;

export interface DeviceMemoryOptions {
  /** Wall-clock minutes of operation after boot (default 5). */
  readonly minutes?: number;
  readonly sampleEveryMs?: number;
  readonly commandEveryMs?: number;
  /** How long the platform is away in a gap (default 30 s: past keepAlive + grace). */
  readonly gapMs?: number;
  /** Another gap every this often (default: one gap only). */
  readonly gapEveryMs?: number;
  readonly onProgress?: (line: string) => void;
}

export interface HeapPeak extends HeapFigure {
  /** Heap readings taken (one after every command to the guest). */
  readonly samples: number;
  /** The largest reading by part. */
  readonly census?: DeviceCensus;
}

export interface TimedSample extends HeapFigure {
  /** Since boot. */
  readonly atMs: number;
}

const NO_PEAK: HeapPeak = Object.freeze({ slots: 0, chunkBytes: 0, esp32ChunkBytes: 0, samples: 0 });

/**
 * The heap of a snapshot as the board would keep it: less what only xsnap keeps (its private
 * methods' homes, tools/xs-heap.ts). Before boot there is no device to divide.
 */
function figureOf(snapshot: Uint8Array | undefined, booted: boolean): { figure: HeapFigure; census?: DeviceCensus } {
  if (snapshot === undefined) throw new Error("no heap snapshot");
  const graph = parseXsSnapshot(snapshot);
  if (!booted) return { figure: heapTotals(graph) };
  const census = deviceCensus(graph);
  const { total, other } = census;
  return {
    figure: {
      slots: total.slots - other.slots,
      chunkBytes: total.chunkBytes - other.chunkBytes,
      esp32ChunkBytes: total.esp32ChunkBytes - other.esp32ChunkBytes,
    },
    census,
  };
}

/** With DEVICE_MEMORY_SNAPSHOTS=DIR, the snapshots behind the report are kept there (for tools/xs-census.ts). */
function keep(name: string, snapshot: Uint8Array | undefined): void {
  const dir = process.env.DEVICE_MEMORY_SNAPSHOTS;
  if (dir !== undefined && dir !== "" && snapshot !== undefined) writeFileSync(join(dir, `${name}.xss`), snapshot);
}

async function reading(
  guest: XsGuest,
  name: string,
  booted = true,
): Promise<{ figure: HeapFigure; census?: DeviceCensus }> {
  const { snapshot } = await guest.heap(true);
  keep(name, snapshot);
  return figureOf(snapshot, booted);
}

async function peakOf(guest: XsGuest, name: string): Promise<HeapPeak> {
  const seen = await guest.peak();
  if (seen.snapshot === undefined) return NO_PEAK;
  keep(name, seen.snapshot);
  const { figure, census } = figureOf(seen.snapshot, true);
  return { ...figure, samples: seen.samples, census };
}

export interface DeviceMemoryReport {
  readonly settings: Readonly<Record<string, string>>;
  readonly minutes: number;
  /** Loaded, nothing built; every other figure is the whole heap (subtract this for the device's share). */
  readonly baseline: HeapFigure;
  readonly activation: HeapPeak;
  /** The largest heap over a minute of normal operation (at 70 % of the run): a write in flight, a command. */
  readonly operation: HeapPeak;
  readonly gap: HeapPeak;
  readonly read: HeapPeak & { readonly values: number };
  /** Every reading during operation, the gaps and the read excluded. */
  readonly samples: readonly TimedSample[];
  readonly census: DeviceCensus;
  readonly counts: {
    readonly batches: number;
    readonly valuesSent: number;
    readonly commandsWritten: number;
    readonly commandsApplied: number;
    readonly subscribed: number;
    readonly lost: number;
    readonly gaps: number;
    readonly dropped: number;
  };
}

/** Waits until fewer than a batch of values are buffered. */
async function drained(guest: XsGuest, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (((await guest.call("stats")) as { buffered: number }).buffered >= 20) {
    if (Date.now() > deadline) throw new Error(`the backlog did not drain in ${timeoutMs} ms`);
    await sleep(100);
  }
}

export async function measureDeviceMemory(options: DeviceMemoryOptions = {}): Promise<DeviceMemoryReport> {
  const minutes = options.minutes ?? 5;
  const sampleEveryMs = options.sampleEveryMs ?? 15_000;
  const commandEveryMs = options.commandEveryMs ?? 5_000;
  const gapMs = options.gapMs ?? 30_000;
  const progress = options.onProgress ?? (() => undefined);
  const platform = new RestartablePlatform([CODE]);
  await platform.start();
  const settings = { ...MEMORY_RUN_SETTINGS, server: `coap://127.0.0.1:${platform.port}`, activationCode: CODE };
  const flash = new Map<string, string>();
  /** The outbox's pages (NVS on the board: off the heap, so here off the guest's). */
  const pages = new Map<number, number[]>();
  const events: Record<string, unknown>[] = [];
  const count = (kind: string): number => events.filter((e) => e.event === kind).length;
  let guest: XsGuest | undefined;
  try {
    guest = await startXsGuest({
      entry,
      answers: {
        storeRead: (key) => flash.get(key as string),
        storeWrite: (key, value) => void flash.set(key as string, value as string),
        storeRemove: (key) => void flash.delete(key as string),
        pageRead: (slot) => pages.get(slot as number),
        pageWrite: (slot, bytes) => void pages.set(slot as number, bytes as number[]),
        pageErase: (slot) => void pages.delete(slot as number),
      },
      onEvent: (event) => events.push(event),
      onLog: (level, message) => {
        if (level === "error") progress(`device: ${message}`);
      },
    });
    const g = guest;
    const failed = (): void => {
      if (g.failure !== undefined) throw g.failure;
    };
    const baseline = (await reading(g, "baseline", false)).figure;
    progress(`baseline: ${baseline.slots} slots, ${baseline.chunkBytes} chunk bytes`);

    g.trackPeak();
    const bootedAt = Date.now();
    await g.call("boot", settings, Date.now());
    await waitFor("the subscription", () => count("subscribed") > 0, 30_000);
    const activation = await peakOf(g, "activation");
    failed();
    progress(`subscribed after ${Date.now() - bootedAt} ms; peak ${activation.slots} slots`);
    const token = flash.get("thingToken");
    if (token === undefined) throw new Error("no thing token stored");

    const samples: TimedSample[] = [];
    let commandsWritten = 0;
    let level = 0;
    const endAt = bootedAt + minutes * 60_000;
    let nextSample = Date.now();
    let nextCommand = Date.now() + commandEveryMs;
    let nextGap = bootedAt + minutes * 60_000 * 0.4;
    let readAt = bootedAt + minutes * 60_000 * 0.6;
    let operationFrom = bootedAt + minutes * 60_000 * 0.7;
    let operationUntil = operationFrom + Math.min(60_000, minutes * 60_000 * 0.15);
    let operation = NO_PEAK;
    let gap = NO_PEAK;
    let read: HeapPeak & { values: number } = { ...NO_PEAK, values: 0 };
    let gaps = 0;
    while (Date.now() < endAt) {
      failed();
      const now = Date.now();
      if (now >= operationFrom) {
        g.trackPeak();
        progress(`operation: the largest heap until ${Math.round((operationUntil - bootedAt) / 1000)} s`);
        operationFrom = Number.POSITIVE_INFINITY;
      }
      if (now >= operationUntil) {
        operation = await peakOf(g, "operation");
        progress(`operation: peak ${operation.slots} slots, ${operation.chunkBytes} chunk bytes`);
        operationUntil = Number.POSITIVE_INFINITY;
        nextSample = Math.max(nextSample, Date.now());
      }
      const tracking = operationFrom === Number.POSITIVE_INFINITY && operationUntil !== Number.POSITIVE_INFINITY;
      if (now >= nextSample && !tracking) {
        const sample = (await reading(g, "reading")).figure;
        samples.push({ atMs: now - bootedAt, ...sample });
        nextSample += sampleEveryMs;
        progress(`${Math.round((now - bootedAt) / 1000)} s: ${sample.slots} slots, ${sample.chunkBytes} chunk bytes`);
      }
      if (now >= nextCommand) {
        level = 1 - level;
        const values = [
          { key: "led", value: level },
          { key: "fan", value: level === 1 ? 0.75 : 0.25 },
        ];
        if ((await writeAsAnotherClient(platform.port, token, values).catch(() => "lost")) === "2.01")
          commandsWritten++;
        nextCommand += commandEveryMs;
      }
      if (now >= nextGap) {
        gaps++;
        const subscribed = count("subscribed");
        g.trackPeak();
        await platform.stop();
        progress(`gap ${gaps}: platform away for ${gapMs} ms`);
        await sleep(gapMs);
        await platform.start();
        await waitFor("the subscription after the gap", () => count("subscribed") > subscribed, 60_000);
        await drained(g, 180_000);
        const seen = await peakOf(g, `gap-${gaps}`);
        if (seen.slots * 16 + seen.esp32ChunkBytes > gap.slots * 16 + gap.esp32ChunkBytes) gap = seen;
        progress(`gap ${gaps}: back, drained; peak ${seen.slots} slots, ${seen.chunkBytes} chunk bytes`);
        nextGap = options.gapEveryMs === undefined ? Number.POSITIVE_INFINITY : nextGap + options.gapEveryMs;
        nextSample = Math.max(nextSample, Date.now());
        nextCommand = Math.max(nextCommand, Date.now());
      }
      if (now >= readAt) {
        const before = count("read-done");
        g.trackPeak();
        await g.call("read", { address: "127.0.0.1", port: platform.port }, token, "temperature", 100);
        await waitFor("the 100-value read", () => count("read-done") > before, 30_000);
        const seen = await peakOf(g, "read");
        const done = events.filter((e) => e.event === "read-done").at(-1)!;
        read = { ...seen, values: done.count as number };
        progress(`read of ${read.values} values: peak ${seen.slots} slots, ${seen.chunkBytes} chunk bytes`);
        readAt = Number.POSITIVE_INFINITY;
        nextSample = Math.max(nextSample, Date.now());
      }
      await sleep(100);
    }
    const last = await reading(g, "last");
    failed();
    samples.push({ atMs: Date.now() - bootedAt, ...last.figure });
    const census = last.census!;
    const stats = (await g.call("stats")) as { sent: number; dropped: number };
    return {
      settings,
      minutes,
      baseline,
      activation,
      operation,
      gap,
      read,
      samples,
      census,
      counts: {
        batches: count("sent"),
        valuesSent: stats.sent,
        commandsWritten,
        commandsApplied: events.filter((e) => e.event === "command" && e.source === "subscription").length,
        subscribed: count("subscribed"),
        lost: count("subscription-lost"),
        gaps,
        dropped: stats.dropped,
      },
    };
  } finally {
    await guest?.call("stop");
    await guest?.stop();
    await platform.dispose();
  }
}

/** 16 KB: the budget of the device's steady state beside the reading ring (issue 14). */
export const BUDGET_BYTES = 16 * 1024;

const thousands = (n: number): string => Math.round(n).toLocaleString("en-US");

function share(figure: HeapFigure, baseline: HeapFigure): HeapFigure {
  return {
    slots: figure.slots - baseline.slots,
    chunkBytes: figure.chunkBytes - baseline.chunkBytes,
    esp32ChunkBytes: figure.esp32ChunkBytes - baseline.esp32ChunkBytes,
  };
}

/** The ring's bytes as the budget counts them: bufferSize × 28. */
export function ringBytes(report: DeviceMemoryReport): number {
  return Number(report.settings.bufferSize) * RING_BYTES_PER_VALUE;
}

/**
 * The device's share in steady state: the median reading of the second half of the run (past
 * every cache's fill). A reading taken while a write is in flight is not the steady state; the
 * largest heap of normal operation is its own row (DeviceMemoryReport.operation).
 */
export function steadyState(report: DeviceMemoryReport): HeapFigure {
  const half = report.samples.slice(Math.floor(report.samples.length / 2));
  const sorted = [...half].sort((a, b) => esp32Bytes(a) - esp32Bytes(b));
  return share(sorted[Math.floor((sorted.length - 1) / 2)] ?? report.baseline, report.baseline);
}

/**
 * Growth over the run: the median reading (ESP32 bytes) of its second sixth (past the caches'
 * fill) and of its last sixth, and the difference. Flat is within 512 B: one batch's strings and
 * a write in flight come and go by about that much between readings.
 */
export function flatness(report: DeviceMemoryReport): { early: number; late: number; growth: number; flat: boolean } {
  const samples = report.samples;
  const sixth = Math.floor(samples.length / 6);
  const median = (part: readonly TimedSample[]): number => {
    const bytes = part.map((sample) => esp32Bytes(share(sample, report.baseline))).sort((a, b) => a - b);
    return bytes[Math.floor((bytes.length - 1) / 2)] ?? 0;
  };
  const early = median(samples.slice(sixth, 2 * sixth));
  const late = median(samples.slice(samples.length - sixth));
  return { early, late, growth: late - early, flat: late - early <= 512 };
}

function row(what: string, figure: HeapFigure, ring: number, note = ""): string {
  const esp32 = esp32Bytes(figure);
  return `| ${what} | ${thousands(figure.slots)} | ${thousands(figure.chunkBytes)} | ${thousands(esp32)} | ${thousands(esp32 - ring)} | ${note} |`;
}

function partRows(parts: readonly PartFigure[], depth: number, out: string[]): void {
  for (const part of parts) {
    const indent = "&nbsp;&nbsp;".repeat(depth);
    out.push(
      `| ${indent}\`${part.path}\` | ${part.what} | ${thousands(part.slots)} | ${thousands(part.chunkBytes)} | ${thousands(esp32Bytes(part))} |`,
    );
    if (part.parts.length === 0) continue;
    partRows(part.parts, depth + 1, out);
    const rest = ownFigure(part);
    const folded = {
      slots: rest.slots + part.smaller.slots + part.shared.slots,
      chunkBytes: rest.chunkBytes + part.smaller.chunkBytes + part.shared.chunkBytes,
      esp32ChunkBytes: rest.esp32ChunkBytes + part.smaller.esp32ChunkBytes + part.shared.esp32ChunkBytes,
    };
    out.push(
      `| ${indent}&nbsp;&nbsp;(the rest of \`${part.path}\`) | | ${thousands(folded.slots)} | ${thousands(folded.chunkBytes)} | ${thousands(esp32Bytes(folded))} |`,
    );
  }
}

/** ESP32 bytes of each top-level part: in the last reading and at each peak. */
function peakTable(report: DeviceMemoryReport): string[] {
  const columns: [string, DeviceCensus | undefined][] = [
    ["last reading", report.census],
    ["operation", report.operation.census],
    ["activation", report.activation.census],
    ["gap and drain", report.gap.census],
    ["100-value read", report.read.census],
  ];
  const names = report.census.parts.map((part) => part.path);
  const cell = (census: DeviceCensus | undefined, name: string): string => {
    const part = census?.parts.find((p) => p.path === name);
    return part === undefined ? "–" : thousands(esp32Bytes(part));
  };
  const figure = (census: DeviceCensus | undefined, pick: (c: DeviceCensus) => HeapFigure): string =>
    census === undefined ? "–" : thousands(esp32Bytes(pick(census)));
  const rest = (c: DeviceCensus): HeapFigure => ({
    slots: c.own.slots + c.smaller.slots + c.shared.slots,
    chunkBytes: c.own.chunkBytes + c.smaller.chunkBytes + c.shared.chunkBytes,
    esp32ChunkBytes: c.own.esp32ChunkBytes + c.smaller.esp32ChunkBytes + c.shared.esp32ChunkBytes,
  });
  return [
    `| ESP32 bytes by part | ${columns.map(([name]) => name).join(" | ")} |`,
    `|---|${columns.map(() => "---:").join("|")}|`,
    ...names.map((name) => `| \`${name}\` | ${columns.map(([, c]) => cell(c, name)).join(" | ")} |`),
    `| the Device's own and shared | ${columns.map(([, c]) => figure(c, rest)).join(" | ")} |`,
    `| held by the ports | ${columns.map(([, c]) => figure(c, (x) => x.held)).join(" | ")} |`,
  ];
}

/** The report as Markdown: the heap figures, the breakdown by part, the readings over time. */
export function describeDeviceMemory(report: DeviceMemoryReport): string[] {
  const ring = ringBytes(report);
  const steady = steadyState(report);
  const beside = esp32Bytes(steady) - ring;
  const c = report.counts;
  const out = [
    `Device on XS (@agoric/xsnap) against the local platform for ${report.minutes} min: ${c.batches} batches (${thousands(c.valuesSent)} values), ${c.commandsWritten} commands written and ${c.commandsApplied} applied, subscribed ${c.subscribed} times (${c.lost} lost), ${c.gaps} gap(s) of the platform, ${c.dropped} values dropped.`,
    `Settings: ${Object.entries(report.settings)
      .filter(([key]) => key !== "activationCode" && key !== "server")
      .map(([key, value]) => `${key}=${value}`)
      .join(" ")}.`,
    `Baseline (loaded, nothing built; in flash on the board): ${thousands(report.baseline.slots)} slots, ${thousands(report.baseline.chunkBytes)} chunk bytes. Every figure below is the heap less the baseline.`,
    "",
    "| heap (device's share) | slots | chunk bytes (xsnap, 64-bit) | ESP32 bytes | beside the ring | |",
    "|---|---:|---:|---:|---:|---|",
    row("steady state (median reading of the second half)", steady, ring),
    row(
      "normal operation: the largest over a minute (a write in flight, a command)",
      share(report.operation, report.baseline),
      ring,
      `${report.operation.samples} readings`,
    ),
    row(
      "peak: activation to subscribed",
      share(report.activation, report.baseline),
      ring,
      `${report.activation.samples} readings`,
    ),
    row(
      "peak: platform away, back, backlog drained",
      share(report.gap, report.baseline),
      ring,
      `${report.gap.samples} readings`,
    ),
    row(
      `peak: read of ${report.read.values} values (Block2)`,
      share(report.read, report.baseline),
      ring,
      `${report.read.samples} readings`,
    ),
    "",
    `Growth: median of the run's second sixth ${thousands(flatness(report).early)} B, of its last sixth ${thousands(flatness(report).late)} B (ESP32): ${thousands(flatness(report).growth)} B, ${flatness(report).flat ? "flat" : "growing"}.`,
    "",
    `Ring: bufferSize ${report.settings.bufferSize} × ${RING_BYTES_PER_VALUE} B = ${thousands(ring)} B. Steady state beside the ring: ${thousands(beside)} B, budget ${thousands(BUDGET_BYTES)} B: ${beside <= BUDGET_BYTES ? "within" : "over"}.`,
    "",
    "| part (last reading) | holds | slots | chunk bytes | ESP32 bytes |",
    "|---|---|---:|---:|---:|",
  ];
  const census = report.census;
  partRows(census.parts, 0, out);
  const rest = {
    slots: census.own.slots + census.smaller.slots + census.shared.slots,
    chunkBytes: census.own.chunkBytes + census.smaller.chunkBytes + census.shared.chunkBytes,
    esp32ChunkBytes: census.own.esp32ChunkBytes + census.smaller.esp32ChunkBytes + census.shared.esp32ChunkBytes,
  };
  const runtime = share(census.total, report.baseline);
  const loadedGrowth = share(census.loaded, report.baseline);
  out.push(
    `| the Device's own, and what its parts share | | ${thousands(rest.slots)} | ${thousands(rest.chunkBytes)} | ${thousands(esp32Bytes(rest))} |`,
    `| **the device** | | **${thousands(census.device.slots)}** | **${thousands(census.device.chunkBytes)}** | **${thousands(esp32Bytes(census.device))}** |`,
    `| held by the ports (pending timers' callbacks, the socket's receiver) | | ${thousands(census.held.slots)} | ${thousands(census.held.chunkBytes)} | ${thousands(esp32Bytes(census.held))} |`,
    `| grown outside the device (keys made at run time, …) | | ${thousands(loadedGrowth.slots)} | ${thousands(loadedGrowth.chunkBytes)} | ${thousands(esp32Bytes(loadedGrowth))} |`,
    `| kept only by xsnap's private-method homes (not on the board) | | ${thousands(census.other.slots)} | ${thousands(census.other.chunkBytes)} | ${thousands(esp32Bytes(census.other))} |`,
    `| **the heap less the baseline** | | **${thousands(runtime.slots)}** | **${thousands(runtime.chunkBytes)}** | **${thousands(esp32Bytes(runtime))}** |`,
    "",
    ...peakTable(report),
    "",
    "| since boot | slots | chunk bytes | ESP32 bytes |",
    "|---:|---:|---:|---:|",
  );
  for (const sample of report.samples) {
    const figure = share(sample, report.baseline);
    out.push(
      `| ${Math.round(sample.atMs / 1000)} s | ${thousands(figure.slots)} | ${thousands(figure.chunkBytes)} | ${thousands(esp32Bytes(figure))} |`,
    );
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { minutes: { type: "string" }, "gap-every": { type: "string" } } });
  const gapEvery = values["gap-every"];
  const report = await measureDeviceMemory({
    minutes: values.minutes === undefined ? undefined : Number(values.minutes),
    gapEveryMs: gapEvery === undefined ? undefined : Number(gapEvery) * 60_000,
    onProgress: (line) => console.error(line),
  });
  console.log(describeDeviceMemory(report).join("\n"));
}
