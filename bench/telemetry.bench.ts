// Telemetry on the wire: values per datagram and bytes per value, batched (sensors/telemetry.ts
// over a day of simulated sensors) against one write per value. Every figure counts real CoAP
// datagrams, encoded with coap/codec.ts encodeMessage: a CON POST /v2/things/{43-character token}
// with a 4-byte token and Content-Format 50, carrying the body telemetry sized. Deterministic (a
// seeded simulation, no timing). `--record` also writes bench/RESULTS-telemetry.md.
import { writeFileSync } from "node:fs";
import {
  Code,
  ContentFormat,
  encodeMessage,
  encodeUtf8,
  MessageType,
  OptionNumber,
  pathOptions,
  utf8Length,
} from "../coap/codec.js";
import { encodeBatchPayload } from "../sensors/batch-payload.js";
import type { BatchOutcome, BatchValue } from "../sensors/batch-sink.js";
import type { SensorBinding } from "../sensors/sensor-binding.js";
import { SimulatedAnalogInput } from "../sensors/simulated-analog.js";
import { SimulatedClimateSensor } from "../sensors/simulated-climate.js";
import { Telemetry } from "../sensors/telemetry.js";
import type { TelemetrySettings } from "../sensors/telemetry-config.js";
import { FakeClock } from "../test/sim/fake-clock.js";
import { SeededRandom } from "../test/sim/seeded-random.js";

const TARGET_VALUES_PER_DATAGRAM = 15;
const TARGET_BYTE_RATIO = 1 / 5;
/** A thing token has 43 characters from [A-Za-z0-9_-] (thethings-coap-api.md). */
const THING_TOKEN = "Xk3_9fQ-2mZpL7vR0tYbN4sWq8eJcH1uGdA6oIiK5yT";
const COAP_TOKEN = new Uint8Array([0x5a, 0x1b, 0x2c, 0x3d]);
/** IPv4 (20) + UDP (8) headers: what each datagram costs on the link beyond its CoAP bytes. */
const IP_UDP_BYTES = 28;
const SIMULATED_HOURS = 24;
/** 2024-05-06T00:00:00Z: the wall clock is set from the start (SNTP done). */
const START_UTC = Date.UTC(2024, 4, 6);

function writeRequest(payload: string, messageId: number): Uint8Array {
  return encodeMessage({
    type: MessageType.CON,
    code: Code.POST,
    messageId,
    token: COAP_TOKEN,
    options: [
      ...pathOptions(`/v2/things/${THING_TOKEN}`),
      { number: OptionNumber.ContentFormat, value: ContentFormat.Json },
    ],
    payload: encodeUtf8(payload),
  });
}

/** The piggybacked 2.01 the platform answers a write with ({"status":"created"}, from a capture). */
function writeReply(messageId: number): Uint8Array {
  return encodeMessage({
    type: MessageType.ACK,
    code: Code.Created,
    messageId,
    token: COAP_TOKEN,
    options: [{ number: OptionNumber.ContentFormat, value: ContentFormat.Json }],
    payload: encodeUtf8('{"status":"created"}'),
  });
}

interface WireTotals {
  readonly datagrams: number;
  readonly values: number;
  /** CoAP request bytes. */
  readonly requestBytes: number;
  /** Request + reply, each with IP/UDP headers. */
  readonly linkBytes: number;
  readonly minValues: number;
  readonly maxValues: number;
  readonly maxPayload: number;
}

/** Totals for writing `batches` (each one request), counting only sampled values as values. */
function wireTotals(batches: readonly (readonly BatchValue[])[], isReport: (v: BatchValue) => boolean): WireTotals {
  let requestBytes = 0;
  let linkBytes = 0;
  let values = 0;
  let minValues = Number.POSITIVE_INFINITY;
  let maxValues = 0;
  let maxPayload = 0;
  batches.forEach((batch, i) => {
    const payload = encodeBatchPayload(batch);
    const request = writeRequest(payload, i & 0xffff);
    const count = batch.filter((v) => !isReport(v)).length;
    requestBytes += request.length;
    linkBytes += request.length + writeReply(i & 0xffff).length + 2 * IP_UDP_BYTES;
    values += count;
    minValues = Math.min(minValues, count);
    maxValues = Math.max(maxValues, count);
    maxPayload = Math.max(maxPayload, utf8Length(payload));
  });
  return { datagrams: batches.length, values, requestBytes, linkBytes, minValues, maxValues, maxPayload };
}

interface Scenario {
  readonly name: string;
  readonly keys: { readonly temperature: string; readonly humidity: string; readonly analog: string };
  readonly settings: TelemetrySettings;
}

interface ScenarioResult {
  readonly scenario: Scenario;
  readonly batched: WireTotals;
  /** The same values, one write each, without datetime (the platform stamps arrival). */
  readonly single: WireTotals;
  /** The same values, one write each, with their datetime. */
  readonly singleDated: WireTotals;
  readonly counters: Telemetry["counters"];
}

