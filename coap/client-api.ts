// The public shapes of the client endpoint (coap/endpoint.ts): what a request asks for, what
// comes back, how it fails, and what an observation reports.

import type { MessageType } from "./codes.js";
import type { CoapOption } from "./message.js";

export type Method = "GET" | "POST" | "PUT" | "DELETE" | "FETCH" | "PATCH" | "iPATCH";

export interface RequestOptions {
  readonly method: Method;
  /** "/v2/things/TOKEN": split into Uri-Path options. */
  readonly path: string;
  /** Sent as Uri-Query options "key=value", in key order; undefined values are left out. */
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** A string is sent as UTF-8. */
  readonly payload?: Uint8Array | string;
  readonly contentFormat?: number;
  readonly accept?: number;
  /** CON (default) or NON. */
  readonly confirmable?: boolean;
  /**
   * Further options (e.g. ETag); the endpoint adds Uri-Path, Uri-Query, Content-Format, Accept, Observe, Block2 itself.
   */
  readonly options?: readonly CoapOption[];
  /** Aborting it cancels the request: it leaves the queue or stops retransmitting, and rejects with "cancelled". */
  readonly signal?: AbortSignalLike;
}

/** The part of AbortSignal the endpoint uses: a host AbortSignal fits, and coap/cancel.ts has a portable one. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: "abort", listener: () => void): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

export interface CoapResponse {
  readonly type: MessageType;
  readonly code: number;
  readonly options: readonly CoapOption[];
  /** The whole body: Block2 transfers are reassembled before delivery. */
  readonly payload: Uint8Array;
}

export type RequestErrorKind =
  /** No ACK after MAX_RETRANSMIT retransmissions, or no (separate / NON) response in time. */
  | "timeout"
  /** The server answered with RST. */
  | "reset"
  /** cancel() or close() ended it. */
  | "cancelled"
  /** The body (Block2) exceeds the configured maximum. */
  | "too-large"
  /** The bounded request queue is full. */
  | "queue-full"
  /** The request could not be encoded (too big for one datagram, bad option). */
  | "bad-request"
  /** A Block2 transfer broke (server stopped sending blocks, inconsistent blocks). */
  | "block-transfer"
  /**
   * resend() too late: EXCHANGE_LIFETIME has passed since the first transmission, so the server may have forgotten the
   * message ID; send a fresh request instead.
   */
  | "expired";

export class CoapRequestError extends Error {
  /**
   * A field, not `this.name = …` in the constructor: Moddable freezes Error.prototype, and the assignment throws there.
   */
  override readonly name = "CoapRequestError";
  readonly kind: RequestErrorKind;
  /** For "timeout": what was sent, so the same message can be sent again (see Endpoint.resend). */
  readonly sent: SentRequest | undefined;

  constructor(kind: RequestErrorKind, message: string, sent?: SentRequest) {
    super(message);
    this.kind = kind;
    this.sent = sent;
  }
}

/**
 * A request as it went on the wire, kept so that a request whose answer was lost can be sent
 * again as the very same message (same message ID and token) while the server may still
 * remember it (EXCHANGE_LIFETIME, RFC 7252 §4.8.2), and so be deduplicated there.
 */
export interface SentRequest {
  readonly messageId: number;
  readonly token: Uint8Array;
  readonly bytes: Uint8Array;
  /** Clock time of the first transmission. */
  readonly firstSentAt: number;
}

export interface ObserveHandlers {
  /** A fresh notification (or the registration response), in order; stale ones are not delivered (RFC 7641 §3.4). */
  onNotification(response: CoapResponse): void;
  /**
   * The observation stopped delivering (silence past the liveness window, RST, error response, timeout); re-
   * registration follows.
   */
  onLost?(reason: string): void;
  /** A re-registration succeeded: the stream continues. */
  onReestablished?(): void;
}

export interface ObserveOptions {
  /** Declare the observation lost after this much silence (ms). Default: Max-Age of the last notification + grace. */
  readonly livenessMs?: number;
  /**
   * Deliver a notification that arrives after a newer one instead of dropping it. RFC 7641 §3.4
   * drops it because a notification is a resource's state and the newer state wins; when the
   * notifications are events (theThings.IO pushes every write), a late one still carries news
   * and the application orders events itself (by their own timestamps). Duplicates are still
   * suppressed by message deduplication (RFC 7252 §4.5). Default false.
   */
  readonly deliverReordered?: boolean;
}

export interface Observation {
  /** Proactive cancel (GET with Observe = 1, RFC 7641 §3.6); resolves when done or given up. */
  cancel(): Promise<void>;
  /** Re-register now with a fresh token (network back, server known restarted). */
  reregister(): void;
  readonly active: boolean;
}

/** What the rest of the core needs from the endpoint (coap/endpoint.ts implements it). */
export interface CoapClient {
  request(options: RequestOptions): Promise<CoapResponse>;
  /** Sends `sent` again as the same message (same message ID and token) and waits for its answer. */
  resend(sent: SentRequest): Promise<CoapResponse>;
  observe(options: RequestOptions, handlers: ObserveHandlers, observeOptions?: ObserveOptions): Observation;
}
