// Runs a portable core entry on the XS engine (npm @agoric/xsnap) with its UDP relayed through
// this Node process: the guest (test/xs/bridge-guest.ts) sends datagrams through xsnap's command
// channel, and this host sends them from a real dgram socket on loopback, delivers the replies,
// and ticks the guest's clock. Used by the end-to-end tests that run the device core on XS, and by
// the device's heap measurement (tools/device-memory.ts), which reads the guest's heap between
// commands: heap() after a collection, and with trackPeak() after every command.
import "@endo/init";
import { spawn } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import * as os from "node:os";
import { type XsnapWorker, xsnap } from "@agoric/xsnap";
import { build } from "esbuild";

export interface XsGuestOptions {
  /** Path of the compiled guest entry module (build/...js); it must call createBridgePorts(). */
  readonly entry: string;
  /** Host-side answers to the guest's ask(name, args). */
  readonly answers?: Readonly<Record<string, (...args: unknown[]) => unknown>>;
  readonly onEvent?: (event: Record<string, unknown>) => void;
  readonly onLog?: (level: string, message: string) => void;
  /** How often the guest's clock advances, ms. */
  readonly tickMs?: number;
}

/** The live heap of the guest, read from a heap snapshot (which collects first). */
export interface XsHeapSample {
  /** Live slots (the snapshot's "HEAP" atom: 32 bytes each in xsnap on a 64-bit host). */
  readonly slots: number;
  /** Live chunk bytes, headers included (the "BLOC" atom). */
  readonly chunkBytes: number;
}

export interface XsGuest {
  /** Calls a function the guest exposed. */
  call(name: string, ...args: unknown[]): Promise<unknown>;
  /** The live heap between two commands; with `keep`, the snapshot's bytes too (tools/xs-heap.ts reads them). */
  heap(keep?: boolean): Promise<XsHeapSample & { readonly snapshot?: Uint8Array }>;
  /**
   * From now on the heap is read after every command (each tick, datagram and call), until
   * peak() is called: the largest live heap between two commands. Slows the guest down (a
   * snapshot per command, a few ms each).
   */
  trackPeak(): void;
  /**
   * The largest heap seen since trackPeak() (by slots × 16 + chunk bytes, as on the ESP32), with
   * its snapshot, and stops tracking.
   */
  peak(): Promise<XsHeapSample & { readonly samples: number; readonly snapshot?: Uint8Array }>;
  /** The error that stopped the guest, if any. */
  readonly failure: Error | undefined;
  stop(): Promise<void>;
}

interface GuestMessage {
  kind: string;
  socket?: number;
  hex?: string;
  address?: string;
  port?: number;
  level?: string;
  message?: string;
  event?: Record<string, unknown>;
  name?: string;
  args?: unknown[];
}

interface SnapshotWorker {
  makeSnapshotStream(): AsyncIterable<Uint8Array>;
}

/** Takes a heap snapshot of `worker` (xsnap collects first) and reads its HEAP and BLOC atoms. */
async function sampleHeap(worker: XsnapWorker, keep: boolean): Promise<XsHeapSample & { snapshot?: Uint8Array }> {
  const parts: Uint8Array[] = [];
  for await (const chunk of (worker as unknown as SnapshotWorker).makeSnapshotStream()) parts.push(chunk);
  const bytes = Buffer.concat(parts);
  let slots = -1;
  let chunkBytes = -1;
  for (let at = 8; at + 8 <= bytes.length; ) {
    const size = bytes.readUInt32BE(at);
    const type = bytes.toString("latin1", at + 4, at + 8);
    if (type === "HEAP") slots = (size - 8) / 32;
    else if (type === "BLOC") chunkBytes = size - 8;
    at += size;
  }
  if (slots < 0 || chunkBytes < 0) throw new Error("the heap snapshot has no HEAP or BLOC atom");
  return keep ? { slots, chunkBytes, snapshot: new Uint8Array(bytes) } : { slots, chunkBytes };
}

/** Bundles a compiled entry module and everything it imports into one script XS can evaluate. */
export async function bundleForXs(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "iife",
    target: "es2022",
    platform: "neutral",
    logLevel: "error",
  });
  return result.outputFiles[0]!.text;
}

/**
 * An xsnap worker with no metering limit, its output on ours, answering the guest's issueCommand with `handleCommand`.
 */
export function spawnXsWorker(
  name: string,
  handleCommand: (message: Uint8Array) => Promise<Uint8Array>,
): Promise<XsnapWorker> {
  return xsnap({
    os: os.type(),
    spawn,
    fs: {} as never,
    name,
    stdout: "inherit",
    stderr: "inherit",
    meteringLimit: 0,
    handleCommand,
  });
}

