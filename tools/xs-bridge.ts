// Runs a portable core entry on the XS engine (npm @agoric/xsnap) with its UDP relayed through
// this Node process: the guest (test/xs/bridge-guest.ts) sends datagrams through xsnap's command
// channel, and this host sends them from a real dgram socket on loopback, delivers the replies,
// and ticks the guest's clock. Used by the end-to-end tests that run the device core on XS.
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

export interface XsGuest {
  /** Calls a function the guest exposed. */
  call(name: string, ...args: unknown[]): Promise<unknown>;
  /** The error that stopped the guest, if any. */
  readonly failure: Error | undefined;
  stop(): Promise<void>;
}

interface GuestMessage {
  kind: string;
  hex?: string;
  address?: string;
  port?: number;
  level?: string;
  message?: string;
  event?: Record<string, unknown>;
  name?: string;
  args?: unknown[];
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
  let socket: Socket | undefined;
  let worker: XsnapWorker | undefined;
  let failure: Error | undefined;
  let stopped = false;
  // One command at a time: the guest is single-threaded and xsnap serialises anyway; chaining
  // keeps ticks and datagrams in arrival order.
  let chain: Promise<unknown> = Promise.resolve();
  const toGuest = (message: object): Promise<unknown> => {
    const next = chain.then(async () => {
      if (stopped || worker === undefined || failure !== undefined) return undefined;
      try {
        const { reply } = await worker.issueCommand(encoder.encode(JSON.stringify({ ...message, now: now() })));
        const text = decoder.decode(reply);
        return text === "" ? undefined : JSON.parse(text);
      } catch (error) {
        failure ??= error instanceof Error ? error : new Error(String(error));
        return undefined;
      }
    });
    chain = next;
    return next;
  };

  const ensureSocket = (address: string): Socket => {
    if (socket !== undefined) return socket;
    const created = createSocket(address.includes(":") ? "udp6" : "udp4");
    created.on("message", (bytes, from) => {
      void toGuest({ kind: "datagram", hex: bytes.toString("hex"), address: from.address, port: from.port });
    });
    created.on("error", (error) => options.onLog?.("error", `bridge socket: ${error.message}`));
    created.bind(0, address.includes(":") ? "::1" : "127.0.0.1");
    socket = created;
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
        ensureSocket(target).send(Buffer.from(message.hex ?? "", "hex"), message.port ?? 0, target);
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
      case "close":
        break;
    }
    return encoder.encode(answer === undefined ? "" : JSON.stringify(answer));
  });

  await worker.evaluate(code).catch((error: unknown) => {
    failure = error instanceof Error ? error : new Error(String(error));
  });
  const ticker = setInterval(() => void toGuest({ kind: "tick" }), options.tickMs ?? 5);

  return {
    call: (name, ...args) => toGuest({ kind: "call", name, args }),
    get failure() {
      return failure;
    },
    async stop() {
      if (stopped) return;
      clearInterval(ticker);
      await chain.catch(() => undefined);
      stopped = true;
      socket?.close();
      socket = undefined;
      await worker?.close().catch(() => undefined);
    },
  };
}
