// The four operations of the device API (activate, write, read, subscribe), on top of node-coap's
// request and response objects. Refusals are thrown as PlatformError; server.ts replies with them.
import type { IncomingMessage, ObserveWriteStream, OutgoingMessage } from "coap";
import type { ThingActivity } from "./activity.js";
import { PlatformError } from "./errors.js";
import { formatEndpoint, type PlatformEvent, redactToken } from "./events.js";
import { refuseObservation } from "./observation.js";
import {
  encodeArray,
  encodeItem,
  fitsInNotification,
  jsonBytes,
  NOTIFICATION_MAX_BYTES,
  UNSUBSCRIBED,
  WRITTEN,
} from "./payloads.js";
import { type RequestOption, resolveTarget, type Target } from "./routes.js";
import type { Store, StoredValue, WriteRequestKey } from "./store.js";
import type { Subscriptions } from "./subscriptions.js";
import { checkActivation, checkReadQuery, checkWrite, parseJsonObject } from "./validate.js";

/** What the handlers work with; server.ts builds it once per running platform. */
export interface PlatformContext {
  store: Store;
  subscriptions: Subscriptions;
  now: () => number;
  randomBytes: (size: number) => Uint8Array;
  log: (event: PlatformEvent) => void;
  keepAliveMs: number;
  maxPayloadBytes: number;
  activity: ThingActivity;
  /** Hears every write stored, after its subscribers were sent it (the dashboard's live view). */
  onStored: (thing: number, values: readonly StoredValue[]) => void;
}

// A subscription's keepAlive query: from 0.1 s (short enough for tests) to one day.
const KEEP_ALIVE_MIN_MS = 100;
const KEEP_ALIVE_MAX_MS = 86_400_000;

/** Length of a thing token's random part in bytes: 32 bytes are 43 base64url characters. */
const TOKEN_BYTES = 32;

/** A request that is not an observation registration (node-coap gives it an OutgoingMessage). */
export function handleRequest(ctx: PlatformContext, req: IncomingMessage, res: OutgoingMessage): void {
  if (req.payload.length > ctx.maxPayloadBytes) {
    // RFC 7252 §5.9.2.9: 4.13 may carry Size1, the largest body the server takes.
    res.setOption("Size1", ctx.maxPayloadBytes);
    throw new PlatformError("4.13", `The payload is larger than ${ctx.maxPayloadBytes} bytes`);
  }
  const { route, query } = target(req);
  const from = formatEndpoint(req.rsinfo);
  switch (route.kind) {
    case "activate":
      requireMethod(req, "POST");
      activate(ctx, req, res, from);
      return;
    case "thing": {
      const thing = thingId(ctx, route.token);
      if (req.method === "POST") {
        const request = { peer: from, messageId: req._packet.messageId ?? -1, token: tokenHex(req) };
        storeWrite(ctx, { thing, label: redactToken(route.token), from, request }, parseJsonObject(req.payload), () =>
          reply(res, "2.01", jsonBytes(WRITTEN)),
        );
      } else if (req.method === "GET" && req.headers.Observe === 1) {
        // RFC 7641 §3.6: a GET with Observe 1 and the registration's token ends the observation.
        ctx.subscriptions.cancel(thing, from, tokenHex(req), "deregistered");
        reply(res, "2.05", jsonBytes(UNSUBSCRIBED));
      } else if (req.method === "GET") {
        throw new PlatformError("4.00", "Subscribing needs the Observe option (0)");
      } else {
        throw new PlatformError("4.05", `${req.method} is not allowed here`);
      }
      return;
    }
    case "resource": {
      requireMethod(req, "GET");
      const values = readResource(ctx, thingId(ctx, route.token), route.key, query);
      // node-coap's server sends a body of 1024 bytes or more block-wise (Block2, RFC 7959).
      reply(res, "2.05", encodeArray(values.map(encodeItem)));
      return;
    }
  }
}

/** A GET with Observe 0 (node-coap gives it an ObserveWriteStream): a subscription. */
export function handleObserve(ctx: PlatformContext, req: IncomingMessage, stream: ObserveWriteStream): void {
  const { route, query } = target(req);
  if (route.kind !== "thing") throw new PlatformError("4.04", "Only a thing can be subscribed to");
  requireMethod(req, "GET");
  const thing = thingId(ctx, route.token);
  const keepAliveMs = keepAliveOf(query, ctx.keepAliveMs);
  const from = formatEndpoint(req.rsinfo);
  const confirmable = req._packet.confirmable === true;
  const label = redactToken(route.token);
  ctx.subscriptions.add({ thing, label, endpoint: from, token: tokenHex(req), keepAliveMs, confirmable }, stream);
  ctx.log({ event: "subscribed", thing: label, from, keepAliveMs, type: confirmable ? "CON" : "NON" });
}

/** Replies to a refused request with the error's code and JSON body. */
export function refuse(res: OutgoingMessage | ObserveWriteStream, error: PlatformError): void {
  if ("_doSend" in res) refuseObservation(res, error.code, jsonBytes(error.body()));
  else reply(res, error.code, jsonBytes(error.body()));
}