/** A day of the simulated sensor set through the real telemetry loop, a sink that stores every batch. */
async function runScenario(scenario: Scenario): Promise<ScenarioResult> {
  const clock = new FakeClock({ startAt: 0, settleTurns: 8 });
  const random = new SeededRandom(2024);
  const climate = new SimulatedClimateSensor({ random });
  const analog = new SimulatedAnalogInput({ random });
  const bindings: SensorBinding[] = [
    {
      sensor: climate,
      readings: [
        { path: "temperature", key: scenario.keys.temperature, decimals: 2 },
        { path: "humidity", key: scenario.keys.humidity, decimals: 2 },
      ],
    },
    { sensor: analog, readings: [{ path: "raw", key: scenario.keys.analog }] },
  ];
  const batches: (readonly BatchValue[])[] = [];
  const stored: BatchOutcome = { kind: "stored" };
  const telemetry = new Telemetry({
    bindings,
    sink: {
      send: async (values) => {
        batches.push(values);
        return stored;
      },
    },
    clock,
    wallClock: { utcNow: () => START_UTC + clock.now() },
    random,
    config: scenario.settings,
  });
  telemetry.start();
  await clock.advance(SIMULATED_HOURS * 3_600_000);
  telemetry.close();
  const dropped = telemetry.config.droppedKey;
  const isReport = (v: BatchValue) => v.key === dropped;
  const all = batches.flat().filter((v) => !isReport(v));
  return {
    scenario,
    batched: wireTotals(batches, isReport),
    single: wireTotals(
      all.map((v) => [{ key: v.key, value: v.value }]),
      isReport,
    ),
    singleDated: wireTotals(
      all.map((v) => [v]),
      isReport,
    ),
    counters: telemetry.counters,
  };
}

const LONG_KEYS = { temperature: "temperature", humidity: "humidity", analog: "analog" };
const SCENARIOS: readonly Scenario[] = [
  { name: "defaults (interval 10 s, batch 20, maxDelay 60 s)", keys: LONG_KEYS, settings: {} },
  {
    name: "slow sampling, delay-bound (interval 60 s, maxDelay 4 min)",
    keys: LONG_KEYS,
    settings: { intervalMs: 60_000, maxDelayMs: 240_000 },
  },
  {
    name: "payload-bound, one-letter keys",
    keys: { temperature: "t", humidity: "h", analog: "a" },
    settings: { batch: 100, maxDelayMs: 600_000 },
  },
];

function perValue(bytes: number, values: number): number {
  return bytes / values;
}

function fixed(value: number, digits = 1): string {
  return value.toFixed(digits);
}

interface Row {
  readonly result: ScenarioResult;
  readonly valuesPerDatagram: number;
  readonly batchedPerValue: number;
  readonly singlePerValue: number;
  readonly singleDatedPerValue: number;
  readonly ratio: number;
  readonly ratioDated: number;
  readonly linkRatio: number;
  /** Bytes per value batching tends to with unbounded batches: the value item alone (+ comma). */
  readonly floorRatio: number;
}

function row(result: ScenarioResult): Row {
  const { batched, single, singleDated } = result;
  const batchedPerValue = perValue(batched.requestBytes, batched.values);
  const singlePerValue = perValue(single.requestBytes, single.values);
  const singleDatedPerValue = perValue(singleDated.requestBytes, singleDated.values);
  // Per value, a batch costs its item and a comma; the request's fixed part is shared.
  const fixedPart = writeRequest(encodeBatchPayload([]), 0).length;
  const itemsPerValue = (batched.requestBytes - batched.datagrams * fixedPart) / batched.values;
  return {
    result,
    valuesPerDatagram: batched.values / batched.datagrams,
    batchedPerValue,
    singlePerValue,
    singleDatedPerValue,
    ratio: batchedPerValue / singlePerValue,
    ratioDated: batchedPerValue / singleDatedPerValue,
    linkRatio: perValue(batched.linkBytes, batched.values) / perValue(single.linkBytes, single.values),
    floorRatio: itemsPerValue / singlePerValue,
  };
}

function verdict(ok: boolean): string {
  return ok ? "met" : "MISSED";
}

function report(rows: readonly Row[]): string[] {
  const lines: string[] = [];
  for (const r of rows) {
    const b = r.result.batched;
    lines.push(
      `${r.result.scenario.name}:`,
      `  ${b.values} values in ${b.datagrams} datagrams over ${SIMULATED_HOURS} h: ${fixed(r.valuesPerDatagram, 2)} values/datagram (min ${b.minValues}, max ${b.maxValues}), largest payload ${b.maxPayload} B ≤ 1024`,
      `  request bytes/value: batched ${fixed(r.batchedPerValue)}, one write per value ${fixed(r.singlePerValue)} (with datetime ${fixed(r.singleDatedPerValue)})`,
      `  ratio ${fixed(r.ratio, 3)} (vs dated single writes ${fixed(r.ratioDated, 3)}; on the link, reply and IP/UDP included, ${fixed(r.linkRatio, 3)}); floor with unbounded batches ${fixed(r.floorRatio, 3)}`,
      `  targets: ≥ ${TARGET_VALUES_PER_DATAGRAM} values/datagram ${verdict(r.valuesPerDatagram >= TARGET_VALUES_PER_DATAGRAM)}, ≤ 1/5 of the bytes/value ${verdict(r.ratio <= TARGET_BYTE_RATIO)}`,
    );
  }
  return lines;
}

