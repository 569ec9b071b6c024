// What telemetry's flash outbox costs in RAM on the XS engine (xsnap): the slot heap and the
// snapshot size after a forced GC, at the default settings, for telemetry without an outbox, then
// with one while the platform answers (steady state), at the end of an hour's outage (open page,
// pages in the store) and after the drain. The store's pages stand for the flash: their bytes are
// reported so they can be told apart. Used by bench/outbox.bench.ts.
import { fileURLToPath } from "node:url";
import type { XsnapWorker } from "@agoric/xsnap";
import { bundleForXs, spawnXsWorker } from "./xs-bridge.js";

export interface OutboxMemoryPhase {
  readonly name: string;
  readonly slots: number;
  readonly snapshotBytes: number;
  readonly storePages: number;
  readonly storeBytes: number;
}

export interface OutboxMemoryReport {
  readonly phases: readonly OutboxMemoryPhase[];
  readonly lines: readonly string[];
  /** Markdown table rows: phase, slots, over the baseline, on the ESP32, other bytes over the baseline. */
  readonly rows: readonly string[];
}

/** Bytes of a slot on a 64-bit host build; the ESP32's are 16. */
const SLOT_BYTES_HOST = 32;
const SLOT_BYTES_ESP32 = 16;

interface MeteredWorker {
  issueCommand(message: Uint8Array): Promise<{ reply: Uint8Array; meterUsage: { currentHeapCount: number | null } }>;
  makeSnapshotStream(): AsyncIterable<Uint8Array>;
}

const guestEntry = fileURLToPath(new URL("../test/xs/outbox-memory-guest.js", import.meta.url));

export async function measureOutboxMemory(): Promise<OutboxMemoryReport> {
  const code = await bundleForXs(guestEntry);
  const worker: XsnapWorker = await spawnXsWorker("xs-outbox-memory", async () => new Uint8Array(0));
  const metered = worker as unknown as MeteredWorker;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const phases: OutboxMemoryPhase[] = [];
  try {
    await worker.evaluate(code);
    for (const name of ["without outbox", "without outbox, again", "with outbox", "outage", "drain"]) {
      const { reply } = await metered.issueCommand(encoder.encode(JSON.stringify({ op: "phase", name })));
      const parsed = JSON.parse(decoder.decode(reply)) as { error?: string; storePages: number; storeBytes: number };
      if (parsed.error !== undefined) throw new Error(`guest: ${parsed.error}`);
      const { meterUsage } = await metered.issueCommand(encoder.encode(JSON.stringify({ op: "gc" })));
      let snapshotBytes = 0;
      for await (const chunk of metered.makeSnapshotStream()) snapshotBytes += chunk.length;
      phases.push({
        name,
        slots: meterUsage.currentHeapCount ?? Number.NaN,
        snapshotBytes,
        storePages: parsed.storePages,
        storeBytes: parsed.storeBytes,
      });
    }
  } finally {
    await worker.close().catch(() => undefined);
  }
  // The second telemetry without an outbox is the baseline: the first one warms the engine up.
  const base = phases[1]!;
  const lines = phases.map((p) => {
    const slots = p.slots - base.slots;
    const bytes = p.snapshotBytes - base.snapshotBytes - p.storeBytes;
    return (
      `${p.name}: ${p.slots} slots (${slots >= 0 ? "+" : ""}${slots}: ${slots * SLOT_BYTES_HOST} B here, ${slots * SLOT_BYTES_ESP32} B on the ESP32), ` +
      `snapshot ${p.snapshotBytes} B (${bytes >= 0 ? "+" : ""}${bytes} B beside the ${p.storePages} pages, ${p.storeBytes} B, standing for flash)`
    );
  });
  const rows = phases.map((p) => {
    const slots = p.slots - base.slots;
    const other = p.snapshotBytes - base.snapshotBytes - p.storeBytes - slots * SLOT_BYTES_HOST;
    return `| ${p.name} | ${p.slots} | ${slots} | ${slots * SLOT_BYTES_ESP32} B | ${other} B |`;
  });
  return { phases, lines, rows };
}
