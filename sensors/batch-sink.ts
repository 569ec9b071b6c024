// The port through which telemetry writes a batch to the platform. thethings-batch-sink.ts adapts
// the theThings.IO client to it; tests use fakes. Telemetry itself never sees CoAP.

import type { JsonObjectValue } from "../thethings/values.js";

/** One value of a batch; structurally a theThings.IO WriteValue (thethings/values.ts). */
export interface BatchValue {
  readonly key: string;
  /** A reading (number), or a report the device writes about itself (a JSON object). */
  readonly value: number | JsonObjectValue;
  /** When it was sampled, UTC milliseconds (whole seconds); absent when the wall clock was not set. */
  readonly datetime?: number;
}

/**
 * What one write attempt came to. Only "stored" releases the batch's values from the buffer;
 * every other outcome keeps the batch pinned for a later attempt (except a permanent refusal).
 */
export type BatchOutcome =
  /** The platform answered 2.01 Created: the values are stored. */
  | { readonly kind: "stored" }
  /**
   * No answer came (CoAP timeout). `retry`, when present, is the handle of the message as it
   * went on the wire (for a CoapClient, its SentRequest): passing it back to send() re-sends the
   * very same message (same message ID and token), which a server with duplicate detection
   * stores once (RFC 7252 §4.5). Opaque to telemetry.
   */
  | { readonly kind: "unanswered"; readonly retry?: BatchAttempt }
  /**
   * The platform answered with an error (code e.g. "4.29", "5.03"). `permanent` is true when the
   * same values can never succeed (4.00 Bad Request, 4.13, 4.15): telemetry then gives that batch
   * up instead of blocking the buffer behind it forever.
   */
  | { readonly kind: "refused"; readonly code: string; readonly permanent: boolean; readonly message?: string }
  /** Nothing was sent: no network, no thing token yet, the endpoint's queue is full. */
  | { readonly kind: "unavailable"; readonly reason: string };

/** An opaque handle of a write as it went on the wire (see BatchOutcome "unanswered"). */
export type BatchAttempt = unknown;

export interface BatchSink {
  /**
   * Writes `values` as one `{"values":[...]}` body. Telemetry has sized the batch so that this
   * body, encoded as batch-payload.ts does (the platform's JSON form), fits its payload limit.
   * With `previousAttempt` (from an "unanswered" outcome for these same values), re-sends that
   * exact message while the server may still remember it, or sends a new one once it cannot
   * (RFC 7252 §4.8.2: the endpoint that owns the transmission parameters decides; telemetry keeps
   * no lifetime of its own). Should resolve, not reject: a rejection counts as "unavailable".
   */
  send(values: readonly BatchValue[], previousAttempt?: BatchAttempt): Promise<BatchOutcome>;
}
