// Bytes → message (RFC 7252 §3, §3.1). Never reads past the datagram and never copies: the
// token, option values and payload are views into `bytes` (option values made on first read, see
// datagram-option.ts). Any malformation throws CoapFormatError with a reason; nothing else is
// thrown.
import { Code, type MessageType } from "./codes.js";
import { DatagramOption } from "./datagram-option.js";
import { CoapFormatError } from "./format-error.js";
import { type DecodedMessage, EMPTY_BYTES } from "./message.js";
import { type OptionDefinition, optionDefinitions } from "./options.js";

const NONE: readonly number[] = Object.freeze([]);
const PAYLOAD_MARKER = 0xff;
const MAX_OPTION_NUMBER = 0xffff;

/** The registry indexed by option number (all registered numbers are below 64). */
const DEFINITION_AT: readonly (OptionDefinition | undefined)[] = (() => {
  const table: (OptionDefinition | undefined)[] = [];
  for (const definition of optionDefinitions()) table[definition.number] = definition;
  for (let i = 0; i < table.length; i++) table[i] ??= undefined;
  return Object.freeze(table);
})();

/**
 * Whether a critical option must be treated as unrecognised: unknown (§5.4.1), a value length
 * outside its definition (§5.4.3), or a second occurrence of a non-repeatable option (§5.4.5).
 */
function isUnusableCritical(number: number, length: number, repeated: boolean): boolean {
  const definition = number < DEFINITION_AT.length ? DEFINITION_AT[number] : undefined;
  return (
    definition === undefined ||
    length < definition.minLength ||
    length > definition.maxLength ||
    (repeated && !definition.repeatable)
  );
}

export function decodeMessage(bytes: Uint8Array): DecodedMessage {
  const size = bytes.length;
  if (size < 4) throw new CoapFormatError("truncated-header", `${size} bytes`, 0);
  const first = bytes[0]!;
  const version = first >> 6;
  if (version !== 1) throw new CoapFormatError("bad-version", `version ${version}`, 0);
  const tokenLength = first & 0x0f;
  // RFC 7252 §3: lengths 9–15 are reserved and a message format error.
  if (tokenLength > 8) throw new CoapFormatError("bad-token-length", `token length ${tokenLength}`, 0);
  const code = bytes[1]!;
  let at = 4 + tokenLength;
  if (at > size) throw new CoapFormatError("token-overrun", "token past the end", 4);
  // §4.1: an Empty message must end after the message ID.
  if (code === Code.Empty && size > 4) {
    throw new CoapFormatError("empty-message-not-empty", "bytes after the header of a 0.00 message", 4);
  }
  const token = tokenLength === 0 ? EMPTY_BYTES : bytes.subarray(4, at);

  const options: DatagramOption[] = [];
  let unrecognisedCritical: number[] | undefined;
  let payload = EMPTY_BYTES;
  let number = 0;
  while (at < size) {
    const head = bytes[at]!;
    const start = at;
    at += 1;
    if (head === PAYLOAD_MARKER) {
      // §3: a marker followed by a zero-length payload is a message format error.
      if (at === size) throw new CoapFormatError("marker-without-payload", "payload marker at the end", start);
      payload = bytes.subarray(at);
      break;
    }
    // §3.1: nibble 13 adds one extension byte (+13), 14 two (+269), 15 is reserved.
    let delta = head >> 4;
    if (delta >= 13) {
      if (delta === 13) {
        if (at >= size) throw new CoapFormatError("option-overrun", "delta extension past the end", at);
        delta = bytes[at]! + 13;
        at += 1;
      } else if (delta === 14) {
        if (at + 1 >= size) throw new CoapFormatError("option-overrun", "delta extension past the end", at);
        delta = ((bytes[at]! << 8) | bytes[at + 1]!) + 269;
        at += 2;
      } else throw new CoapFormatError("reserved-option-nibble", `option head 0x${head.toString(16)}`, start);
    }
    let length = head & 0x0f;
    if (length >= 13) {
      if (length === 13) {
        if (at >= size) throw new CoapFormatError("option-overrun", "length extension past the end", at);
        length = bytes[at]! + 13;
        at += 1;
      } else if (length === 14) {
        if (at + 1 >= size) throw new CoapFormatError("option-overrun", "length extension past the end", at);
        length = ((bytes[at]! << 8) | bytes[at + 1]!) + 269;
        at += 2;
      } else throw new CoapFormatError("reserved-option-nibble", `option head 0x${head.toString(16)}`, start);
    }
    number += delta;
    // §12.2: option numbers are 16-bit.
    if (number > MAX_OPTION_NUMBER)
      throw new CoapFormatError("option-number-too-large", `option number ${number}`, start);
    const end = at + length;
    if (end > size) throw new CoapFormatError("option-overrun", `option ${number} of ${length} bytes`, at);
    options.push(new DatagramOption(number, bytes, at, end));
    if ((number & 1) === 1 && isUnusableCritical(number, length, delta === 0 && options.length > 1)) {
      (unrecognisedCritical ??= []).push(number);
    }
    at = end;
  }
  return {
    type: ((first >> 4) & 0x03) as MessageType,
    code,
    messageId: (bytes[2]! << 8) | bytes[3]!,
    token,
    options,
    payload,
    unrecognisedCritical: unrecognisedCritical ?? NONE,
  };
}
