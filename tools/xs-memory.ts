// The device's protocol stack on the XS engine (npm @agoric/xsnap) under a long workload, with
// the heap measured after a forced GC between phases (test/xs/memory-guest.ts drives
// test/xs/memory-workload.ts). Two figures per measurement:
// - slots: XS's slot heap in use (`currentHeapCount` in the meter report of the command that
//   ran gc(); exact after a collection). Every object, closure, Map entry and array element
//   kept alive holds slots, so a leak of anything object-like shows here, slot by slot.
// - snapshot bytes: the size of an xsnap heap snapshot taken right after. It also counts the
//   chunk heap (strings, ArrayBuffer contents, array backing stores), where a leak of bytes or
//   of strings pushed onto one array would not move the slot count.
// `node build/tools/xs-memory.js [--exchanges N --notifications N --hostile N --fuzz N --unique-names N
//   --settings N --seed S]`
// prints the figures; test/node/xs-memory.test.ts and bench/xs-memory.bench.ts use
// measureXsMemory().

import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { XsnapWorker } from "@agoric/xsnap";
import type { PhaseCounts, PhaseReport } from "../test/xs/memory-workload.js";
import { bundleForXs, spawnXsWorker } from "./xs-bridge.js";

/** sizeof(txSlot) in xsnap on a 64-bit host; 16 bytes on the ESP32 (32-bit pointers). */
export const SLOT_BYTES_HOST = 32;

export interface HeapFigure {
  readonly slots: number;
  readonly snapshotBytes: number;
}

export interface MeasuredPhase {
  readonly name: string;
  readonly counts: PhaseCounts;
  readonly report: PhaseReport;
  readonly heap: HeapFigure;
  /** Wall-clock time of the phase on XS, tail included. */
  readonly wallMs: number;
}

export interface XsMemoryReport {
  readonly seed: number;
  /** After start-up and the warm-up phase: the reference. */
  readonly baseline: HeapFigure;
  readonly warmup: MeasuredPhase;
  readonly phases: readonly MeasuredPhase[];
}

export interface XsMemoryOptions {
  readonly exchanges?: number;
  readonly notifications?: number;
  readonly hostileNotifications?: number;
  readonly fuzzDatagrams?: number;
  /** Also run notifications whose JSON member names are all new (off by default: see the workload). */
  readonly uniqueNameNotifications?: number;
  /** Settings writes on the subscription (default 1,000; 0 leaves the phase out). */
  readonly settingsWrites?: number;
  readonly seed?: number;
}

/** Exercises every path once before the reference is taken, so nothing made on first use counts as growth. */
const WARMUP: PhaseCounts = Object.freeze({
  exchanges: 2_000,
  notifications: 100,
  hostileNotifications: 102,
  fuzzDatagrams: 2_000,
  settingsWrites: 26,
});

const guestEntry = fileURLToPath(new URL("../test/xs/memory-guest.js", import.meta.url));

/** What @agoric/xsnap's worker also offers beyond tools/ambient.d.ts: the meter report and snapshots. */
interface MeteredWorker {
  issueCommand(message: Uint8Array): Promise<{ reply: Uint8Array; meterUsage: { currentHeapCount: number | null } }>;
  makeSnapshotStream(): AsyncIterable<Uint8Array>;
}

async function snapshotSize(worker: MeteredWorker): Promise<number> {
  let size = 0;
  for await (const chunk of worker.makeSnapshotStream()) size += chunk.length;
  return size;
}

