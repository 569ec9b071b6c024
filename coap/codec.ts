// The codec's public surface, for code outside coap/ that wants one import.
export * from "./codes.js";
export { DatagramOption } from "./datagram-option.js";
export * from "./format-error.js";
export * from "./message.js";
export * from "./options.js";
export { DEFAULT_ENCODER_CAPACITY, MAX_OPTION_EXTENT, MessageEncoder, encodeMessage } from "./encoder.js";
export { decodeMessage } from "./decoder.js";
export { decodeUtf8, encodeUtf8, utf8Length, writeUtf8 } from "../kernel/utf8.js";
