// Load on the local platform: N things, each its own UDP client, write concurrently (one CON
// write outstanding per thing, the next sent as soon as the reply arrives) for a while over
// loopback. Then every thing reads all its values back through the API and the driver checks
// that each acknowledged value is there exactly once.

import { randomBytes } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { Worker } from "node:worker_threads";
import { generate, type ParsedPacket, parse } from "coap-packet";

export interface LoadOptions {
  things: number;
  seconds: number;
  /** SQLite file for the platform; default in memory. */
  dbPath?: string;
}

export interface LoadResult {
  things: number;
  seconds: number;
  /** Writes acknowledged with 2.01. */
  acknowledged: number;
  writesPerSecond: number;
  /** Round-trip times of acknowledged writes, ms. */
  latencyMs: { p50: number; p99: number; max: number };
  /** Requests sent again after no reply in RETRY_MS. */
  retransmissions: number;
  /** Writes answered with anything but 2.01. */
  failed: number;
  /** Acknowledged values not read back. */
  missing: number;
  /** Values read back more than once. */
  duplicated: number;
  /** Values read back that were never acknowledged nor in flight. */
  unexpected: number;
}

// One value per write. Each value carries its own datetime, one millisecond per sequence number,
// so reading back can page with endDate exclusive of what was seen and never overlap.
const EPOCH = Date.UTC(2024, 0, 1);
const RETRY_MS = 1000;
const MAX_TRIES = 5;
// Items of ~62 bytes: 15 of them stay under one 1024-byte block, so reads need no Block2.
export const READ_PAGE = 15;

/** One UDP client of the platform: CON requests with retransmission, matched by token. */
export class Endpoint {
  readonly #socket: Socket;
  readonly #port: number;
  #messageId = randomBytes(2).readUInt16BE(0);
  readonly #pending = new Map<string, (p: ParsedPacket) => void>();
  retransmissions = 0;

  private constructor(socket: Socket, port: number) {
    this.#socket = socket;
    this.#port = port;
    socket.on("message", (msg) => {
      const packet = parse(msg);
      const key = packet.token.toString("hex");
      const resolve = this.#pending.get(key);
      if (resolve !== undefined && packet.code !== "0.00") {
        this.#pending.delete(key);
        resolve(packet);
      }
    });
  }

  static open(port: number): Promise<Endpoint> {
    const socket = createSocket("udp4");
    return new Promise((resolve) => socket.bind(0, "127.0.0.1", () => resolve(new Endpoint(socket, port))));
  }

  /** A CON request, sent again with the same message ID until answered (RFC 7252 §4.2). */
  async request(
    code: string,
    path: readonly string[],
    query: readonly string[],
    payload: string,
  ): Promise<ParsedPacket> {
    this.#messageId = (this.#messageId + 1) & 0xffff;
    const token = randomBytes(4);
    const datagram = generate({
      messageId: this.#messageId,
      token,
      code,
      confirmable: true,
      options: [
        ...path.map((p) => ({ name: "Uri-Path", value: Buffer.from(p) })),
        ...query.map((q) => ({ name: "Uri-Query", value: Buffer.from(q) })),
      ],
      payload: Buffer.from(payload),
    });
    const reply = new Promise<ParsedPacket>((resolve) => this.#pending.set(token.toString("hex"), resolve));
    for (let attempt = 1; ; attempt++) {
      this.#socket.send(datagram, this.#port, "127.0.0.1");
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), RETRY_MS)));
      const answer = await Promise.race([reply, timeout]);
      clearTimeout(timer);
      if (answer !== undefined) return answer;
      if (attempt === MAX_TRIES) throw new Error(`no reply after ${MAX_TRIES} tries`);
      this.retransmissions++;
    }
  }

  close(): void {
    this.#socket.close();
  }
}

/** The platform in a worker thread; with `dashboard`, its web dashboard on a free port too. */
export class PlatformWorker {
  readonly port: number;
  /** The dashboard's HTTP port, or 0 without one. */
  readonly httpPort: number;
  readonly #worker: Worker;

  private constructor(worker: Worker, port: number, httpPort: number) {
    this.#worker = worker;
    this.port = port;
    this.httpPort = httpPort;
  }

  static async start(codes: readonly string[], dbPath: string, dashboard = false): Promise<PlatformWorker> {
    const worker = new Worker(new URL("./platform-load-worker.js", import.meta.url), {
      workerData: { activationCodes: codes, dbPath, dashboard },
    });
    const ports = await new Promise<{ port: number; httpPort: number }>((resolve, reject) => {
      worker.once("message", (m: { port: number; httpPort: number }) => resolve(m));
      worker.once("error", reject);
    });
    return new PlatformWorker(worker, ports.port, ports.httpPort);
  }

  /** The platform thread's heap (after a garbage collection) and the dashboard's counters. */
  memory(): Promise<WorkerMemory> {
    return new Promise((resolve) => {
      this.#worker.once("message", (m: WorkerMemory) => resolve(m));
      this.#worker.postMessage("memory");
    });
  }

