// The telemetry BatchSink over the theThings.IO client's exactly-once write (writeOnce): maps
// its outcomes and typed errors onto what telemetry decides on (keep, re-send, give up).
import type { SentRequest } from "../coap/client-api.js";
import type { ThethingsClient, WriteOutcome } from "../thethings/client.js";
import { ThethingsError } from "../thethings/errors.js";
import type { BatchAttempt, BatchOutcome, BatchSink, BatchValue } from "./batch-sink.js";

/** The part of the client the sink uses (a fake in tests). */
export type BatchWriter = Pick<ThethingsClient, "writeOnce">;

export interface ThethingsBatchSinkOptions {
  readonly client: BatchWriter;
}

const STORED: BatchOutcome = Object.freeze({ kind: "stored" });

/** What a failed write means for the batch. */
export function outcomeOfError(error: ThethingsError): BatchOutcome {
  const code = error.code ?? error.kind;
  switch (error.kind) {
    case "network":
      switch (error.requestKind) {
        // No answer, and no message to re-send (or too old to re-send): next time, a new write.
        case "timeout":
        case "expired":
          return { kind: "unanswered" };
        // RST: the server rejected the message without processing it (RFC 7252 §4.2).
        case "reset":
          return { kind: "refused", code: "RST", permanent: false, message: error.detail };
        // The request cannot be encoded (bigger than the endpoint's datagram): never will be.
        case "bad-request":
          return { kind: "refused", code: "unencodable", permanent: true, message: error.detail };
        default:
          return { kind: "unavailable", reason: error.detail };
      }
    case "no-token":
      return { kind: "unavailable", reason: "no thing token yet" };
    // The values themselves were refused (4.00, 4.13, 4.15 …) or could not be written at all.
    case "bad-request":
    case "invalid-argument":
      return { kind: "refused", code, permanent: true, message: error.detail };
    // Rate limits and server errors pass; a refused token may be replaced by re-activation, and
    // the values are still good then; a reply that made no sense proves nothing either way.
    default:
      return { kind: "refused", code, permanent: false, message: error.detail };
  }
}

export class ThethingsBatchSink implements BatchSink {
  readonly #client: BatchWriter;

  constructor(options: ThethingsBatchSinkOptions) {
    if (options?.client === undefined || typeof options.client.writeOnce !== "function")
      throw new TypeError("ThethingsBatchSink: client.writeOnce required");
    this.#client = options.client;
  }

  /** Not an async function: a suspended one would keep its frame for as long as the write is in flight. */
  send(values: readonly BatchValue[], previousAttempt?: BatchAttempt): Promise<BatchOutcome> {
    let written: Promise<WriteOutcome>;
    try {
      written = this.#client.writeOnce(values, previousAttempt as SentRequest | undefined);
    } catch (error) {
      written = Promise.reject(error);
    }
    return written.then(outcomeOfWrite, outcomeOfFailure);
  }
}

function outcomeOfWrite(outcome: WriteOutcome): BatchOutcome {
  if (outcome.ok) return STORED;
  if (outcome.retryWith !== undefined) return { kind: "unanswered", retry: outcome.retryWith };
  return outcomeOfError(outcome.error);
}

function outcomeOfFailure(error: unknown): BatchOutcome {
  if (error instanceof ThethingsError) return outcomeOfError(error);
  return { kind: "unavailable", reason: `write failed: ${error instanceof Error ? error.message : String(error)}` };
}