export async function measureXsMemory(options: XsMemoryOptions = {}): Promise<XsMemoryReport> {
  const seed = options.seed ?? 1;
  const code = await bundleForXs(guestEntry);
  const worker: XsnapWorker = await spawnXsWorker("xs-memory", async () => new Uint8Array(0));
  const metered = worker as unknown as MeteredWorker;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const command = async (message: object): Promise<{ reply: unknown; slots: number | null }> => {
    const { reply, meterUsage } = await metered.issueCommand(encoder.encode(JSON.stringify(message)));
    const text = decoder.decode(reply);
    const parsed: unknown = text === "" ? undefined : JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && "error" in parsed)
      throw new Error(`guest: ${String((parsed as { error: unknown }).error)}`);
    return { reply: parsed, slots: meterUsage.currentHeapCount };
  };
  const measure = async (): Promise<HeapFigure> => {
    const { slots } = await command({ op: "gc" });
    if (slots === null) throw new Error("xsnap reported no currentHeapCount");
    return { slots, snapshotBytes: await snapshotSize(metered) };
  };
  const phase = async (name: string, counts: PhaseCounts): Promise<MeasuredPhase> => {
    const started = performance.now();
    const { reply } = await command({ op: "run", counts });
    const wallMs = performance.now() - started;
    if (reply === undefined) throw new Error(`phase ${name}: the guest did not finish (a promise never settled)`);
    return { name, counts, report: reply as PhaseReport, heap: await measure(), wallMs };
  };
  try {
    await worker.evaluate(code);
    const { reply } = await command({ op: "start", seed });
    if (reply === undefined) throw new Error("the guest did not start");
    const warmup = await phase("warm-up", WARMUP);
    const baseline = warmup.heap;
    const phases = [
      await phase("exchanges", { exchanges: options.exchanges ?? 10_000 }),
      await phase("commands", { notifications: options.notifications ?? 1_000 }),
      await phase("hostile payloads", { hostileNotifications: options.hostileNotifications ?? 1_000 }),
      await phase("hostile datagrams", { fuzzDatagrams: options.fuzzDatagrams ?? 5_000 }),
    ];
    const settingsWrites = options.settingsWrites ?? 1_000;
    if (settingsWrites > 0) phases.push(await phase("settings writes", { settingsWrites }));
    const unique = options.uniqueNameNotifications ?? 0;
    if (unique > 0) phases.push(await phase("new JSON member names", { uniqueNameNotifications: unique }));
    return { seed, baseline, warmup, phases };
  } finally {
    await worker.close().catch(() => undefined);
  }
}

/** One line per measurement: the phase, what it ran, the heap and its change from the baseline. */
export function describeXsMemory(report: XsMemoryReport): string[] {
  const delta = (now: number, then: number): string => `${now - then >= 0 ? "+" : ""}${now - then}`;
  const lines = [
    `baseline after warm-up: ${report.baseline.slots} slots (${report.baseline.slots * SLOT_BYTES_HOST} bytes), snapshot ${report.baseline.snapshotBytes} bytes`,
  ];
  for (const p of report.phases) {
    const r = p.report;
    const what = [
      r.exchanges.attempted > 0 ? `${r.exchanges.ok}/${r.exchanges.attempted} exchanges answered` : "",
      r.commands.sent > 0 ? `${r.commands.applied}/${r.commands.sent} commands applied` : "",
      r.hostile.sent > 0 ? `${r.hostile.sent} hostile payloads, ${r.hostile.applied} applied` : "",
      r.fuzz.sent > 0 ? `${r.fuzz.sent} hostile datagrams` : "",
      r.uniqueNames.sent > 0
        ? `${r.uniqueNames.sent} notifications of new member names, ${r.uniqueNames.applied} applied`
        : "",
      r.settings.sent > 0
        ? `${r.settings.sent} settings writes ${JSON.stringify(r.settings.outcomes)}, ${r.settings.reports} reports, ${r.settings.flashWrites} flash writes`
        : "",
    ]
      .filter((s) => s !== "")
      .join(", ");
    lines.push(
      `after ${p.name} (${what}; ${Math.round(r.simulatedMs / 1000)} s simulated, ${(p.wallMs / 1000).toFixed(1)} s on XS): ${p.heap.slots} slots (${delta(p.heap.slots, report.baseline.slots)}), snapshot ${p.heap.snapshotBytes} bytes (${delta(p.heap.snapshotBytes, report.baseline.snapshotBytes)})`,
    );
  }
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      exchanges: { type: "string" },
      notifications: { type: "string" },
      hostile: { type: "string" },
      fuzz: { type: "string" },
      "unique-names": { type: "string" },
      settings: { type: "string" },
      seed: { type: "string" },
    },
  });
  const number = (text: string | undefined): number | undefined => (text === undefined ? undefined : Number(text));
  const started = performance.now();
  const report = await measureXsMemory({
    exchanges: number(values.exchanges),
    notifications: number(values.notifications),
    hostileNotifications: number(values.hostile),
    fuzzDatagrams: number(values.fuzz),
    uniqueNameNotifications: number(values["unique-names"]),
    settingsWrites: number(values.settings),
    seed: number(values.seed),
  });
  for (const line of describeXsMemory(report)) console.log(line);
  console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
