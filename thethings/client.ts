// The theThings.IO device API over CoAP [thethings-coap-api.md]: Activate, Write, Read and
// Subscribe, on top of any CoapClient (coap/client-api.ts). Replies and errors become typed
// results (ThethingsError); the thing token never appears in a log line or an error message.

import {
  type CoapClient,
  CoapRequestError,
  type CoapResponse,
  type RequestOptions,
  type SentRequest,
} from "../coap/client-api.js";
import { Code, ContentFormat, isSuccessCode } from "../coap/codes.js";
import type { LogSink } from "../kernel/log.js";
import { encodeUtf8 } from "../kernel/utf8.js";
import { formatCompactDate, isPlatformTime } from "./dates.js";
import {
  errorFromFailure,
  errorFromResponse,
  protocolError,
  redactError,
  ThethingsError,
  type ThethingsOperation,
} from "./errors.js";
import {
  DEFAULT_JSON_LIMITS,
  DEFAULT_NAME_BUDGET,
  isJsonObject,
  type JsonLimits,
  MemberNameBudget,
  parseJsonPayload,
} from "./json.js";
import { type SubscribeOptions, type SubscriptionHandlers, ThingSubscription } from "./subscription.js";
import { checkThingToken, redactSecret } from "./token.js";
import {
  encodeWriteBody,
  isValidKey,
  parseStatusBody,
  parseValueItems,
  type ThingValue,
  type WriteValue,
  writeValueProblem,
} from "./values.js";

/** The platform returns at most 100 values per read [doc]. */
export const READ_LIMIT_MAX = 100;
/** Activation codes seen have 34 characters [lib]; anything past this is not a code. */
const MAX_ACTIVATION_CODE_LENGTH = 256;

export interface ThethingsClientOptions {
  readonly coap: CoapClient;
  readonly log: LogSink;
  /** The stored thing token, if the device has one (else call activate(), then setThingToken()). */
  readonly thingToken?: string;
  /** Bounds on every JSON reply (default 16 KB, depth 16). */
  readonly jsonLimits?: JsonLimits;
}

export interface ReadOptions {
  /** 1–100 (the platform's default is 1). */
  readonly limit?: number;
  /** Oldest value wanted, UTC ms (sent as YYYYMMDDHHmmss). */
  readonly startDate?: number;
  /** Newest value wanted, UTC ms (sent as YYYYMMDDHHmmss). */
  readonly endDate?: number;
  /**
   * A key never written answers 4.04 [lib]; with this set, read() returns [] for it instead of
   * throwing "not-found". For callers to whom that is an expected answer (restoring actuators):
   * no exception on that path, so a debug build under xsbug, which breaks on every exception by
   * default, does not stop at each boot.
   */
  readonly absentIsEmpty?: boolean;
}

/**
 * The result of writeOnce().
 *
 * - `{ok: true}`: the platform stored the batch (2.xx).
 * - `{ok: false, error, retryWith}`: no answer came back (`error.requestKind === "timeout"`).
 *   The batch may or may not be stored. Pass `retryWith` to writeOnce() with the same values to
 *   send the very same CoAP message again (same message ID and token): within EXCHANGE_LIFETIME
 *   of `retryWith.firstSentAt` (247 s with default parameters, RFC 7252 §4.8.2) the server's
 *   deduplication (§4.5) answers it without storing the batch twice. Past that the endpoint
 *   refuses the resend ("expired") and writeOnce sends the batch as a new message by itself.
 * - `{ok: false, error}` without `retryWith`: the attempt failed for certain. `error.retryable`
 *   says whether a fresh attempt (a new message) may succeed later (5.xx, rate limit, RST …);
 *   "unauthorized" means the token was refused; "bad-request" means the batch will never pass.
 */
export type WriteOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: ThethingsError; readonly retryWith?: SentRequest };

export class ThethingsClient {
  #coap: CoapClient;
  #log: LogSink;
  #limits: JsonLimits;
  #token: string | undefined;
  /**
   * Open subscriptions, so close() can end them; bounded by the caller's subscribe() calls (one in
   * practice). An array: for so few, smaller than a Set.
   */
  #subscriptions: ThingSubscription[] = [];

