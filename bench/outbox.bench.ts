// The flash outbox and the drain at capacity (sensors/backlog.ts, sensors/outbox.ts,
// sensors/uploader.ts), measured on a fake clock, deterministic (seeded):
// 1. Goodput (values stored per second) with a standing backlog through a seeded 30 %-loss path
//    each way (the real CoAP endpoint and theThings.IO client over test/sim's network, the
//    simulated sensors at 20 values/s, default transmission parameters), for the `batch`-sized
//    drain and the drain at capacity in the same run, with batch 5 and 10. Target: ≥ 1.6× with 10.
// 2. Bytes per value of the write bodies against the floor of the documented JSON body (every
//    value's own item and its comma; the frame and reports are the overhead). Target: within 5 %.
// 3. Flash wear: a day-long outage at the default settings (interval 10 s, maxDelay 60 s,
//    persistAfter 90 s, outboxSize 500) with the ESP32's and the simulator's sensors: page writes
//    and erases per day, and what that means for NVS sectors against the flash's endurance.
// 4. RAM: what the outbox adds on the XS engine (slots and snapshot bytes, xsnap), in steady
//    state, during an outage and while draining.
// `--record` also writes bench/RESULTS-outbox.md.
import { writeFileSync } from "node:fs";
import { Code } from "../coap/codes.js";
import { decodeUtf8 } from "../kernel/utf8.js";
import { valueItemBytes } from "../sensors/batch-payload.js";
import type { SensorBinding } from "../sensors/sensor-binding.js";
import { SimulatedAnalogInput } from "../sensors/simulated-analog.js";
import { SimulatedClimateSensor } from "../sensors/simulated-climate.js";
import { Telemetry, type TelemetryCounters } from "../sensors/telemetry.js";
import type { TelemetrySettings } from "../sensors/telemetry-config.js";
import { ThethingsBatchSink } from "../sensors/thethings-batch-sink.js";
import { MemoryPageStore } from "../test/core-fakes/page-stores.js";
import { endpointFixture } from "../test/sim/endpoint-fixture.js";
import { FakeClock } from "../test/sim/fake-clock.js";
import { SeededRandom } from "../test/sim/seeded-random.js";
import { ThethingsClient } from "../thethings/client.js";
import { measureOutboxMemory, type OutboxMemoryReport } from "../tools/xs-outbox-memory.js";

const THING_TOKEN = "Xk3_9fQ-2mZpL7vR0tYbN4sWq8eJcH1uGdA6oIiK5yT";
const START_UTC = Date.UTC(2024, 4, 6);
const GOODPUT_TARGET = 1.6;
const BYTES_TARGET = 1.05;

function sensorSet(random: SeededRandom, keys: readonly string[]): SensorBinding[] {
  const bindings: SensorBinding[] = [
    {
      sensor: new SimulatedClimateSensor({ random }),
      readings: [
        { path: "temperature", key: keys[0]!, decimals: 2 },
        { path: "humidity", key: keys[1]!, decimals: 2 },
      ],
    },
  ];
  if (keys[2] !== undefined)
    bindings.push({ sensor: new SimulatedAnalogInput({ random }), readings: [{ path: "raw", key: keys[2] }] });
  return bindings;
}

interface DrainResult {
  readonly batch: number;
  readonly drainAtCapacity: boolean;
  /** Values stored after the build-up (for goodput), and in all (for the bytes). */
  readonly stored: number;
  readonly storedTotal: number;
  readonly seconds: number;
  readonly writes: number;
  readonly valuesPerWrite: number;
  /** Body bytes of the stored writes, and the floor: each value's item and its comma. */
  readonly bodyBytes: number;
  readonly floorBytes: number;
  /** Of bodyBytes: the drop reports and the frames. */
  readonly reportBytes: number;
  readonly counters: TelemetryCounters;
}

interface KeySet {
  readonly name: string;
  readonly keys: readonly string[];
}

/** The simulated sensors' own keys, and the same readings on one-letter keys (more values fit a datagram). */
const KEY_SETS: readonly KeySet[] = [
  { name: "keys temperature, humidity, analog", keys: ["temperature", "humidity", "analog"] },
  { name: "one-letter keys t, h, a", keys: ["t", "h", "a"] },
];

