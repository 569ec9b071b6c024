// Decoded message → CoapResponse. Decoded option values and payloads are views into a datagram
// that is only valid during the receive call, so whatever is handed to the application is
// copied out first.

import { encodeUtf8 } from "../kernel/utf8.js";
import type { CoapResponse } from "./client-api.js";
import type { CoapMessage, CoapOption } from "./message.js";
import { encodeUint } from "./options.js";

function copyValue(value: CoapOption["value"]): Uint8Array {
  if (value instanceof Uint8Array) return value.slice();
  return typeof value === "number" ? encodeUint(value) : encodeUtf8(value);
}

/** A self-contained copy of `message`, with `payload` instead of its own and without options numbered in `omit`. */
export function toResponse(
  message: CoapMessage,
  payload: Uint8Array = message.payload.slice(),
  omit: readonly number[] = [],
): CoapResponse {
  const options: CoapOption[] = [];
  for (const option of message.options) {
    if (omit.indexOf(option.number) < 0) options.push({ number: option.number, value: copyValue(option.value) });
  }
  return { type: message.type, code: message.code, options, payload };
}
