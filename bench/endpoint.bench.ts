// Confirmable round trips per second over loopback against a node-coap server, our endpoint
// side by side with node-coap's own client (coap.request through an Agent) in the same run.
// Each client sends one CON GET, waits for the piggybacked response, sends the next: the
// device's pattern under NSTART = 1. The server runs in a child process (this file started with
// --server), so the clients do not share an event loop with it; the contenders alternate in
// rounds so machine load hits both alike; the ratio is the median of the per-round ratios.
// `node build/bench/endpoint.bench.js [--record]` (part of `npm run bench`); --record writes
// bench/RESULTS-endpoint.md. Bounded: about 10 s.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import * as coap from "coap";
import { CoapEndpoint } from "../coap/endpoint.js";
import type { PeerAddress } from "../coap/peer-address.js";
import { NodeClock } from "../host/node-clock.js";
import { NodeRandom } from "../host/node-random.js";
import { NodeDatagramPort } from "../host/node-udp.js";
import { thousands } from "./measure.js";

const LOOPBACK = "127.0.0.1";
const ROUNDS = 8;
const ROUND_MS = 500;
const WARMUP_MS = 800;
const PAYLOAD = '{"status":"success","message":"ok"}';

/** The server half: a node-coap server answering GET /rt, printing its port on stdout. */
function runServer(): void {
  const server = coap.createServer((_req, res) => {
    res.setOption("Content-Format", "application/json");
    res.end(PAYLOAD);
  });
  server.listen(0, LOOPBACK, () => {
    const port = (server as unknown as { _sock: import("node:dgram").Socket })._sock.address().port;
    process.stdout.write(`port ${port}\n`);
  });
  // The parent closes stdin when it is done (or dies): then so does the server.
  process.stdin.on("end", () => process.exit(0));
  process.stdin.resume();
}

function startServer(): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--server"], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /port (\d+)/.exec(out);
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
}

type RoundTrip = () => Promise<void>;

/** Sequential round trips for `ms`; returns round trips per second. */
async function rate(roundTrip: RoundTrip, ms: number): Promise<number> {
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    await roundTrip();
    count++;
    elapsed = performance.now() - start;
  } while (elapsed < ms);
  return (count * 1000) / elapsed;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function ourClient(server: PeerAddress): Promise<{ roundTrip: RoundTrip; close: () => void }> {
  const port = await NodeDatagramPort.open({ address: LOOPBACK });
  const endpoint = new CoapEndpoint({ port, server, clock: new NodeClock(), random: new NodeRandom() });
  return {
    roundTrip: async () => {
      const response = await endpoint.request({ method: "GET", path: "/rt" });
      if (response.payload.length !== PAYLOAD.length) throw new Error("unexpected response");
    },
    close: () => endpoint.close(),
  };
}

function theirClient(server: PeerAddress): { roundTrip: RoundTrip; close: () => void } {
  const agent = new coap.Agent({ type: "udp4" });
  return {
    roundTrip: () =>
      new Promise<void>((resolve, reject) => {
        const request = coap.request({
          hostname: server.address,
          port: server.port,
          pathname: "/rt",
          method: "GET",
          confirmable: true,
          agent,
        });
        request.on("response", (response: coap.IncomingMessage) => {
          if (response.payload.length !== PAYLOAD.length) reject(new Error("unexpected response"));
          else resolve();
        });
        request.on("error", reject);
        request.end();
      }),
    close: () => agent.close(),
  };
}

interface Figures {
  readonly ours: number;
  readonly theirs: number;
  readonly ratio: number;
  readonly low: number;
  readonly high: number;
}

async function main(): Promise<Figures> {
  const { child, port } = await startServer();
  const server = { address: LOOPBACK, port };
  const ours = await ourClient(server);
  const theirs = theirClient(server);
  try {
    await rate(ours.roundTrip, WARMUP_MS);
    await rate(theirs.roundTrip, WARMUP_MS);
    const oursRates: number[] = [];
    const theirsRates: number[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const oursFirst = round % 2 === 0;
      const a = await rate(oursFirst ? ours.roundTrip : theirs.roundTrip, ROUND_MS);
      const b = await rate(oursFirst ? theirs.roundTrip : ours.roundTrip, ROUND_MS);
      const o = oursFirst ? a : b;
      const t = oursFirst ? b : a;
      oursRates.push(o);
      theirsRates.push(t);
      ratios.push(o / t);
    }
    return {
      ours: median(oursRates),
      theirs: median(theirsRates),
      ratio: median(ratios),
      low: Math.min(...ratios),
      high: Math.max(...ratios),
    };
  } finally {
    ours.close();
    theirs.close();
    child.stdin!.end();
  }
}

function resultsMarkdown(f: Figures): string {
  return [
    "# Endpoint benchmark: confirmable round trips over loopback",
    "",
    `Recorded ${new Date().toISOString().slice(0, 10)} with \`node build/bench/endpoint.bench.js --record\` (part of \`npm run bench\`),`,
    `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, load average ${loadavg()[0]!.toFixed(1)} at the end`,
    "(a shared machine: absolute rates move with its load; alternating rounds expose both clients to it alike).",
    "",
    "One CON GET at a time (NSTART = 1), each waiting for its piggybacked 2.05 response, against a",
    "node-coap server in a child process; the two clients alternate in rounds of",
    `${ROUND_MS} ms (${ROUNDS} rounds, after ${WARMUP_MS} ms of warm-up each).`,
    "",
    "| client | round trips / s (median) |",
    "|---|---:|",
    `| this endpoint (coap/endpoint.ts over host/node-udp.ts) | ${thousands(f.ours)} |`,
    `| node-coap ${coapVersion()} client (coap.request, one Agent) | ${thousands(f.theirs)} |`,
    "",
    `Ratio ours / node-coap: **${f.ratio.toFixed(2)}** (rounds ranged ${f.low.toFixed(2)}–${f.high.toFixed(2)}).`,
    "",
  ].join("\n");
}

function coapVersion(): string {
  try {
    const manifest = JSON.parse(
      readFileSync(new URL("../../node_modules/coap/package.json", import.meta.url), "utf8"),
    ) as { version?: string };
    return manifest.version ?? "?";
  } catch {
    return "?";
  }
}

if (process.argv.includes("--server")) {
  runServer();
} else {
  const figures = await main();
  console.log(`endpoint   ${thousands(figures.ours).padStart(8)} CON round trips/s`);
  console.log(`node-coap  ${thousands(figures.theirs).padStart(8)} CON round trips/s`);
  console.log(
    `ratio ours/node-coap ${figures.ratio.toFixed(2)} (rounds ${figures.low.toFixed(2)}–${figures.high.toFixed(2)})`,
  );
  if (process.argv.includes("--record")) {
    writeFileSync(new URL("../../bench/RESULTS-endpoint.md", import.meta.url), resultsMarkdown(figures));
    console.log("wrote bench/RESULTS-endpoint.md");
  }
}