/** A standing backlog drained through 30 % loss each way for `minutes` of simulated time. */
async function drain(
  keys: readonly string[],
  batch: number,
  drainAtCapacity: boolean,
  seed: number,
  minutes: number,
): Promise<DrainResult> {
  const f = endpointFixture({ seed, conditions: { lossRate: 0.3, delayMs: 20, jitterMs: 10 } });
  let stored = 0;
  let writes = 0;
  let bodyBytes = 0;
  let floorBytes = 0;
  let reportBytes = 0;
  f.server.route(`/v2/things/${THING_TOKEN}`, (request, reply) => {
    const body = decodeUtf8(request.payload);
    const parsed = JSON.parse(body) as { values: { key: string; value: unknown; datetime?: string }[] };
    writes++;
    bodyBytes += request.payload.length;
    for (const item of parsed.values) {
      const size = valueItemBytes(item.key, item.value as number, item.datetime) + 1;
      if (item.key === "telemetry.dropped") reportBytes += size;
      else {
        stored++;
        floorBytes += size;
      }
    }
    reply.respond({ code: Code.Created, payload: '{"status":"created"}' });
  });
  const client = new ThethingsClient({ coap: f.endpoint, log: () => undefined });
  client.setThingToken(THING_TOKEN);
  const random = new SeededRandom(seed + 7);
  const telemetry = new Telemetry({
    bindings: sensorSet(random, keys),
    sink: new ThethingsBatchSink({ client }),
    clock: f.clock,
    wallClock: { utcNow: () => START_UTC + f.clock.now() },
    random,
    // 3 values every 150 ms: 20 values/s, far more than a lossy link drains, so a backlog stands.
    config: { intervalMs: 150, batch, maxDelayMs: 1_000, bufferSize: 500, drainAtCapacity },
  });
  telemetry.start();
  // The first minute builds the backlog; goodput counts from then on.
  await f.clock.advance(60_000);
  const storedBefore = stored;
  await f.clock.advance(minutes * 60_000);
  telemetry.close();
  f.endpoint.close();
  return {
    batch,
    drainAtCapacity,
    stored: stored - storedBefore,
    storedTotal: stored,
    seconds: minutes * 60,
    writes,
    valuesPerWrite: stored / writes,
    bodyBytes,
    floorBytes,
    reportBytes,
    counters: telemetry.counters,
  };
}

interface WearResult {
  readonly name: string;
  readonly keys: number;
  readonly sampled: number;
  readonly writes: number;
  readonly erases: number;
  readonly bytesWritten: number;
  /** NVS entries of 32 bytes those writes take (a blob: a header and an index entry, then its data). */
  readonly nvsEntries: number;
  readonly persisted: number;
  readonly dropped: number;
  readonly pagesAtEnd: number;
}

/** A counting store that also sums the bytes written. */
class WearStore extends MemoryPageStore {
  bytesWritten = 0;
  nvsEntries = 0;

  override write(slot: number, page: Uint8Array): void {
    super.write(slot, page);
    this.bytesWritten += page.length;
    this.nvsEntries += 2 + Math.ceil(page.length / 32);
  }
}

/** A day without the platform at the default settings (and the given sensors): what reaches flash. */
async function dayOutage(name: string, keys: readonly string[], settings: TelemetrySettings = {}): Promise<WearResult> {
  const clock = new FakeClock({ startAt: 0, settleTurns: 8 });
  const random = new SeededRandom(11);
  const store = new WearStore(16, 1024);
  const telemetry = new Telemetry({
    bindings: sensorSet(random, keys),
    sink: { send: async () => ({ kind: "unavailable", reason: "no network" }) },
    clock,
    wallClock: { utcNow: () => START_UTC + clock.now() },
    random,
    config: settings,
    pages: store,
  });
  telemetry.start();
  await clock.advance(24 * 3_600_000);
  const c = telemetry.counters;
  telemetry.close();
  return {
    name,
    keys: keys.length,
    sampled: c.sampled,
    writes: store.writes,
    erases: store.erases,
    bytesWritten: store.bytesWritten,
    nvsEntries: store.nvsEntries,
    persisted: c.persisted,
    dropped: c.dropped,
    pagesAtEnd: store.used,
  };
}