  async stop(): Promise<void> {
    this.#worker.postMessage("stop");
    await new Promise((resolve) => this.#worker.once("exit", resolve));
  }
}

export interface WorkerMemory {
  /** V8 heap in use in the platform's thread, bytes, after a full garbage collection. */
  heapUsed: number;
  /** The whole process's resident set (SQLite's memory database included), bytes. */
  rss: number;
  dashboard: { clients: number; dropped: number; refused: number; reads: number } | undefined;
}

/** Activates one thing per endpoint with its code; the tokens in the same order. */
export function activateAll(endpoints: readonly Endpoint[], codes: readonly string[]): Promise<string[]> {
  return Promise.all(
    endpoints.map(async (e, i) => {
      const reply = await e.request("0.02", ["v2", "things", ""], [], JSON.stringify({ activationCode: codes[i] }));
      const body = JSON.parse(reply.payload.toString()) as { thingToken?: string };
      if (reply.code !== "2.01" || body.thingToken === undefined) throw new Error(`activation failed: ${reply.code}`);
      return body.thingToken;
    }),
  );
}

export interface Integrity {
  /** Acknowledged values not read back. */
  missing: number;
  /** Values read back more than once. */
  duplicated: number;
  /** Values read back that were never acknowledged nor in flight. */
  unexpected: number;
}

/**
 * Every thing reads all its values of `key` back through the API (pages of READ_PAGE, endDate one
 * millisecond before the oldest seen: each value has a datetime of its own) and compares them
 * with what was acknowledged and what was still in flight when the run ended.
 */
export async function readBack(
  endpoints: readonly Endpoint[],
  tokens: readonly string[],
  key: string,
  acknowledged: readonly Set<number>[],
  inFlight: readonly Set<number>[],
): Promise<Integrity> {
  let missing = 0;
  let duplicated = 0;
  let unexpected = 0;
  await Promise.all(
    endpoints.map(async (e, thing) => {
      const seen = new Map<number, number>();
      let endDate = "";
      for (;;) {
        const query = [`limit=${READ_PAGE}`, ...(endDate === "" ? [] : [`endDate=${endDate}`])];
        const reply = await e.request("0.01", ["v2", "things", tokens[thing] as string, "resources", key], query, "");
        if (reply.code !== "2.05") throw new Error(`read failed: ${reply.code} ${reply.payload.toString()}`);
        const items = JSON.parse(reply.payload.toString()) as { value: number; datetime: string }[];
        for (const item of items) seen.set(item.value, (seen.get(item.value) ?? 0) + 1);
        if (items.length < READ_PAGE) break;
        // endDate is inclusive: one millisecond before the oldest value read so far.
        endDate = new Date(Date.parse((items.at(-1) as { datetime: string }).datetime) - 1).toISOString();
      }
      const acked = acknowledged[thing] as Set<number>;
      for (const seq of acked) if (!seen.has(seq)) missing++;
      for (const [seq, count] of seen) {
        if (count > 1) duplicated++;
        if (!acked.has(seq) && !(inFlight[thing] as Set<number>).has(seq)) unexpected++;
      }
    }),
  );
  return { missing, duplicated, unexpected };
}

/** The q-quantile of ascending `sorted`, to 0.01 ms. */
export function quantile(sorted: readonly number[], q: number): number {
  const at = sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return Math.round(at * 100) / 100;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const codes = Array.from({ length: options.things }, (_, i) => `LOAD-${i}-${randomBytes(8).toString("hex")}`);
  const platform = await PlatformWorker.start(codes, options.dbPath ?? ":memory:");
  const endpoints = await Promise.all(codes.map(() => Endpoint.open(platform.port)));
  try {
    const tokens = await activateAll(endpoints, codes);

    const latencies: number[] = [];
    const acknowledgedPerThing = endpoints.map(() => new Set<number>());
    const inFlightAtEnd = endpoints.map(() => new Set<number>());
    let failed = 0;
    const started = performance.now();
    const deadline = started + options.seconds * 1000;
    await Promise.all(
      endpoints.map(async (e, thing) => {
        const token = tokens[thing] as string;
        for (let seq = 0; performance.now() < deadline; seq++) {
          const payload = JSON.stringify({
            values: [{ key: "load", value: seq, datetime: new Date(EPOCH + seq).toISOString() }],
          });
          const sent = performance.now();
          try {
            const reply = await e.request("0.02", ["v2", "things", token], [], payload);
            if (reply.code === "2.01") {
              acknowledgedPerThing[thing]?.add(seq);
              latencies.push(performance.now() - sent);
            } else {
              failed++;
            }
          } catch {
            // Given up on: it may or may not have been stored, but at most once.
            inFlightAtEnd[thing]?.add(seq);
          }
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const integrity = await readBack(endpoints, tokens, "load", acknowledgedPerThing, inFlightAtEnd);

    latencies.sort((a, b) => a - b);
    const acknowledged = acknowledgedPerThing.reduce((n, s) => n + s.size, 0);
    return {
      things: options.things,
      seconds: Math.round(elapsed * 100) / 100,
      acknowledged,
      writesPerSecond: Math.round(acknowledged / elapsed),
      latencyMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: quantile(latencies, 1) },
      retransmissions: endpoints.reduce((n, e) => n + e.retransmissions, 0),
      failed,
      ...integrity,
    };
  } finally {
    for (const e of endpoints) e.close();
    await platform.stop();
  }
}