export async function startXsGuest(options: XsGuestOptions): Promise<XsGuest> {
  const code = await bundleForXs(options.entry);
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const started = performance.now();
  const now = (): number => performance.now() - started;
  const sockets = new Map<number, Socket>();
  let worker: XsnapWorker | undefined;
  let failure: Error | undefined;
  let stopped = false;
  let peak: { slots: number; chunkBytes: number; samples: number; snapshot?: Uint8Array } | undefined;
  // One command at a time: the guest is single-threaded and xsnap serialises anyway; chaining
  // keeps ticks and datagrams in arrival order.
  let chain: Promise<unknown> = Promise.resolve();
  const enqueue = <T>(step: (worker: XsnapWorker) => Promise<T>): Promise<T | undefined> => {
    const next = chain.then(async () => {
      if (stopped || worker === undefined || failure !== undefined) return undefined;
      try {
        return await step(worker);
      } catch (error) {
        failure ??= error instanceof Error ? error : new Error(String(error));
        return undefined;
      }
    });
    chain = next;
    return next;
  };
  const toGuest = (message: object): Promise<unknown> =>
    enqueue(async (w) => {
      const { reply } = await w.issueCommand(encoder.encode(JSON.stringify({ ...message, now: now() })));
      const text = decoder.decode(reply);
      // A tick that fired no timer ran nothing: the heap is as the last reading found it.
      const ranNothing = "kind" in message && message.kind === "tick" && text === "0";
      if (peak !== undefined && !ranNothing) {
        const sample = await sampleHeap(w, true);
        peak.samples++;
        if (sample.slots * 16 + sample.chunkBytes > peak.slots * 16 + peak.chunkBytes) {
          peak.slots = sample.slots;
          peak.chunkBytes = sample.chunkBytes;
          peak.snapshot = sample.snapshot;
        }
      }
      return text === "" ? undefined : JSON.parse(text);
    });

  const socketFor = (id: number, address: string): Socket => {
    const existing = sockets.get(id);
    if (existing !== undefined) return existing;
    const created = createSocket(address.includes(":") ? "udp6" : "udp4");
    created.on("message", (bytes, from) => {
      void toGuest({
        kind: "datagram",
        socket: id,
        hex: bytes.toString("hex"),
        address: from.address,
        port: from.port,
      });
    });
    created.on("error", (error) => options.onLog?.("error", `bridge socket: ${error.message}`));
    created.bind(0, address.includes(":") ? "::1" : "127.0.0.1");
    sockets.set(id, created);
    return created;
  };

  worker = await spawnXsWorker("xs-guest", async (raw: Uint8Array) => {
    const message = JSON.parse(decoder.decode(raw)) as GuestMessage;
    let answer: unknown;
    switch (message.kind) {
      case "send": {
        // A command already under way when stop() closed the socket must not open another.
        if (stopped) break;
        const address = message.address ?? "127.0.0.1";
        const target = address === "localhost" ? "127.0.0.1" : address;
        socketFor(message.socket ?? 0, target).send(Buffer.from(message.hex ?? "", "hex"), message.port ?? 0, target);
        break;
      }
      case "log":
        options.onLog?.(message.level ?? "info", message.message ?? "");
        break;
      case "event":
        options.onEvent?.(message.event ?? {});
        break;
      case "ask":
        answer = options.answers?.[message.name ?? ""]?.(...(message.args ?? []));
        break;
      case "close": {
        const id = message.socket ?? 0;
        sockets.get(id)?.close();
        sockets.delete(id);
        break;
      }
    }
    return encoder.encode(answer === undefined ? "" : JSON.stringify(answer));
  });

  await worker.evaluate(code).catch((error: unknown) => {
    failure = error instanceof Error ? error : new Error(String(error));
  });
  // A tick still waiting makes the next one pointless: ticks never queue up behind a slow guest.
  let tickWaiting = false;
  const ticker = setInterval(() => {
    if (tickWaiting) return;
    tickWaiting = true;
    void toGuest({ kind: "tick" }).finally(() => {
      tickWaiting = false;
    });
  }, options.tickMs ?? 5);

  return {
    call: (name, ...args) => toGuest({ kind: "call", name, args }),
    async heap(keep = false) {
      const sample = await enqueue((w) => sampleHeap(w, keep));
      if (sample === undefined) throw failure ?? new Error("the guest has stopped");
      return sample;
    },
    trackPeak() {
      peak = { slots: 0, chunkBytes: 0, samples: 0 };
    },
    async peak() {
      await chain.catch(() => undefined);
      const seen = peak ?? { slots: 0, chunkBytes: 0, samples: 0 };
      peak = undefined;
      return seen;
    },
    get failure() {
      return failure;
    },
    async stop() {
      if (stopped) return;
      clearInterval(ticker);
      await chain.catch(() => undefined);
      stopped = true;
      for (const socket of sockets.values()) socket.close();
      sockets.clear();
      await worker?.close().catch(() => undefined);
    },
  };
}