/** NVS on the default partition table: 24 KB, six 4 KB sectors of 126 entries (one kept free for its GC). */
const NVS_SECTORS = 6;
const NVS_ENTRIES_PER_SECTOR = 126;
/** Program/erase cycles per sector of the SPI NOR flash of ESP32 modules (100,000 in the usual parts' datasheets). */
const FLASH_ENDURANCE = 100_000;

function sectorErasesPerDay(w: WearResult, liveEntries: number): number {
  // Log-structured: every entry written advances the log; a full sector is erased once its live
  // entries have been moved on, which costs more the fuller the partition (write amplification).
  const usable = (NVS_SECTORS - 1) * NVS_ENTRIES_PER_SECTOR;
  const amplification = 1 / (1 - liveEntries / usable);
  return (w.nvsEntries * amplification) / NVS_ENTRIES_PER_SECTOR;
}

function fixed(value: number, digits = 2): string {
  return value.toFixed(digits);
}

const MINUTES = 30;
const lines: string[] = [];
const rows: string[] = [];
for (const set of KEY_SETS) {
  for (const batch of [5, 10]) {
    const sized = await drain(set.keys, batch, false, 2026, MINUTES);
    const full = await drain(set.keys, batch, true, 2026, MINUTES);
    const ratio = full.stored / full.seconds / (sized.stored / sized.seconds);
    for (const r of [sized, full]) {
      const goodput = r.stored / r.seconds;
      const overFloor = r.bodyBytes / r.floorBytes;
      const overFloorValuesOnly = (r.bodyBytes - r.reportBytes) / r.floorBytes;
      lines.push(
        `${set.name}, batch ${batch}, ${r.drainAtCapacity ? "drain at capacity" : "batch-sized drain"}: ` +
          `${fixed(goodput, 3)} values/s stored (${r.stored} in ${r.seconds} s), ${fixed(r.valuesPerWrite)} values a write, ` +
          `body ${fixed(r.bodyBytes / r.storedTotal, 1)} B/value = ${fixed(overFloor, 3)}× the floor ` +
          `(${fixed(overFloorValuesOnly, 3)}× without the drop reports); dropped ${r.counters.dropped}`,
      );
      rows.push(
        `| ${set.name} | ${batch} | ${r.drainAtCapacity ? "at capacity" : "`batch` values"} | ${fixed(goodput, 3)} | ${fixed(r.valuesPerWrite)} | ${fixed(r.bodyBytes / r.storedTotal, 1)} | ${fixed(r.floorBytes / r.storedTotal, 1)} | ${fixed(overFloor, 3)} | ${fixed(overFloorValuesOnly, 3)} |`,
      );
    }
    const verdict = batch === 10 ? ` (target ≥ ${GOODPUT_TARGET}: ${ratio >= GOODPUT_TARGET ? "met" : "MISSED"})` : "";
    lines.push(`  ${set.name}, batch ${batch}: goodput ratio ${fixed(ratio, 3)}×${verdict}`);
    rows.push(`| ${set.name} | ${batch} | ratio | **${fixed(ratio, 3)}×** | | | | | |`);
  }
}
for (const line of lines) console.log(line);

const wear = [
  await dayOutage("ESP32 default sensors (sht3x: temperature, humidity)", ["temperature", "humidity"]),
  await dayOutage("simulator sensors (sim, sim-analog: 3 keys)", ["temperature", "humidity", "analog"]),
];
const wearLines: string[] = [];
const wearRows: string[] = [];
for (const w of wear) {
  // The live outbox: its pages full (outboxSize 500 ≈ 7 pages of ≈ 75 values) plus the token.
  const liveEntries = w.pagesAtEnd * (2 + Math.ceil(1024 / 32)) + 4;
  const perSector = sectorErasesPerDay(w, liveEntries) / NVS_SECTORS;
  const years = FLASH_ENDURANCE / perSector / 365;
  wearLines.push(
    `${w.name}: ${w.sampled} values sampled in 24 h without the platform, ${w.persisted} written to flash, ${w.dropped} dropped (outboxSize 500); ` +
      `${w.writes} page writes and ${w.erases} erases a day (${Math.round(w.bytesWritten / 1024)} KB, ${w.nvsEntries} NVS entries); ` +
      `≈ ${fixed(perSector, 1)} erases per NVS sector a day: ${FLASH_ENDURANCE.toLocaleString("en")} cycles last ≈ ${Math.round(years)} years of continuous outage`,
  );
  wearRows.push(
    `| ${w.name} | ${w.sampled} | ${w.persisted} | ${w.dropped} | ${w.writes} | ${w.erases} | ${Math.round(w.bytesWritten / 1024)} | ${w.nvsEntries} | ${fixed(perSector, 1)} | ${Math.round(years)} |`,
  );
}
for (const line of wearLines) console.log(line);

