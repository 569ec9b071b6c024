// The library entry point: startPlatform() binds a UDP socket, serves theThings.IO's CoAP device
// API on it through node-coap, and returns a handle to stop it. Composition root of emulator/:
// the clock, randomness and socket are made here and handed down.
import { randomBytes as cryptoRandomBytes } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import type { IncomingMessage, ObserveWriteStream, OutgoingMessage } from "coap";
import { ThingActivity } from "./activity.js";
import { PlatformCoapServer } from "./coap-server.js";
import { type Dashboard, type DashboardOptions, startDashboard } from "./dashboard/http.js";
import { PlatformView } from "./dashboard/view.js";
import { PlatformError } from "./errors.js";
import { formatEndpoint, type PlatformEvent } from "./events.js";
import { handleObserve, handleRequest, type PlatformContext, refuse } from "./handlers.js";
import { Store } from "./store.js";
import { Subscriptions } from "./subscriptions.js";

export interface PlatformOptions {
  /** Address to bind; loopback unless told otherwise. Default 127.0.0.1. */
  host?: string;
  /** UDP port; 0 picks a free one (see Platform.port). Default 5683. */
  port?: number;
  /** SQLite file that keeps things and values across restarts. Default ":memory:". */
  dbPath?: string;
  /** Codes that may each activate one thing. None given: one is made (see Platform.activationCodes). */
  activationCodes?: readonly string[];
  /** Keep-alive period for subscriptions that name none. Default 60000 ms. */
  keepAliveMs?: number;
  /**
   * Largest request body taken, in one message (bodies sent block-wise are refused); larger ones
   * get 4.13. Default 1024 bytes, the payload a CoAP message should not exceed (RFC 7252 §4.6).
   */
  maxPayloadBytes?: number;
  /**
   * node-coap's cache of recent replies, which answers a retransmitted request without handling it
   * again (RFC 7252 §4.5), in bytes of reply datagrams. Each entry costs about 4 KB of heap
   * beside its datagram, so the default (512 KiB, about 9,000 replies: all of EXCHANGE_LIFETIME
   * below 36 requests/s) bounds it near 40 MB; node-coap's own default, 32 MiB, would let
   * 500 writes/s hold over 500 MB. Writes are deduplicated in the store as well, for all of
   * EXCHANGE_LIFETIME whatever the rate.
   */
  replyCacheBytes?: number;
  /** Hears every activation, write, subscription, refusal and failure. */
  log?: (event: PlatformEvent) => void;
  /** Milliseconds since the epoch; stamps values written without a datetime. Default Date.now. */
  now?: () => number;
  /** Source of thing tokens and generated activation codes. Default crypto.randomBytes. */
  randomBytes?: (size: number) => Uint8Array;
  /** Serves the web dashboard over HTTP (emulator/dashboard/); none without this. */
  dashboard?: DashboardOptions;
}

export interface Platform {
  readonly host: string;
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** The codes given, or the one made when none were. */
  readonly activationCodes: readonly string[];
  /** Adds an activation code, or makes one when none is given; returns it. */
  addActivationCode(code?: string): string;
  /** Subscriptions open now. */
  subscriberCount(): number;
  /** The web dashboard, when PlatformOptions.dashboard asked for one. */
  readonly dashboard: Dashboard | undefined;
  /** Closes the dashboard, ends subscriptions, closes the socket and the database. Safe to call twice. */
  stop(): Promise<void>;
}

export const DEFAULT_PORT = 5683;
export const DEFAULT_KEEP_ALIVE_MS = 60_000;
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024;
export const DEFAULT_REPLY_CACHE_BYTES = 512 * 1024;

