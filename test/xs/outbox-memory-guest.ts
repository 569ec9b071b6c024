// The XS side of tools/xs-outbox-memory.ts: telemetry on a fake clock, with and without a flash
// outbox (a MemoryPageStore, whose pages stand for the flash and are reported apart), driven
// through xsnap's command channel phase by phase: {op: "phase", name}, then {op: "gc"} so the host
// reads the heap. Each phase reports what the store holds, so the host can tell RAM from "flash".
import { decodeUtf8, encodeUtf8 } from "../../kernel/utf8.js";
import type { BatchOutcome } from "../../sensors/batch-sink.js";
import { SimulatedClimateSensor } from "../../sensors/simulated-climate.js";
import { Telemetry } from "../../sensors/telemetry.js";
import { MemoryPageStore } from "../core-fakes/page-stores.js";
import { FakeClock } from "../sim/fake-clock.js";
import { SeededRandom } from "../sim/seeded-random.js";

declare function gc(): void;

const clock = new FakeClock({ startAt: 0, settleTurns: 8 });
const random = new SeededRandom(3);
const store = new MemoryPageStore(16, 1024);
let online = true;
let telemetry: Telemetry | undefined;

function make(withOutbox: boolean): Telemetry {
  telemetry?.close();
  const stored: BatchOutcome = { kind: "stored" };
  return new Telemetry({
    bindings: [
      {
        sensor: new SimulatedClimateSensor({ random }),
        readings: [
          { path: "temperature", key: "temperature", decimals: 2 },
          { path: "humidity", key: "humidity", decimals: 1 },
        ],
      },
    ],
    sink: { send: async () => (online ? stored : { kind: "unavailable", reason: "offline" }) },
    clock,
    wallClock: { utcNow: () => Date.UTC(2024, 4, 6) + clock.now() },
    random,
    config: {},
    pages: withOutbox ? store : undefined,
  });
}

/** Each phase: ten simulated minutes at the defaults (10 s interval, batch 20, maxDelay 60 s). */
async function phase(name: string): Promise<object> {
  if (name === "without outbox" || name === "without outbox, again" || name === "with outbox") {
    telemetry = make(name === "with outbox");
    telemetry.start();
    online = true;
  } else if (name === "outage") online = false;
  else if (name === "drain") online = true;
  await clock.advance(name === "outage" ? 60 * 60_000 : 10 * 60_000);
  const storeBytes = store.pages.reduce((sum, page) => sum + (page?.length ?? 0), 0);
  return { name, counters: telemetry!.counters, storePages: store.used, storeBytes };
}

(globalThis as { handleCommand?: (message: ArrayBuffer) => unknown }).handleCommand = (message) => {
  const command = JSON.parse(decodeUtf8(new Uint8Array(message))) as { op: string; name?: string };
  if (command.op === "gc") {
    gc();
    gc();
    return new ArrayBuffer(0);
  }
  const reply: { result?: ArrayBuffer } = {};
  const finish = (value: unknown): void => {
    reply.result = encodeUtf8(JSON.stringify(value)).buffer as ArrayBuffer;
  };
  phase(command.name ?? "").then(finish, (error: unknown) => finish({ error: String(error) }));
  return reply;
};
