// The thing's realtime channel: GET /v2/things/{TOKEN} with Observe (RFC 7641) and the query
// keepAlive=MS the platform's own library uses [lib]. The stream carries four kinds of
// message [thethings-coap-api.md]: {"status":"success","message":"subscribed"} first, {} as a
// keep-alive roughly every keepAlive ms, JSON arrays of value items, and
// {"status":"error","message":...}. Anything else is dropped, logged and counted: nothing that
// arrives here can throw out of the endpoint's callback.

import type { CoapClient, CoapResponse, Observation, ObserveHandlers } from "../coap/client-api.js";
import { isSuccessCode } from "../coap/codes.js";
import type { LogSink } from "../kernel/log.js";
import { errorFromFailure, errorFromResponse, protocolError, redactError, type ThethingsError } from "./errors.js";
import { DEFAULT_JSON_LIMITS, isJsonObject, type JsonLimits, parseJsonPayload } from "./json.js";
import { redactIn } from "./token.js";
import { parseStatusBody, parseValueItem, parseValueItems, type ThingValue } from "./values.js";

/**
 * Asked of the platform as keepAlive. 30 s also keeps a home router's UDP mapping open (many
 * drop idle mappings after 30–120 s), without which no notification could reach the device.
 */
export const DEFAULT_KEEP_ALIVE_MS = 30_000;
/**
 * The platform's libraries allow 1 s past keepAlive [lib]; a CON keep-alive that is lost once
 * is retransmitted 2–3 s later (ACK_TIMEOUT, RFC 7252 §4.8), so 5 s avoids needless re-registration.
 */
export const DEFAULT_GRACE_MS = 5_000;

export interface SubscriptionHandlers {
  /** Well-formed value items of one data message (malformed items are dropped and counted). */
  onValues(values: readonly ThingValue[]): void;
  /** The platform confirmed the subscription ("subscribed"), also after each re-registration. */
  onSubscribed?(): void;
  /**
   * The platform reported an error on the stream, or answered the registration with an error code
   * (kind "unauthorized" when the token was refused).
   */
  onError?(error: ThethingsError): void;
  /** The stream went silent past keepAlive + grace (or broke): the endpoint re-registers. */
  onLost?(reason: string): void;
  onReestablished?(): void;
}

export interface SubscribeOptions {
  readonly keepAliveMs?: number;
  /** Silence allowed past keepAlive before the stream counts as lost. */
  readonly graceMs?: number;
}

export interface SubscriptionStats {
  readonly subscribed: number;
  readonly keepAlives: number;
  readonly dataMessages: number;
  readonly values: number;
  readonly errors: number;
  /** Notifications or value items dropped as malformed. */
  readonly dropped: number;
}

export type Notification =
  | { readonly kind: "subscribed" }
  | { readonly kind: "keep-alive" }
  /** A status body other than "subscribed" or an error: informational. */
  | { readonly kind: "status"; readonly status: string; readonly message: string | undefined }
  | { readonly kind: "values"; readonly values: ThingValue[]; readonly dropped: number }
  | { readonly kind: "error"; readonly error: ThethingsError }
  | { readonly kind: "invalid"; readonly reason: string };

/** What one notification says. Pure; never throws. */
export function classifyNotification(response: CoapResponse, limits: JsonLimits = DEFAULT_JSON_LIMITS): Notification {
  const success = isSuccessCode(response.code);
  // An empty success body (a bare registration acknowledgement) still proves the stream alive.
  if (response.payload.length === 0) {
    return success ? { kind: "keep-alive" } : { kind: "error", error: errorFromResponse("subscribe", response.code) };
  }
  const parsed = parseJsonPayload(response.payload, limits);
  if (!success) {
    const status = parsed.ok ? parseStatusBody(parsed.value) : undefined;
    return { kind: "error", error: errorFromResponse("subscribe", response.code, status?.message) };
  }
  if (!parsed.ok) return { kind: "invalid", reason: parsed.reason };
  const body = parsed.value;
  if (Array.isArray(body)) {
    const { values, dropped } = parseValueItems(body);
    return { kind: "values", values, dropped };
  }
  if (!isJsonObject(body)) return { kind: "invalid", reason: "neither an object nor an array" };
  if (Object.keys(body).length === 0) return { kind: "keep-alive" };
  const status = parseStatusBody(body);
  if (status !== undefined) {
    if (status.status === "error") {
      const message = status.message ?? "(no message)";
      return { kind: "error", error: protocolError("subscribe", `the platform reported "${message}"`, response.code) };
    }
    if (status.message !== undefined && status.message.toLowerCase() === "subscribed") return { kind: "subscribed" };
    return { kind: "status", status: status.status, message: status.message };
  }
  // A single item outside an array is not documented; taken as one value rather than lost.
  const single = parseValueItem(body);
  return single === undefined
    ? { kind: "invalid", reason: "an object of unknown shape" }
    : { kind: "values", values: [single], dropped: 0 };
}

export interface ThingSubscriptionOptions extends SubscribeOptions {
  readonly coap: CoapClient;
  readonly log: LogSink;
  /** Checked by the caller (ThethingsClient); never logged. */
  readonly thingToken: string;
  readonly handlers: SubscriptionHandlers;
  readonly jsonLimits?: JsonLimits;
  /** The caller's table of open subscriptions: the subscription takes itself out when it closes. */
  readonly registry?: ThingSubscription[];
}

