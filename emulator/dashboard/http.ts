// The dashboard's HTTP server (node:http): the page's files, a JSON API over PlatformView and a
// server-sent-events stream (live.ts). Loopback by default; on any other address only with a
// token (access.ts). Every request is checked before it does anything: a target that is not
// exactly one of the routes, an unknown or repeated query parameter, a body over the platform's
// own limit or not the JSON asked for is answered 4xx and changes nothing.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { PlatformError } from "../errors.js";
import { formatEndpoint, type PlatformEvent } from "../events.js";
import { type AccessRules, checkAccess, isLoopback, tokenProblem } from "./access.js";
import { WINDOWS } from "./history.js";
import { LiveHub, type LiveStats } from "./live.js";
import { loadStaticFiles, type StaticFile } from "./static-files.js";
import { ONLINE_RULE, type PlatformView } from "./view.js";

export interface DashboardOptions {
  /** Address to bind. Default 127.0.0.1; any non-loopback address needs `token`. */
  readonly host?: string;
  /** TCP port; 0 picks a free one. Default 8088. */
  readonly port?: number;
  /** Required on every request when given (see access.ts). */
  readonly token?: string;
  /** Live pages at once, at most. Default 16. */
  readonly maxClients?: number;
  /** Unsent bytes per live page before it is dropped. Default 256 KiB. */
  readonly maxQueueBytes?: number;
  /** How often live values are sent. Default 250 ms. */
  readonly flushMs?: number;
}

export interface Dashboard {
  /** `http://HOST:PORT/`, the page's address. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Pages with a live stream open now. */
  clientCount(): number;
  stats(): LiveStats & { readonly reads: number };
  /** Ends live streams and closes the server. Safe to call twice. */
  close(): Promise<void>;
}

export const DEFAULT_HTTP_PORT = 8088;
/** Longest request target taken (414 beyond). */
const MAX_TARGET_LENGTH = 2048;
/** Connections at once, at most (live pages hold one each). */
const MAX_CONNECTIONS = 64;
/** History and CSV reads at once, at most (503 beyond): each walks the store page by page. */
const MAX_READS = 4;
/** A key as the platform takes it [thethings-coap-api.md], with a length no real key reaches. */
const KEY = /^[A-Za-z0-9._-]{1,256}$/;
const THING_ID = /^[1-9]\d{0,14}$/;
const CSV_WINDOWS: ReadonlySet<string> = new Set([...Object.keys(WINDOWS), "all"]);
const WRITE_MEMBERS: ReadonlySet<string> = new Set(["values"]);
const ITEM_MEMBERS: ReadonlySet<string> = new Set(["key", "value", "datetime", "geo"]);
const WRITTEN = JSON.stringify({ status: "Success", message: "Created" });

const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
});

/** A refusal: the HTTP status and a message for the JSON body. */
class HttpError extends Error {
  override readonly name = "HttpError";
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const COAP_TO_HTTP: Readonly<Record<string, number>> = Object.freeze({
  "4.00": 400,
  "4.04": 404,
  "4.05": 405,
  "4.13": 413,
  "5.00": 500,
});

export interface StartDashboardOptions extends DashboardOptions {
  readonly view: PlatformView;
  /** Largest request body, the platform's own (PlatformOptions.maxPayloadBytes). */
  readonly maxBodyBytes: number;
  readonly log: (event: PlatformEvent) => void;
  /** Receives the hub, so the platform's write path can feed it. */
  readonly attach: (hub: LiveHub) => void;
}

export async function startDashboard(options: StartDashboardOptions): Promise<Dashboard> {
  const host = options.host ?? "127.0.0.1";
  if (options.token !== undefined) {
    const problem = tokenProblem(options.token);
    if (problem !== undefined) throw new Error(problem);
  } else if (!isLoopback(host)) {
    throw new Error(`the dashboard on ${host} (not loopback) needs --dashboard-token`);
  }
  const { view } = options;
  const files = loadStaticFiles();
  const hub = new LiveHub({
    snapshots: {
      things: () => JSON.stringify({ things: view.things(), onlineRule: ONLINE_RULE }),
      codes: () => JSON.stringify({ codes: view.codes() }),
    },
    ...(options.maxClients === undefined ? {} : { maxClients: options.maxClients }),
    ...(options.maxQueueBytes === undefined ? {} : { maxQueueBytes: options.maxQueueBytes }),
    ...(options.flushMs === undefined ? {} : { flushMs: options.flushMs }),
  });
  const server = createServer({ maxHeaderSize: 8192 });
  server.maxConnections = MAX_CONNECTIONS;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const state = { reads: 0 };
  let rules: AccessRules = { host, port: 0 };
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const peer = { address: req.socket.remoteAddress ?? "?", port: req.socket.remotePort ?? 0 };
    const from = `dashboard ${formatEndpoint(peer)}`;
    serve({ req, res, from, rules, view, hub, files, state, maxBodyBytes: options.maxBodyBytes }).catch(
      (error: unknown) => {
        const refusal =
          error instanceof HttpError
            ? error
            : error instanceof PlatformError
              ? new HttpError(COAP_TO_HTTP[error.code] ?? 400, error.message)
              : new HttpError(500, "Internal error");
        if (refusal.status === 500) options.log({ event: "failed", error: String(error), from });
        else
          options.log({
            event: "refused",
            code: String(refusal.status),
            message: refusal.message,
            method: req.method ?? "?",
            from,
          });
        if (res.headersSent) res.destroy();
        else
          json(res, refusal.status, { error: refusal.message }, refusal.status === 413 ? { Connection: "close" } : {});
      },
    );
  });
  const asked = options.port ?? DEFAULT_HTTP_PORT;
  await new Promise<void>((resolve, reject) => {
    const refused = (error: NodeJS.ErrnoException): void =>
      reject(
        error.code === "EADDRINUSE"
          ? new Error(`the dashboard's port ${asked} on ${host} is in use (--http-port 0 picks a free one)`)
          : error,
      );
    server.once("error", refused);
    server.listen(asked, host, () => {
      server.off("error", refused);
      resolve();
    });
  });
  server.on("error", (error: Error) => options.log({ event: "failed", error: error.message, from: "dashboard" }));
  const port = (server.address() as AddressInfo).port;
  rules = options.token === undefined ? { host, port } : { host, port, token: options.token };
  options.attach(hub);
  const shown = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    host,
    port,
    clientCount: () => hub.clientCount(),
    stats: () => ({ ...hub.stats(), reads: state.reads }),
    close: once(() => closeServer(server, hub)),
  };
}

interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly from: string;
  readonly rules: AccessRules;
  readonly view: PlatformView;
  readonly hub: LiveHub;
  readonly files: ReadonlyMap<string, StaticFile>;
  readonly state: { reads: number };
  readonly maxBodyBytes: number;
}

async function serve(x: Exchange): Promise<void> {
  const { req, res } = x;
  const target = req.url ?? "";
  if (target.length > MAX_TARGET_LENGTH) throw new HttpError(414, "The request target is too long");
  if (!target.startsWith("/")) throw new HttpError(400, "The request target must be a path");
  const mark = target.indexOf("?");
  const path = mark < 0 ? target : target.slice(0, mark);
  const query = parseQuery(mark < 0 ? "" : target.slice(mark + 1));
  const method = req.method ?? "";
  const access = checkAccess(x.rules, method, req.headers, query.get("token"));
  if (!access.ok) throw new HttpError(access.status, access.message);
  query.delete("token");
  if (access.setCookie !== undefined) res.setHeader("Set-Cookie", access.setCookie);

  const file = x.files.get(path);
  if (file !== undefined) {
    allow(method, "GET");
    onlyParams(query, []);
    res.writeHead(200, { ...SECURITY_HEADERS, "Content-Type": file.type, "Content-Length": file.body.length });
    res.end(file.body);
    return;
  }
  const segments = path.split("/").slice(1);
  const [api, collection, id, action, ...rest] = segments;
  if (api !== "api" || rest.length > 0) throw new HttpError(404, "Not found");
  if (collection === "things" && id === undefined) {
    allow(method, "GET");
    onlyParams(query, []);
    json(res, 200, { things: x.view.things(), onlineRule: ONLINE_RULE, now: x.view.now() });
    return;
  }
  if (collection === "things" && id !== undefined && action !== undefined) {
    const thing = thingOf(x.view, id);
    switch (action) {
      case "keys":
        allow(method, "GET");
        onlyParams(query, []);
        json(res, 200, x.view.keys(thing));
        return;
      case "history":
        return history(x, thing, query);
      case "csv":
        return csv(x, thing, query);
      case "values":
        return write(x, thing, query);
    }
  }
  if (collection === "codes" && id === undefined) return codes(x, query);
  if (collection === "events" && id === undefined) return events(x, query);
  throw new HttpError(404, "Not found");
}

async function history(x: Exchange, thing: number, query: Map<string, string>): Promise<void> {
  allow(x.req.method, "GET");
  onlyParams(query, ["key", "window"]);
  const key = keyParam(x.view, thing, query);
  const window = query.get("window") ?? "1h";
  if (WINDOWS[window] === undefined)
    throw new HttpError(400, `window must be one of ${Object.keys(WINDOWS).join(", ")}`);
  const body = await reading(x, (cancelled) => x.view.history(thing, key, window, cancelled));
  json(x.res, 200, body);
}

