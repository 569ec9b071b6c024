// Message → bytes (RFC 7252 §3, §3.1). MessageEncoder writes into one buffer it owns and reuses
// for every message; encodeMessage into a new array of the message's exact size. Neither
// allocates anything per option.

import { utf8Length, writeUtf8 } from "../kernel/utf8.js";
import { Code } from "./codes.js";
import { CoapFormatError } from "./format-error.js";
import type { CoapMessage, CoapOption, OptionValue } from "./message.js";
import { sortOptions } from "./message.js";
import { uintLength } from "./options.js";

/** RFC 7252 §4.6: 1152 bytes is the recommended upper bound; 1280 is the IPv6 minimum MTU. */
export const DEFAULT_ENCODER_CAPACITY = 1280;
/** Largest option length and delta the extended forms can express: 65535 + 269 (§3.1). */
export const MAX_OPTION_EXTENT = 65535 + 269;
/** uint option values are at most 4 bytes here (the longest uint in RFC 7252 §5.10 is 4). */
const MAX_UINT = 0xffffffff;

/** Bytes the value takes on the wire; anything but a uint, a string or bytes is a bad field. */
function valueLength(number: number, value: OptionValue): number {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0 || value > MAX_UINT) {
      throw new CoapFormatError("bad-field", `option ${number}: uint value ${value}`);
    }
    return uintLength(value);
  }
  if (typeof value === "string") return utf8Length(value);
  if (value instanceof Uint8Array) return value.length;
  throw new CoapFormatError("bad-field", `option ${number}: value is neither a number, a string nor bytes`);
}

/** Bytes an option's delta or length field needs beyond its nibble: 0, 1 or 2 (§3.1). */
function extensionLength(field: number): number {
  return field < 13 ? 0 : field < 269 ? 1 : 2;
}

function isSorted(options: readonly CoapOption[]): boolean {
  for (let i = 1; i < options.length; i++) if (options[i]!.number < options[i - 1]!.number) return false;
  return true;
}

function checkHeader(message: CoapMessage): void {
  if (!Number.isInteger(message.type) || message.type < 0 || message.type > 3) {
    throw new CoapFormatError("bad-field", `type ${message.type}`);
  }
  if (!Number.isInteger(message.code) || message.code < 0 || message.code > 255) {
    throw new CoapFormatError("bad-field", `code ${message.code}`);
  }
  if (!Number.isInteger(message.messageId) || message.messageId < 0 || message.messageId > 0xffff) {
    throw new CoapFormatError("bad-field", `message ID ${message.messageId}`);
  }
  if (message.token.length > 8) throw new CoapFormatError("bad-token-length", `token of ${message.token.length} bytes`);
  // §4.1: an Empty message has no token, options or payload.
  if (
    message.code === Code.Empty &&
    (message.token.length > 0 || message.options.length > 0 || message.payload.length > 0)
  ) {
    throw new CoapFormatError("empty-message-not-empty", "code 0.00 with token, options or payload");
  }
}

function checkOptionNumber(number: number): void {
  if (!Number.isInteger(number) || number < 0 || number > 0xffff) {
    throw new CoapFormatError("bad-field", `option number ${number}`);
  }
}

function checkValueSize(number: number, size: number): void {
  if (size > MAX_OPTION_EXTENT) throw new CoapFormatError("option-value-too-long", `option ${number}: ${size} bytes`);
}

/** The exact encoded size of `message` (options must already be in order). */
function encodedLength(message: CoapMessage, options: readonly CoapOption[]): number {
  let length = 4 + message.token.length;
  let previous = 0;
  for (const option of options) {
    checkOptionNumber(option.number);
    const delta = option.number - previous;
    const size = valueLength(option.number, option.value);
    checkValueSize(option.number, size);
    length += 1 + extensionLength(delta) + extensionLength(size) + size;
    previous = option.number;
  }
  if (message.payload.length > 0) length += 1 + message.payload.length;
  return length;
}

