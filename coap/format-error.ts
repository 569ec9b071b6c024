// The one error class the codec throws, with a machine-readable reason.

export type CoapFormatReason =
  | "truncated-header"
  | "bad-version"
  | "bad-token-length"
  | "token-overrun"
  | "reserved-option-nibble"
  | "option-overrun"
  | "option-number-too-large"
  | "marker-without-payload"
  | "empty-message-not-empty"
  | "bad-field"
  | "option-value-too-long"
  | "message-too-large";

export class CoapFormatError extends Error {
  /**
   * A field, not `this.name = …` in the constructor: Moddable freezes Error.prototype, and the assignment throws there.
   */
  override readonly name = "CoapFormatError";
  readonly reason: CoapFormatReason;
  /** Byte offset in the datagram where decoding stopped, when decoding. */
  readonly offset: number;

  constructor(reason: CoapFormatReason, detail: string, offset = -1) {
    super(`${reason}: ${detail}`);
    this.reason = reason;
    this.offset = offset;
  }
}