function resultsMarkdown(rows: readonly Row[]): string {
  const first = rows[0]!;
  const fixedPart = writeRequest(encodeBatchPayload([]), 0).length;
  const perDatagramVerdict = verdict(rows.some((r) => r.valuesPerDatagram >= TARGET_VALUES_PER_DATAGRAM));
  const perDatagram = rows.map((r) => fixed(r.valuesPerDatagram, 2)).join(", ");
  const byteVerdict = verdict(rows.some((r) => r.ratio <= TARGET_BYTE_RATIO));
  const bestRatio = fixed(Math.min(...rows.map((r) => r.ratio)), 3);
  const lines = [
    "# Telemetry benchmark: batched writes against one write per value",
    "",
    `Recorded ${new Date().toISOString().slice(0, 10)} with \`node build/bench/telemetry.bench.js --record\` (part of \`npm run bench\`).`,
    `Deterministic: ${SIMULATED_HOURS} simulated hours of the simulated sensor set (temperature and humidity with 2 decimals,`,
    "a 12-bit analog input: 3 values a round) through the real telemetry loop, a fake clock and a sink that stores",
    "every batch. Each write is encoded as the real CoAP datagram with coap/codec.ts `encodeMessage`: CON POST",
    `/v2/things/{43-character token}, 4-byte token, Content-Format 50, the JSON body (${fixedPart} bytes before the first value).`,
    '"One write per value" sends each of the same values as its own write, without datetime (the platform stamps',
    "arrival time); the dated column adds the datetime, the same information a batch carries.",
    "",
    "| scenario | values/datagram (min–max) | largest payload | bytes/value batched | one write per value | dated single writes | ratio | ratio vs dated | ratio on the link |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map((r) => {
      const b = r.result.batched;
      return `| ${r.result.scenario.name} | ${fixed(r.valuesPerDatagram, 2)} (${b.minValues}–${b.maxValues}) | ${b.maxPayload} B | ${fixed(r.batchedPerValue)} | ${fixed(r.singlePerValue)} | ${fixed(r.singleDatedPerValue)} | ${fixed(r.ratio, 3)} | ${fixed(r.ratioDated, 3)} | ${fixed(r.linkRatio, 3)} |`;
    }),
    "",
    `Targets: ≥ ${TARGET_VALUES_PER_DATAGRAM} timestamped values per datagram — ${perDatagramVerdict} (${perDatagram}); ` +
      `≤ 1/5 of the bytes per value of unbatched writes — ${byteVerdict} (best ${bestRatio}).`,
    "",
    "Why the byte target cannot be met with this platform's write format:",
    `- In a batch every value still carries its own \`{"key":…,"value":…,"datetime":"YYYYMMDDHHmmss"}\` item; only the`,
    `  ${fixedPart}-byte request frame (CoAP header, token, Uri-Path with the thing token, Content-Format, \`{"values":[]}\`) is`,
    "  shared. So batched bytes per value can never fall below the item itself, however large the batch: that",
    `  floor (the item plus its comma, over the single-write cost) is ${rows.map((r) => fixed(r.floorRatio, 3)).join(", ")} for the scenarios above.`,
    "  A single write without datetime is barely larger than the shared frame plus one undated item, so the",
    "  ratio is bounded near 1/2, not 1/5. Reaching 1/5 would need a denser body (one datetime for many values,",
    "  arrays of samples under one key, CBOR) that the platform's documented write API does not accept.",
    `- On the link (each write also gets a 2.01 reply, and every datagram pays ${IP_UDP_BYTES} bytes of IPv4/UDP headers) batching`,
    `  saves more: ratio ${rows.map((r) => fixed(r.linkRatio, 3)).join(", ")}; and the datagram count, which is what costs radio`,
    `  wake-ups and the platform's rate limit, falls by the values-per-datagram factor (${fixed(first.valuesPerDatagram, 1)}× with the defaults).`,
    "- Against single writes that carry the same datetime the batched ratio is the dated column.",
    "",
    "Telemetry memory: the store-and-forward ring is five typed arrays allocated once, 28 bytes a value",
    "(500 values by default: 14 KB), plus the one batch in flight; nothing grows with uptime.",
    "",
  ];
  return lines.join("\n");
}

const rows: Row[] = [];
for (const scenario of SCENARIOS) rows.push(row(await runScenario(scenario)));
for (const line of report(rows)) console.log(line);
if (process.argv.includes("--record")) {
  const target = new URL("../../bench/RESULTS-telemetry.md", import.meta.url);
  writeFileSync(target, resultsMarkdown(rows));
  console.log(`wrote ${target.pathname}`);
}
