// The codec's public surface, for code outside coap/ that wants one import.

export { decodeUtf8, encodeUtf8, utf8Length, writeUtf8 } from "../kernel/utf8.js";
export * from "./codes.js";
export { DatagramOption } from "./datagram-option.js";
export { decodeMessage } from "./decoder.js";
export { DEFAULT_ENCODER_CAPACITY, encodeMessage, MAX_OPTION_EXTENT, MessageEncoder } from "./encoder.js";
export * from "./format-error.js";
export * from "./message.js";
export * from "./options.js";
