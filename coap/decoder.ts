// Bytes → message (RFC 7252 §3, §3.1). Never reads past the datagram and never copies: the
// token, option values and payload are views into `bytes`. Any malformation throws
// CoapFormatError with a reason; nothing else is thrown.
import { Code, type MessageType } from "./codes.js";
import { CoapFormatError } from "./format-error.js";
import { EMPTY_BYTES, type DecodedMessage, type DecodedOption } from "./message.js";
import { isCritical, isRecognised } from "./options.js";

const NONE: readonly number[] = Object.freeze([]);
const PAYLOAD_MARKER = 0xff;

/** The value of a delta or length field whose nibble is `nibble` and extension starts at `at` (§3.1). */
function readExtended(bytes: Uint8Array, nibble: number, at: number): number {
  if (nibble < 13) return nibble;
  if (nibble === 13) {
    if (at >= bytes.length) throw new CoapFormatError("option-overrun", "extended field past the end", at);
    return bytes[at]! + 13;
  }
  if (at + 1 >= bytes.length) throw new CoapFormatError("option-overrun", "extended field past the end", at);
  return ((bytes[at]! << 8) | bytes[at + 1]!) + 269;
}

function extendedSize(nibble: number): number {
  return nibble < 13 ? 0 : nibble === 13 ? 1 : 2;
}

export function decodeMessage(bytes: Uint8Array): DecodedMessage {
  if (bytes.length < 4) throw new CoapFormatError("truncated-header", `${bytes.length} bytes`, 0);
  const first = bytes[0]!;
  const version = first >> 6;
  if (version !== 1) throw new CoapFormatError("bad-version", `version ${version}`, 0);
  const type = ((first >> 4) & 0x03) as MessageType;
  const tokenLength = first & 0x0f;
  if (tokenLength > 8) throw new CoapFormatError("bad-token-length", `token length ${tokenLength}`, 0);
  const code = bytes[1]!;
  const messageId = (bytes[2]! << 8) | bytes[3]!;
  if (4 + tokenLength > bytes.length) throw new CoapFormatError("token-overrun", "token past the end", 4);
  // §4.1: an Empty message must end after the message ID.
  if (code === Code.Empty && bytes.length > 4) {
    throw new CoapFormatError("empty-message-not-empty", "bytes after the header of a 0.00 message", 4);
  }
  const token = tokenLength === 0 ? EMPTY_BYTES : bytes.subarray(4, 4 + tokenLength);

  const options: DecodedOption[] = [];
  let unrecognisedCritical: number[] | undefined;
  let payload = EMPTY_BYTES;
  let number = 0;
  let at = 4 + tokenLength;
  while (at < bytes.length) {
    const head = bytes[at]!;
    if (head === PAYLOAD_MARKER) {
      // §3: a marker followed by a zero-length payload is a message format error.
      if (at + 1 >= bytes.length) throw new CoapFormatError("marker-without-payload", "payload marker at the end", at);
      payload = bytes.subarray(at + 1);
      break;
    }
    const deltaNibble = head >> 4;
    const lengthNibble = head & 0x0f;
    if (deltaNibble === 15 || lengthNibble === 15) {
      throw new CoapFormatError("reserved-option-nibble", `option head 0x${head.toString(16)}`, at);
    }
    at += 1;
    const delta = readExtended(bytes, deltaNibble, at);
    at += extendedSize(deltaNibble);
    const length = readExtended(bytes, lengthNibble, at);
    at += extendedSize(lengthNibble);
    number += delta;
    if (number > 0xffff) throw new CoapFormatError("option-number-too-large", `option number ${number}`, at);
    if (at + length > bytes.length) throw new CoapFormatError("option-overrun", `option ${number} of ${length} bytes`, at);
    options.push({ number, value: bytes.subarray(at, at + length) });
    if (isCritical(number) && !isRecognised(number)) (unrecognisedCritical ??= []).push(number);
    at += length;
  }
  return { type, code, messageId, token, options, payload, unrecognisedCritical: unrecognisedCritical ?? NONE };
}