  constructor(options: ThethingsClientOptions) {
    this.#coap = options.coap;
    this.#log = options.log;
    const limits = options.jsonLimits ?? DEFAULT_JSON_LIMITS;
    // One budget for every reply and notification of this client (see MemberNameBudget).
    this.#limits =
      limits.names === undefined ? { ...limits, names: new MemberNameBudget(DEFAULT_NAME_BUDGET) } : limits;
    if (options.thingToken !== undefined) this.setThingToken(options.thingToken);
  }

  get hasThingToken(): boolean {
    return this.#token !== undefined;
  }

  /**
   * Sets (or with undefined, forgets) the token for write, read and subscribe. Throws RangeError
   * for a malformed token.
   */
  setThingToken(token: string | undefined): void {
    if (token === undefined) {
      this.#token = undefined;
      return;
    }
    const check = checkThingToken(token);
    if (!check.ok) throw new RangeError(`refusing the thing token: ${check.reason}`);
    if (check.warning !== undefined) this.#log("warn", `thing token ${redactSecret(token)}: ${check.warning}`);
    this.#token = token;
  }

  /**
   * Activate: POST /v2/things/ with {"activationCode", "productId"?} → the thing token [doc, lib].
   * Does not set the token on this client. Rejects with ThethingsError: "activation-refused"
   * (wrong or used-up code), "rate-limited", "server", "protocol", "network".
   */
  async activate(activationCode: string, productId?: string): Promise<string> {
    if (
      typeof activationCode !== "string" ||
      activationCode.trim() === "" ||
      activationCode.length > MAX_ACTIVATION_CODE_LENGTH
    ) {
      throw new ThethingsError("invalid-argument", "activate", "the activation code must be non-empty text");
    }
    if (productId !== undefined && (typeof productId !== "string" || productId === "")) {
      throw new ThethingsError("invalid-argument", "activate", "the product ID must be non-empty text");
    }
    const body = productId === undefined ? { activationCode } : { activationCode, productId };
    const response = await this.sendUntilAnswered("activate", {
      method: "POST",
      path: "/v2/things/",
      payload: JSON.stringify(body),
      contentFormat: ContentFormat.Json,
    });
    const reply = this.replyBody("activate", response);
    const status = parseStatusBody(reply);
    if (status?.status === "error") {
      throw new ThethingsError("activation-refused", "activate", `the platform reported "${status.message ?? ""}"`, {
        platformMessage: status.message,
      });
    }
    const token = isJsonObject(reply) ? reply.thingToken : undefined;
    const check = checkThingToken(token);
    if (!check.ok)
      throw protocolError("activate", `the reply carries no usable thingToken (${check.reason})`, response.code);
    const thingToken = token as string;
    if (check.warning !== undefined)
      this.#log("warn", `activated thing token ${redactSecret(thingToken)}: ${check.warning}`);
    return thingToken;
  }

  /** Write: POST /v2/things/{TOKEN} with {"values":[...]}, Content-Format 50. Rejects with ThethingsError. */
  async write(values: readonly WriteValue[]): Promise<void> {
    const outcome = await this.writeOnce(values);
    if (!outcome.ok) throw outcome.error;
  }

  /**
   * A write for exactly-once delivery (see WriteOutcome). With `previous` (the `retryWith` of an
   * earlier outcome for the same `values`) the earlier message is sent again unchanged instead
   * of a new one. Failures of the exchange are returned, never thrown; misuse (no token, a
   * malformed value, `previous` from another batch) rejects with ThethingsError.
   */
  writeOnce(values: readonly WriteValue[], previous?: SentRequest): Promise<WriteOutcome> {
    // Not an async function: a suspended one would keep its whole frame (the body's text, the
    // request) while the exchange is in flight. Misuse still rejects rather than throws.
    let request: RequestOptions;
    try {
      request = this.writeRequest(values, previous);
    } catch (error) {
      return Promise.reject(error);
    }
    let response: Promise<CoapResponse>;
    try {
      response = previous === undefined ? this.#coap.request(request) : this.resendOrSend(previous, request);
    } catch (failure) {
      response = Promise.reject(failure);
    }
    return response.then(
      (answer) => this.writeOutcome(answer),
      (failure: unknown) => {
        const error = this.redacted(errorFromFailure("write", failure));
        const retryWith = error.requestKind === "timeout" ? (error.sent ?? previous) : undefined;
        return retryWith === undefined ? { ok: false, error } : { ok: false, error, retryWith };
      },
    );
  }

