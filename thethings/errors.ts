// The one error type of the platform client. A CoAP response code, the platform's JSON error
// message, a transport failure or a local misuse each become a ThethingsError with a `kind`
// that callers can act on without parsing text.

import { CoapRequestError, type RequestErrorKind, type SentRequest } from "../coap/client-api.js";
import { Code, codeClass, codeString } from "../coap/codes.js";
import { redactIn } from "./token.js";

export type ThethingsOperation = "activate" | "write" | "read" | "subscribe";

export type ThethingsErrorKind =
  /** The thing token was refused: 4.01, 4.03 or 4.04 on a thing path (write, subscribe), 4.01/4.03 on a read. */
  | "unauthorized"
  /** A read of a key with no value yet (4.04 on a resource path) [lib]. */
  | "not-found"
  /** Activation refused: 4.00 "Error creating thing" [doc], 4.01, 4.03 or 4.04 on /v2/things/. */
  | "activation-refused"
  /** Any other 4.xx: the request itself was wrong. */
  | "bad-request"
  /** 4.29, or 4.03 whose message speaks of a rate limit (the HTTP twin uses 403 for both) [doc]. */
  | "rate-limited"
  /** 5.xx. */
  | "server"
  /** The reply made no sense: bad JSON, an unexpected shape, a JSON error under a success code. */
  | "protocol"
  /** The exchange failed below the platform: timeout, RST, full queue … (`requestKind` says which). */
  | "network"
  /** The caller passed something the platform cannot take (bad key, non-finite number …). */
  | "invalid-argument"
  /** A thing operation was asked before a thing token was set. */
  | "no-token";

export interface ThethingsErrorDetails {
  /** The CoAP response code, e.g. "4.01". */
  readonly code?: string;
  /** The `message` of the platform's `{"status":"error","message":...}` body. */
  readonly platformMessage?: string;
  /** For "network": the CoapRequestError kind. */
  readonly requestKind?: RequestErrorKind;
  /** For a "network" timeout: the request as sent, to be resent as the same message. */
  readonly sent?: SentRequest;
  readonly cause?: unknown;
}

/** Platform messages are capped before they go into an error message or a log line. */
const MAX_PLATFORM_MESSAGE = 160;

export class ThethingsError extends Error {
  /**
   * A field, not `this.name = …` in the constructor: Moddable freezes Error.prototype, and the
   * assignment throws there.
   */
  override readonly name = "ThethingsError";
  readonly kind: ThethingsErrorKind;
  /** The message without the "operation: " prefix. */
  readonly detail: string;
  readonly operation: ThethingsOperation;
  readonly code: string | undefined;
  readonly platformMessage: string | undefined;
  readonly requestKind: RequestErrorKind | undefined;
  readonly sent: SentRequest | undefined;
  override readonly cause: unknown;

  constructor(
    kind: ThethingsErrorKind,
    operation: ThethingsOperation,
    message: string,
    details: ThethingsErrorDetails = {},
  ) {
    super(`${operation}: ${message}`);
    this.kind = kind;
    this.detail = message;
    this.operation = operation;
    this.code = details.code;
    this.platformMessage = details.platformMessage;
    this.requestKind = details.requestKind;
    this.sent = details.sent;
    this.cause = details.cause;
  }

  /**
   * Whether the same operation may succeed later without any change by the caller: rate limits,
   * server errors, and transport failures other than a refused encoding or a cancel.
   */
  get retryable(): boolean {
    switch (this.kind) {
      case "rate-limited":
      case "server":
        return true;
      case "network":
        return (
          this.requestKind !== "bad-request" && this.requestKind !== "cancelled" && this.requestKind !== "too-large"
        );
      default:
        return false;
    }
  }
}

/** The error for a non-success response `code` to `operation`, with the platform's message if any. */
export function errorFromResponse(
  operation: ThethingsOperation,
  code: number,
  platformMessage?: string,
): ThethingsError {
  const message = platformMessage === undefined ? undefined : capMessage(platformMessage);
  const details: ThethingsErrorDetails = { code: codeString(code), platformMessage: message };
  const text = `${codeString(code)}${message === undefined ? "" : ` "${message}"`}`;
  return new ThethingsError(kindForCode(operation, code, message), operation, text, details);
}

function kindForCode(operation: ThethingsOperation, code: number, message: string | undefined): ThethingsErrorKind {
  if (codeClass(code) === 5) return "server";
  if (codeClass(code) !== 4) return "protocol";
  if (code === Code.TooManyRequests) return "rate-limited";
  if (code === Code.Forbidden && message !== undefined && /rate|limit|too many|throttl/i.test(message))
    return "rate-limited";
  const refusedCredential = code === Code.Unauthorized || code === Code.Forbidden || code === Code.NotFound;
  if (operation === "activate")
    return refusedCredential || code === Code.BadRequest ? "activation-refused" : "bad-request";
  if (operation === "read" && code === Code.NotFound) return "not-found";
  return refusedCredential ? "unauthorized" : "bad-request";
}

/** A transport failure from the endpoint, kept as the cause. */
export function errorFromRequestError(operation: ThethingsOperation, error: CoapRequestError): ThethingsError {
  return new ThethingsError("network", operation, `${error.kind}: ${error.message}`, {
    requestKind: error.kind,
    sent: error.sent,
    cause: error,
  });
}

/** Any rejection of a CoapClient call as a ThethingsError (non-endpoint errors become "network" too). */
export function errorFromFailure(operation: ThethingsOperation, failure: unknown): ThethingsError {
  if (failure instanceof ThethingsError) return failure;
  if (failure instanceof CoapRequestError) return errorFromRequestError(operation, failure);
  return new ThethingsError("network", operation, `unexpected failure: ${String(failure)}`, { cause: failure });
}

export function protocolError(operation: ThethingsOperation, message: string, code?: number): ThethingsError {
  return new ThethingsError("protocol", operation, message, {
    code: code === undefined ? undefined : codeString(code),
  });
}

/** `error` with every occurrence of `secret` (the thing token) redacted from its texts. */
export function redactError(error: ThethingsError, secret: string | undefined): ThethingsError {
  if (secret === undefined || (!error.message.includes(secret) && !(error.platformMessage ?? "").includes(secret)))
    return error;
  return new ThethingsError(error.kind, error.operation, redactIn(error.detail, secret), {
    code: error.code,
    platformMessage: error.platformMessage === undefined ? undefined : redactIn(error.platformMessage, secret),
    requestKind: error.requestKind,
    sent: error.sent,
    cause: error.cause,
  });
}

function capMessage(message: string): string {
  return message.length > MAX_PLATFORM_MESSAGE ? `${message.slice(0, MAX_PLATFORM_MESSAGE)}…` : message;
}