// Activation codes seen on the platform are 34 characters [thethings-coap-api.md].
const ACTIVATION_CODE_LENGTH = 34;
const CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const host = options.host ?? "127.0.0.1";
  const dbPath = options.dbPath ?? ":memory:";
  const log = options.log ?? (() => {});
  const random = options.randomBytes ?? cryptoRandomBytes;
  const store = new Store(dbPath);
  const now = options.now ?? Date.now;
  const ctx: PlatformContext = {
    store,
    subscriptions: new Subscriptions({
      onEnd: (end) => log({ event: "unsubscribed", thing: end.label, from: end.endpoint, reason: end.reason }),
      now,
    }),
    now,
    randomBytes: random,
    log,
    keepAliveMs: options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS,
    maxPayloadBytes: options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
    activity: new ThingActivity(store),
    onStored: () => {},
  };

  const addActivationCode = (code: string = makeActivationCode(random)): string => {
    store.addActivationCode(code);
    return code;
  };
  const given = options.activationCodes ?? [];
  const activationCodes = given.length > 0 ? given.map((c) => addActivationCode(c)) : [addActivationCode()];

  let socket: Socket;
  try {
    socket = await bind(host, options.port ?? DEFAULT_PORT);
  } catch (err) {
    store.close();
    throw err;
  }
  // node-coap is handed the bound socket rather than binding its own, so the platform knows the
  // real port and closes the socket itself.
  const server = new PlatformCoapServer({
    coap: { type: isIPv6(host) ? "udp6" : "udp4", cacheSize: options.replyCacheBytes ?? DEFAULT_REPLY_CACHE_BYTES },
    maxPayloadBytes: ctx.maxPayloadBytes,
    onRefused: (rsinfo, method) =>
      log({ event: "refused", code: "4.13", message: "block-wise request body", method, from: formatEndpoint(rsinfo) }),
    onAcknowledged: (stream) => {
      const thing = ctx.subscriptions.acknowledged(stream);
      if (thing !== undefined) ctx.activity.heard(thing, ctx.now());
    },
  });
  server.on("request", (req: IncomingMessage, res: OutgoingMessage | ObserveWriteStream) => serve(ctx, req, res));
  server.on("error", (err: Error) => log({ event: "failed", error: err.message, from: "socket" }));
  server.listen(socket);
  const port = socket.address().port;

  let dashboard: Dashboard | undefined;
  if (options.dashboard !== undefined) {
    try {
      dashboard = await startDashboard({
        ...options.dashboard,
        view: new PlatformView({ ctx, addActivationCode: () => addActivationCode() }),
        maxBodyBytes: ctx.maxPayloadBytes,
        log,
        attach: (hub) => {
          ctx.onStored = (thing, values) => hub.stored(thing, values);
        },
      });
    } catch (err) {
      server.close();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      store.close();
      throw err;
    }
    log({ event: "dashboard", url: dashboard.url });
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await dashboard?.close();
      ctx.subscriptions.closeAll("platform stopped");
      // Clears node-coap's caches, and with them the retransmission timers of its pending replies.
      server.close();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      store.close();
      log({ event: "stopped" });
    })();
    return stopping;
  };

  log({ event: "listening", host, port, db: dbPath, activationCodes });
  return {
    host,
    port,
    activationCodes,
    addActivationCode,
    subscriberCount: () => ctx.subscriptions.count(),
    dashboard,
    stop,
  };
}

function serve(ctx: PlatformContext, req: IncomingMessage, res: OutgoingMessage | ObserveWriteStream): void {
  const from = formatEndpoint(req.rsinfo);
  // node-coap reports a reply it cannot send (too large for a datagram, socket error) as 'error'
  // on the response; unheard, that would end the process.
  res.on("error", (err: Error) => ctx.log({ event: "failed", error: err.message, from }));
  try {
    if (req.headers.Observe === 0 && "_doSend" in res) handleObserve(ctx, req, res);
    else handleRequest(ctx, req, res as OutgoingMessage);
  } catch (err) {
    if (err instanceof PlatformError) {
      ctx.log({
        event: "refused",
        code: err.code,
        message: err.message,
        method: req.method,
        from,
        key: resourceKey(req.url),
      });
      refuse(res, err);
    } else {
      ctx.log({ event: "failed", error: err instanceof Error ? err.message : String(err), from });
      refuse(res, new PlatformError("5.00", "Internal error"));
    }
  }
}

function bind(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIPv6(host) ? "udp6" : "udp4");
    socket.once("error", reject);
    socket.bind(port, host, () => {
      socket.off("error", reject);
      resolve(socket);
    });
  });
}

/** Random characters from CODE_ALPHABET; bytes that would bias the choice are skipped. */
function makeActivationCode(random: (size: number) => Uint8Array): string {
  const limit = 256 - (256 % CODE_ALPHABET.length);
  let code = "";
  while (code.length < ACTIVATION_CODE_LENGTH) {
    for (const byte of random(ACTIVATION_CODE_LENGTH)) {
      if (byte < limit && code.length < ACTIVATION_CODE_LENGTH) code += CODE_ALPHABET[byte % CODE_ALPHABET.length];
    }
  }
  return code;
}

/** The resource key a request names (`/v2/things/{token}/resources/{key}`), for the log: never the token. */
function resourceKey(url: string): string | undefined {
  const segments = url.split("?")[0]!.split("/");
  const at = segments.indexOf("resources");
  const key = at < 0 ? undefined : segments[at + 1];
  if (key === undefined || key === "") return undefined;
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}