  /**
   * Read: GET /v2/things/{TOKEN}/resources/{KEY}?limit&startDate&endDate → values, newest first
   * as the platform sends them, datetimes normalised to UTC ms. Malformed items are dropped
   * (logged). Rejects with ThethingsError; "not-found" (4.04) means the key has no value yet.
   */
  async read(key: string, options: ReadOptions = {}): Promise<ThingValue[]> {
    const token = this.requireToken("read");
    if (!isValidKey(key))
      throw new ThethingsError("invalid-argument", "read", "the key must be letters, digits, '.', '-' or '_'");
    const { limit, startDate, endDate } = options;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > READ_LIMIT_MAX)) {
      throw new ThethingsError("invalid-argument", "read", `limit must be 1–${READ_LIMIT_MAX}, got ${limit}`);
    }
    for (const date of [startDate, endDate]) {
      if (date !== undefined && !isPlatformTime(date))
        throw new ThethingsError("invalid-argument", "read", `not a date: ${date}`);
    }
    const query = {
      limit,
      startDate: startDate === undefined ? undefined : formatCompactDate(startDate),
      endDate: endDate === undefined ? undefined : formatCompactDate(endDate),
    };
    const response = await this.send("read", { method: "GET", path: `/v2/things/${token}/resources/${key}`, query });
    if (options.absentIsEmpty === true && response.code === Code.NotFound) return [];
    const reply = this.replyBody("read", response);
    if (reply === undefined) return [];
    if (!Array.isArray(reply)) {
      const status = parseStatusBody(reply);
      if (status?.status === "error")
        throw protocolError(
          "read",
          `the platform reported "${status.message ?? ""}" under a success code`,
          response.code,
        );
      throw protocolError("read", "the reply is not a JSON array", response.code);
    }
    const { values, dropped } = parseValueItems(reply, key);
    if (dropped > 0) this.#log("warn", `read ${key}: dropped ${dropped} malformed item(s)`);
    return values;
  }

  /**
   * Subscribe: GET /v2/things/{TOKEN} with Observe and keepAlive=MS. The endpoint re-registers
   * after keepAlive + grace of silence. Throws ThethingsError if no token is set or the endpoint
   * refuses the observation at once.
   */
  subscribe(handlers: SubscriptionHandlers, options: SubscribeOptions = {}): ThingSubscription {
    const thingToken = this.requireToken("subscribe");
    const subscription = new ThingSubscription({
      ...options,
      coap: this.#coap,
      log: this.#log,
      thingToken,
      handlers,
      jsonLimits: this.#limits,
      registry: this.#subscriptions,
    });
    return subscription;
  }

  /** Closes every open subscription; safe to call twice. */
  async close(): Promise<void> {
    const open = this.#subscriptions.splice(0);
    for (const subscription of open) await subscription.close();
  }

  /** The request that writes `values`; throws ThethingsError for misuse. */
  private writeRequest(values: readonly WriteValue[], previous: SentRequest | undefined): RequestOptions {
    const token = this.requireToken("write");
    if (values.length === 0) throw new ThethingsError("invalid-argument", "write", "nothing to write");
    for (const value of values) {
      const problem = writeValueProblem(value);
      if (problem !== undefined) throw new ThethingsError("invalid-argument", "write", problem);
    }
    const payload = encodeWriteBody(values);
    if (previous !== undefined && !endsWith(previous.bytes, encodeUtf8(payload))) {
      throw new ThethingsError(
        "invalid-argument",
        "write",
        "the previous attempt carried another batch: resend it with its own values",
      );
    }
    return { method: "POST", path: `/v2/things/${token}`, payload, contentFormat: ContentFormat.Json };
  }

  private writeOutcome(response: CoapResponse): WriteOutcome {
    try {
      this.checkWriteReply(response);
      return { ok: true };
    } catch (error) {
      return { ok: false, error: error as ThethingsError };
    }
  }

  // Past EXCHANGE_LIFETIME the server may have forgotten the message ID (RFC 7252 §4.8.2), so
  // resending it buys nothing over a new message: the endpoint refuses it ("expired") and the
  // batch goes as a new message, which is what the caller would do next anyway.
  private async resendOrSend(previous: SentRequest, request: RequestOptions): Promise<CoapResponse> {
    try {
      return await this.#coap.resend(previous);
    } catch (failure) {
      if (!(failure instanceof CoapRequestError) || failure.kind !== "expired") throw failure;
      this.#log(
        "info",
        "write: the unanswered attempt is past EXCHANGE_LIFETIME; sending the batch as a new message (stored twice if the first attempt did arrive)",
      );
      return this.#coap.request(request);
    }
  }

  private requireToken(operation: ThethingsOperation): string {
    if (this.#token === undefined)
      throw new ThethingsError("no-token", operation, "no thing token: activate the thing first");
    return this.#token;
  }

  private async send(operation: ThethingsOperation, request: RequestOptions): Promise<CoapResponse> {
    try {
      return await this.#coap.request(request);
    } catch (failure) {
      throw this.redacted(errorFromFailure(operation, failure));
    }
  }

  /**
   * For a request the platform must see once (an activation code activates one thing): when no
   * answer came, the same message (same message ID and token) goes again while the server may
   * remember it (EXCHANGE_LIFETIME, RFC 7252 §4.8.2), so a server whose reply was lost answers
   * from its duplicate record (§4.5) instead of refusing a code it has just used. Past the
   * lifetime the failure is returned as any other.
   */
  private async sendUntilAnswered(operation: ThethingsOperation, request: RequestOptions): Promise<CoapResponse> {
    let failure: unknown;
    try {
      return await this.#coap.request(request);
    } catch (error) {
      failure = error;
    }
    while (failure instanceof CoapRequestError && failure.kind === "timeout" && failure.sent !== undefined) {
      const sent: SentRequest = failure.sent;
      this.#log("info", `${operation}: no answer; sending the same message again (mid ${sent.messageId})`);
      try {
        return await this.#coap.resend(sent);
      } catch (error) {
        // Past the lifetime ("expired") the attempt simply timed out: report that.
        if (!(error instanceof CoapRequestError) || error.kind !== "expired") failure = error;
        else break;
      }
    }
    throw this.redacted(errorFromFailure(operation, failure));
  }

  /** The parsed JSON body of a success reply (undefined if empty), or the error it stands for. */
  private replyBody(operation: ThethingsOperation, response: CoapResponse): unknown {
    const parsed = response.payload.length === 0 ? undefined : parseJsonPayload(response.payload, this.#limits);
    if (!isSuccessCode(response.code)) {
      const status = parsed?.ok === true ? parseStatusBody(parsed.value) : undefined;
      throw this.redacted(errorFromResponse(operation, response.code, status?.message));
    }
    if (parsed === undefined) return undefined;
    if (!parsed.ok) throw protocolError(operation, `unreadable reply: ${parsed.reason}`, response.code);
    return parsed.value;
  }

  // The code decides a write: 2.01 with either documented body ({"status":"Success","message":
  // "Created"} [doc] or {"status":"created"} [lib]), an empty or an unreadable body is success,
  // since the batch is stored and sending it again would duplicate it; only an explicit JSON
  // error refuses it.
  private checkWriteReply(response: CoapResponse): void {
    if (!isSuccessCode(response.code) || response.payload.length === 0) {
      this.replyBody("write", response);
      return;
    }
    const parsed = parseJsonPayload(response.payload, this.#limits);
    const status = parsed.ok ? parseStatusBody(parsed.value) : undefined;
    if (status?.status === "error") {
      throw this.redacted(
        protocolError("write", `the platform reported "${status.message ?? ""}" under a success code`, response.code),
      );
    }
    if (status === undefined) this.#log("debug", "write: success code with an unrecognised body");
  }

  // Lower layers or the platform may echo the request path in a message.
  private redacted(error: ThethingsError): ThethingsError {
    return redactError(error, this.#token);
  }
}

function endsWith(bytes: Uint8Array, tail: Uint8Array): boolean {
  if (tail.length > bytes.length) return false;
  const offset = bytes.length - tail.length;
  for (let i = 0; i < tail.length; i++) if (bytes[offset + i] !== tail[i]) return false;
  return true;
}