/** One observation of the thing. Built by ThethingsClient.subscribe(). */
export class ThingSubscription {
  /**
   * The observation's callbacks into a subscription: an object with methods, inside this class
   * so that they reach its private members. Three closures instead would keep this constructor's
   * options alive with them (about 1 KB on the ESP32).
   */
  static readonly #Callbacks = class implements ObserveHandlers {
    readonly #subscription: ThingSubscription;

    constructor(subscription: ThingSubscription) {
      this.#subscription = subscription;
    }

    onNotification(response: CoapResponse): void {
      this.#subscription.receive(response);
    }

    onLost(endpointReason: string): void {
      const subscription = this.#subscription;
      // The endpoint's reason may quote the request path, and so the token.
      const reason = redactIn(endpointReason, subscription.#thingToken);
      subscription.#log("warn", `subscription lost (${reason}); re-subscribing`);
      subscription.call("onLost", () => subscription.#handlers.onLost?.(reason));
    }

    onReestablished(): void {
      const subscription = this.#subscription;
      subscription.#log("info", "subscription re-established");
      subscription.call("onReestablished", () => subscription.#handlers.onReestablished?.());
    }
  };

  #log: LogSink;
  #handlers: SubscriptionHandlers;
  #limits: JsonLimits;
  readonly #thingToken: string;
  /** Undefined once closed (observe() either gives one or throws out of the constructor). */
  #observation: Observation | undefined;
  #registry: ThingSubscription[] | undefined;
  // The counters of SubscriptionStats, as fields rather than an object of their own.
  #subscribed = 0;
  #keepAlives = 0;
  #dataMessages = 0;
  #values = 0;
  #errors = 0;
  #dropped = 0;
  readonly keepAliveMs: number;
  readonly livenessMs: number;

  constructor(options: ThingSubscriptionOptions) {
    this.keepAliveMs = positiveInteger(options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS, "keepAliveMs");
    this.livenessMs = this.keepAliveMs + positiveInteger(options.graceMs ?? DEFAULT_GRACE_MS, "graceMs");
    this.#log = options.log;
    this.#handlers = options.handlers;
    this.#limits = options.jsonLimits ?? DEFAULT_JSON_LIMITS;
    this.#thingToken = options.thingToken;
    this.#registry = options.registry;
    try {
      this.#observation = options.coap.observe(
        { method: "GET", path: `/v2/things/${options.thingToken}`, query: { keepAlive: this.keepAliveMs } },
        new ThingSubscription.#Callbacks(this),
        // The endpoint declares the observation lost after this much silence and re-registers.
        // The platform pushes every write as it happens: its notifications are events, so one
        // overtaken by a keep-alive on the way still counts (the dispatcher orders commands by datetime).
        { livenessMs: this.livenessMs, deliverReordered: true },
      );
    } catch (failure) {
      throw redactError(errorFromFailure("subscribe", failure), options.thingToken);
    }
    this.#registry?.push(this);
  }

  get stats(): SubscriptionStats {
    return {
      subscribed: this.#subscribed,
      keepAlives: this.#keepAlives,
      dataMessages: this.#dataMessages,
      values: this.#values,
      errors: this.#errors,
      dropped: this.#dropped,
    };
  }

  get active(): boolean {
    return this.#observation?.active === true;
  }

  /** Subscribe again now (e.g. the network came back). */
  reregister(): void {
    this.#observation?.reregister();
  }

  /** Cancels the observation (RFC 7641 §3.6); safe to call twice. */
  async close(): Promise<void> {
    const observation = this.#observation;
    if (observation === undefined) return;
    this.#observation = undefined;
    const registry = this.#registry;
    this.#registry = undefined;
    const at = registry?.indexOf(this) ?? -1;
    if (at >= 0) registry?.splice(at, 1);
    await observation.cancel();
  }

  private receive(response: CoapResponse): void {
    if (this.#observation === undefined) return;
    const notification = classifyNotification(response, this.#limits);
    switch (notification.kind) {
      case "subscribed":
        this.#subscribed++;
        this.#log("info", "subscribed to the thing's channel");
        this.call("onSubscribed", () => this.#handlers.onSubscribed?.());
        break;
      case "keep-alive":
        this.#keepAlives++;
        break;
      case "status":
        this.#log("debug", `subscription status "${notification.status}" ignored`);
        break;
      case "values":
        this.#dataMessages++;
        if (notification.dropped > 0) {
          this.#dropped += notification.dropped;
          this.#log("warn", `dropped ${notification.dropped} malformed value item(s) from a notification`);
        }
        if (notification.values.length > 0) {
          this.#values += notification.values.length;
          this.call("onValues", () => this.#handlers.onValues(notification.values));
        }
        break;
      case "error":
        this.#errors++;
        this.#log("error", `subscription error: ${notification.error.message}`);
        this.call("onError", () => this.#handlers.onError?.(notification.error));
        break;
      case "invalid":
        this.#dropped++;
        this.#log("warn", `dropped a notification: ${notification.reason}`);
        break;
    }
  }

  // A throwing handler must not break the endpoint's receive path.
  private call(name: string, body: () => void): void {
    try {
      body();
    } catch (error) {
      this.#log("error", `subscription handler ${name} threw: ${String(error)}`);
    }
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0)
    throw new RangeError(`${name} must be a positive whole number of ms, got ${value}`);
  return value;
}
