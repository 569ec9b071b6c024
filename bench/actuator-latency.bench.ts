// Platform write → actuator applied, over loopback: another client writes `led` to the thing on
// the local platform, and we time until the device (its core on Node adapters) has set its
// output. The reference, timed on the very same writes, is node-coap's own client observing the
// same thing: the time a notification takes to reach any CoAP client. Target: p99 ≤ 10 ms.
// `node build/bench/actuator-latency.bench.js [--record]` (part of `npm run bench`).

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { request } from "coap";
import { TOKEN_STORE_KEY } from "../device/provisioning.js";
import { startPlatform } from "../emulator/server.js";
import { runDevice } from "../host/run-device.js";

const WRITES = 300;
const code = "BENCHLATENCYCODE00000000000000001";

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function write(port: number, token: string, value: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ hostname: "127.0.0.1", port, pathname: `/v2/things/${token}`, method: "POST" });
    req.setOption("Content-Format", "application/json");
    req.on("response", () => resolve());
    req.on("error", reject);
    req.end(JSON.stringify({ values: [{ key: "led", value }] }));
  });
}

const platform = await startPlatform({ port: 0, activationCodes: [code] });
const stateDir = mkdtempSync(join(tmpdir(), "bench-latency-"));
let applied: ((at: number) => void) | undefined;
let subscribed = false;
const device = await runDevice({
  settings: { server: `coap://127.0.0.1:${platform.port}`, activationCode: code, interval: "1h", keepAlive: "60s" },
  stateDir,
  log: () => undefined,
  onEvent: (event) => {
    if (event.event === "subscribed") subscribed = true;
    if (event.event === "command") applied?.(performance.now());
  },
});
while (!subscribed) await new Promise((resolve) => setTimeout(resolve, 10));
const token = device.store.read(TOKEN_STORE_KEY)!;

// The reference observer: node-coap's client on the same thing.
let notified: ((at: number) => void) | undefined;
const observer = request({
  hostname: "127.0.0.1",
  port: platform.port,
  pathname: `/v2/things/${token}`,
  observe: true,
  query: "keepAlive=60000",
});
observer.on("response", (stream: NodeJS.ReadableStream) => {
  stream.on("data", (chunk: Buffer) => {
    if (chunk.toString().includes('"led"')) notified?.(performance.now());
  });
});
observer.end();
await new Promise((resolve) => setTimeout(resolve, 300));

const ours: number[] = [];
const reference: number[] = [];
for (let i = 0; i < WRITES; i++) {
  const bothArrived = Promise.all([
    new Promise<number>((resolve) => (applied = resolve)),
    new Promise<number>((resolve) => (notified = resolve)),
  ]);
  const sentAt = performance.now();
  await write(platform.port, token, i % 2);
  const [deviceAt, observerAt] = await bothArrived;
  ours.push(deviceAt - sentAt);
  reference.push(observerAt - sentAt);
}
device.stop();
await platform.stop();
rmSync(stateDir, { recursive: true, force: true });

const sortedOurs = [...ours].sort((a, b) => a - b);
const sortedReference = [...reference].sort((a, b) => a - b);
const rows = [50, 90, 99].map((p) => {
  const a = percentile(sortedOurs, p);
  const b = percentile(sortedReference, p);
  return `| p${p} | ${a.toFixed(2)} ms | ${b.toFixed(2)} ms | ${(a / b).toFixed(2)} |`;
});
const p99 = percentile(sortedOurs, 99);
const report = `# Platform write → actuator applied

Recorded ${new Date().toISOString().slice(0, 10)} with \`node build/bench/actuator-latency.bench.js --record\`,
Node ${process.version}.
${WRITES} writes of \`led\` by another client (node-coap) to the local platform over loopback; time from
the write's send to the device's output being set, and, for reference, to node-coap's own observing
client receiving the same notification.

| percentile | device (write → output set) | node-coap observer (write → notification) | ratio |
|---|---:|---:|---:|
${rows.join("\n")}

Target p99 ≤ 10 ms: ${p99 <= 10 ? "met" : "not met"} (${p99.toFixed(2)} ms).
`;
console.log(report);
if (process.argv.includes("--record"))
  writeFileSync(fileURLToPath(new URL("../../bench/RESULTS-latency.md", import.meta.url)), report);
process.exit(0);