function activate(ctx: PlatformContext, req: IncomingMessage, res: OutgoingMessage, from: string): void {
  const { activationCode, productId } = checkActivation(parseJsonObject(req.payload));
  const token = Buffer.from(ctx.randomBytes(TOKEN_BYTES)).toString("base64url");
  if (!ctx.store.activate(activationCode, productId, token, ctx.now())) {
    throw new PlatformError("4.00", "Error creating thing");
  }
  reply(res, "2.01", jsonBytes({ status: "created", thingToken: token }));
  ctx.log(
    productId === undefined
      ? { event: "activated", thing: redactToken(token), from }
      : { event: "activated", thing: redactToken(token), productId, from },
  );
}

/** RFC 7252 §4.8.2 with the default transmission parameters: how long a client may retransmit a message. */
const EXCHANGE_LIFETIME_MS = 247_000;

/** Who writes to which thing. */
export interface WriteOrigin {
  thing: number;
  /** The thing as logs name it (see redactToken). */
  label: string;
  /** The writer as events show it. */
  from: string;
  /** The CoAP request: one stored within EXCHANGE_LIFETIME is not stored again. */
  request?: WriteRequestKey;
}

/**
 * The write path, for a CoAP client's write and the dashboard's alike: checks the body, stores
 * all its values or none, calls `acknowledge`, then pushes the values to the thing's subscribers
 * (so a writer hears its answer before any notification of its own write). False for a duplicate
 * request, acknowledged and not stored again. Refusals throw PlatformError before anything is stored.
 */
export function storeWrite(
  ctx: PlatformContext,
  origin: WriteOrigin,
  body: Record<string, unknown>,
  acknowledge: () => void,
): boolean {
  const { thing, label, from, request } = origin;
  const items = checkWrite(body);
  const arrival = ctx.now();
  const values: StoredValue[] = items.map((item) => {
    const v: StoredValue = { key: item.key, value: JSON.stringify(item.value), datetime: item.datetime ?? arrival };
    if (item.geo !== undefined) v.geo = item.geo;
    return v;
  });
  const encoded = values.map(encodeItem);
  // Each value is pushed to subscribers and a notification is one datagram, so a value that
  // cannot fit in one is refused rather than stored and then undeliverable.
  if (!encoded.every(fitsInNotification)) {
    throw new PlatformError("4.13", `A value must fit in one notification (${NOTIFICATION_MAX_BYTES} bytes as JSON)`);
  }
  if (request === undefined) {
    ctx.store.write(thing, values);
  } else if (!ctx.store.writeOnce(thing, values, request, ctx.now(), EXCHANGE_LIFETIME_MS)) {
    // A retransmission of a write already stored (before a restart, when node-coap's own
    // duplicate cache was lost): the same answer, nothing stored or pushed again.
    acknowledge();
    ctx.log({ event: "duplicate", thing: label, messageId: request.messageId, from });
    return false;
  }
  acknowledge();
  ctx.activity.stored(thing, values.length);
  ctx.log({ event: "write", thing: label, values: values.length, keys: [...new Set(values.map((v) => v.key))], from });
  ctx.subscriptions.publish(thing, encoded);
  ctx.onStored(thing, values);
  return true;
}

/** The read path, for a CoAP client's read and the dashboard's history alike. */
export function readResource(
  ctx: PlatformContext,
  thing: number,
  key: string,
  query: ReadonlyMap<string, string>,
): StoredValue[] {
  if (!ctx.store.hasKey(thing, key)) throw new PlatformError("4.04", "Resource not found");
  return ctx.store.read(thing, key, checkReadQuery(query));
}

function reply(res: OutgoingMessage, code: string, payload: Buffer): void {
  res.code = code;
  res.setOption("Content-Format", "application/json");
  res.end(payload);
}

function target(req: IncomingMessage): Target {
  return resolveTarget((req._packet.options ?? []) as RequestOption[]);
}

/** The thing a token names, now heard from; 4.04 for a token no thing has. */
function thingId(ctx: PlatformContext, token: string): number {
  const id = ctx.store.thingId(token);
  if (id === undefined) throw new PlatformError("4.04", "Thing not found");
  ctx.activity.heard(id, ctx.now());
  return id;
}

function requireMethod(req: IncomingMessage, method: string): void {
  if (req.method !== method) throw new PlatformError("4.05", `${req.method} is not allowed here`);
}

function tokenHex(req: IncomingMessage): string {
  return req._packet.token?.toString("hex") ?? "";
}

function keepAliveOf(query: ReadonlyMap<string, string>, fallback: number): number {
  const text = query.get("keepAlive");
  if (text === undefined) return fallback;
  const ms = Number(text);
  if (!/^\d+$/.test(text) || ms < KEEP_ALIVE_MIN_MS || ms > KEEP_ALIVE_MAX_MS) {
    throw new PlatformError(
      "4.00",
      `keepAlive must be whole milliseconds from ${KEEP_ALIVE_MIN_MS} to ${KEEP_ALIVE_MAX_MS}`,
    );
  }
  return ms;
}