let memory: OutboxMemoryReport | undefined;
try {
  memory = await measureOutboxMemory();
  for (const line of memory.lines) console.log(line);
} catch (error) {
  console.log(`XS memory not measured: ${error instanceof Error ? error.message : String(error)}`);
}

if (process.argv.includes("--record")) {
  const target = new URL("../../bench/RESULTS-outbox.md", import.meta.url);
  writeFileSync(
    target,
    [
      "# The flash outbox and the drain at capacity",
      "",
      `Recorded ${new Date().toISOString().slice(0, 10)} with \`node build/bench/outbox.bench.js --record\` (part of \`npm run bench\`).`,
      "Deterministic: fake clock, seeded loss and sensors.",
      "",
      "## Goodput with a standing backlog through 30 % loss each way",
      "",
      `${MINUTES} simulated minutes after a minute of build-up, per row: the real endpoint (default transmission parameters,`,
      "ACK_TIMEOUT 2 s) and theThings.IO client over test/sim's network (30 % loss each way, 20 ms ± 10 ms), the",
      "simulated sensors at 20 values/s (temperature and humidity with 2 decimals, a 12-bit analog input), bufferSize 500,",
      "maxDelay 1 s. The floor is what the documented JSON body needs per value however large the batch: the value's own",
      '`{"key":…,"value":…,"datetime":…}` item and its comma; the frame `{"values":[]}` and the drop reports are the rest.',
      "",
      "| keys | batch | drain | values stored/s | values per write | body B/value | floor B/value | × floor | × floor, drop reports aside |",
      "|---|---:|---|---:|---:|---:|---:|---:|---:|",
      ...rows,
      "",
      `Targets: ≥ ${GOODPUT_TARGET}× goodput with batch 10; body within 5 % of the floor (≤ ${BYTES_TARGET}×).`,
      "",
      "## Flash wear: a day-long outage at the default settings",
      "",
      "Defaults: interval 10 s, batch 20, maxDelay 60 s, persistAfter 90 s (auto), outboxSize 500, bufferSize 500,",
      "16 slots of 1024 bytes (the Moddable store); the platform never answers for 24 h.",
      "",
      "| sensors | values/day | to flash | dropped | page writes/day | erases/day | KB written/day | NVS entries/day | erases per sector/day | years at 100,000 cycles |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
      ...wearRows,
      "",
      "NVS figures: a blob of B bytes takes 2 + ⌈B/32⌉ entries of 32 bytes; the default partition table's 24 KB NVS",
      "partition has six 4 KB sectors of 126 entries, one kept free for its garbage collection; the erase count per sector",
      "assumes NVS spreads its log over all six and counts the write amplification of the live entries it moves.",
      "",
      "## RAM on the XS engine",
      "",
      "Telemetry at the defaults on xsnap, ten simulated minutes a phase (an hour for the outage), after a forced GC;",
      "the store's pages stand for the flash and are left out of the bytes. Slots are 32 bytes on this 64-bit host",
      "and 16 on the ESP32.",
      "",
      "| phase | slots | slots over the baseline | on the ESP32 | other heap bytes over the baseline |",
      "|---|---:|---:|---:|---:|",
      ...(memory === undefined ? ["| (not measured) | | | | |"] : memory.rows),
      "",
    ].join("\n"),
  );
  console.log(`wrote ${target.pathname}`);
}