async function csv(x: Exchange, thing: number, query: Map<string, string>): Promise<void> {
  allow(x.req.method, "GET");
  onlyParams(query, ["key", "window"]);
  const key = keyParam(x.view, thing, query);
  const window = query.get("window") ?? "all";
  if (!CSV_WINDOWS.has(window)) throw new HttpError(400, `window must be one of ${[...CSV_WINDOWS].join(", ")}`);
  const startDate = window === "all" ? 0 : x.view.now() - (WINDOWS[window] as number);
  const { res } = x;
  await reading(x, async (cancelled) => {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="thing-${thing}-${key}-${window}.csv"`,
    });
    await x.view.csv(thing, key, startDate, (chunk) => drained(res, chunk), cancelled);
    res.end();
  });
}

async function write(x: Exchange, thing: number, query: Map<string, string>): Promise<void> {
  allow(x.req.method, "POST");
  onlyParams(query, []);
  const body = await readJson(x.req, x.maxBodyBytes);
  checkMembers(body, WRITE_MEMBERS, "the body");
  if (Array.isArray(body.values)) {
    body.values.forEach((item: unknown, index) => {
      if (typeof item === "object" && item !== null && !Array.isArray(item)) {
        checkMembers(item as Record<string, unknown>, ITEM_MEMBERS, `values[${index}]`);
      }
    });
  }
  x.view.write(thing, body, x.from);
  x.res.writeHead(201, { ...SECURITY_HEADERS, "Content-Type": "application/json" });
  x.res.end(WRITTEN);
}

async function codes(x: Exchange, query: Map<string, string>): Promise<void> {
  onlyParams(query, []);
  if (x.req.method === "POST") {
    const body = await readJson(x.req, x.maxBodyBytes);
    checkMembers(body, new Set(), "the body");
    const code = x.view.newCode();
    x.hub.listsChanged();
    json(x.res, 201, { code });
    return;
  }
  allow(x.req.method, "GET");
  json(x.res, 200, { codes: x.view.codes() });
}

function events(x: Exchange, query: Map<string, string>): void {
  allow(x.req.method, "GET");
  onlyParams(query, ["thing"]);
  const id = query.get("thing");
  const thing = id === undefined ? undefined : thingOf(x.view, id);
  const { req, res } = x;
  if (!x.hub.hasRoom()) throw new HttpError(503, "Too many live pages open; try again later");
  res.writeHead(200, { ...SECURITY_HEADERS, "Content-Type": "text/event-stream", Connection: "keep-alive" });
  x.hub.open(res, thing);
  const gone = (): void => x.hub.remove(res);
  req.on("close", gone);
  res.on("error", gone);
}

/** Runs a history or CSV read within MAX_READS, cancelled when the client goes away. */
async function reading<T>(x: Exchange, body: (cancelled: () => boolean) => Promise<T>): Promise<T> {
  if (x.state.reads >= MAX_READS) throw new HttpError(503, "Too many history reads at once; try again");
  x.state.reads++;
  let gone = false;
  const onClose = (): void => {
    gone = x.res.writableFinished === false;
  };
  x.res.on("close", onClose);
  try {
    return await body(() => gone);
  } finally {
    x.state.reads--;
    x.res.off("close", onClose);
  }
}

function thingOf(view: PlatformView, id: string): number {
  if (!THING_ID.test(id)) throw new HttpError(404, "Thing not found");
  const thing = Number(id);
  if (!view.has(thing)) throw new HttpError(404, "Thing not found");
  return thing;
}

function keyParam(view: PlatformView, thing: number, query: Map<string, string>): string {
  const key = query.get("key");
  if (key === undefined || !KEY.test(key)) throw new HttpError(400, "key must be letters, digits, '.', '-' or '_'");
  if (!view.hasKey(thing, key)) throw new HttpError(404, "Resource not found");
  return key;
}

function allow(method: string | undefined, allowed: string): void {
  if (method !== allowed) throw new HttpError(405, `${method ?? "?"} is not allowed here`);
}

function onlyParams(query: Map<string, string>, names: readonly string[]): void {
  for (const name of query.keys()) {
    if (!names.includes(name)) throw new HttpError(400, `Unknown query parameter ${JSON.stringify(name.slice(0, 40))}`);
  }
}

/** name → value; a repeated name or a malformed escape is refused. */
function parseQuery(text: string): Map<string, string> {
  const query = new Map<string, string>();
  for (const part of text.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent((eq < 0 ? part : part.slice(0, eq)).replaceAll("+", " "));
      value = decodeURIComponent((eq < 0 ? "" : part.slice(eq + 1)).replaceAll("+", " "));
    } catch {
      throw new HttpError(400, "Malformed query");
    }
    if (query.has(name)) throw new HttpError(400, `Query parameter ${JSON.stringify(name.slice(0, 40))} twice`);
    query.set(name, value);
  }
  return query;
}

/** The body as a JSON object, at most `maxBytes`; 413 past that (reading stops), 400 if it is not one. */
async function readJson(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > maxBytes) throw new HttpError(413, `The body is larger than ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new HttpError(413, `The body is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks)));
  } catch {
    throw new HttpError(400, "Malformed JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new HttpError(400, "The body must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}

function checkMembers(object: Record<string, unknown>, allowed: ReadonlySet<string>, where: string): void {
  for (const name of Object.keys(object)) {
    if (!allowed.has(name)) throw new HttpError(400, `Unknown member ${JSON.stringify(name.slice(0, 40))} in ${where}`);
  }
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...headers,
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** Writes a chunk and waits while the client's buffer is full (backpressure). */
function drained(res: ServerResponse, chunk: string): Promise<void> | undefined {
  if (res.write(chunk)) return undefined;
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

function closeServer(server: Server, hub: LiveHub): Promise<void> {
  hub.close();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function once(body: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= body());
}