function writeExtension(target: Uint8Array, at: number, field: number): number {
  if (field >= 269) {
    const extended = field - 269;
    target[at] = extended >> 8;
    target[at + 1] = extended & 0xff;
    return at + 2;
  }
  if (field >= 13) {
    target[at] = field - 13;
    return at + 1;
  }
  return at;
}

function nibble(field: number): number {
  return field < 13 ? field : field < 269 ? 13 : 14;
}

/** Copies bytes; a plain loop beats TypedArray.set for the few bytes of a token or an option. */
function copyBytes(source: Uint8Array, target: Uint8Array, at: number): number {
  const length = source.length;
  if (length > 16) {
    target.set(source, at);
    return at + length;
  }
  for (let i = 0; i < length; i++) target[at + i] = source[i]!;
  return at + length;
}

function writeValue(target: Uint8Array, at: number, value: OptionValue, size: number): number {
  if (typeof value === "number") {
    for (let i = size - 1, v = value; i >= 0; i--, v = Math.floor(v / 256)) target[at + i] = v & 0xff;
    return at + size;
  }
  if (typeof value === "string") return writeUtf8(value, target, at);
  return copyBytes(value, target, at);
}

function tooLarge(capacity: number): CoapFormatError {
  return new CoapFormatError("message-too-large", `the message exceeds the encoder's ${capacity} bytes`);
}

/**
 * Writes `message` into `target` in one pass, validating each option and checking room before
 * every write (so a string value's UTF-8 length is computed once); returns the end offset.
 */
function writeMessage(message: CoapMessage, options: readonly CoapOption[], target: Uint8Array): number {
  const capacity = target.length;
  const token = message.token;
  if (4 + token.length > capacity) throw tooLarge(capacity);
  target[0] = 0x40 | (message.type << 4) | token.length;
  target[1] = message.code;
  target[2] = message.messageId >> 8;
  target[3] = message.messageId & 0xff;
  let at = copyBytes(token, target, 4);
  let previous = 0;
  for (const option of options) {
    const number = option.number;
    checkOptionNumber(number);
    const delta = number - previous;
    const size = valueLength(number, option.value);
    checkValueSize(number, size);
    if (at + 1 + extensionLength(delta) + extensionLength(size) + size > capacity) throw tooLarge(capacity);
    target[at++] = (nibble(delta) << 4) | nibble(size);
    at = writeExtension(target, at, delta);
    at = writeExtension(target, at, size);
    at = writeValue(target, at, option.value, size);
    previous = number;
  }
  const payload = message.payload;
  if (payload.length > 0) {
    if (at + 1 + payload.length > capacity) throw tooLarge(capacity);
    target[at++] = 0xff;
    at = copyBytes(payload, target, at);
  }
  return at;
}

export class MessageEncoder {
  readonly #buffer: Uint8Array;

  constructor(capacity: number = DEFAULT_ENCODER_CAPACITY) {
    this.#buffer = new Uint8Array(capacity);
  }

  get capacity(): number {
    return this.#buffer.length;
  }

  /**
   * Encodes into the encoder's own buffer and returns a view of it, valid until the next call:
   * copy it (`slice()`) to keep it, e.g. for retransmission. A message that does not fit throws
   * "message-too-large" (and leaves the buffer's contents undefined).
   */
  encode(message: CoapMessage): Uint8Array {
    checkHeader(message);
    const options = isSorted(message.options) ? message.options : sortOptions(message.options);
    return this.#buffer.subarray(0, writeMessage(message, options, this.#buffer));
  }
}

/**
 * Encodes into a new array of exactly the message's size. A message longer than `maxBytes`
 * throws "message-too-large" before anything is allocated (the endpoint's datagram limit, which
 * then needs no buffer of that size kept for the life of the endpoint).
 */
export function encodeMessage(message: CoapMessage, maxBytes: number = Number.POSITIVE_INFINITY): Uint8Array {
  checkHeader(message);
  const options = isSorted(message.options) ? message.options : sortOptions(message.options);
  const length = encodedLength(message, options);
  if (length > maxBytes) throw tooLarge(maxBytes);
  const out = new Uint8Array(length);
  writeMessage(message, options, out);
  return out;
}
