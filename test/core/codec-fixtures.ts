// Helpers shared by the codec specs (not a spec itself: no tests register here).
import { Code, MessageType } from "../../coap/codes.js";
import type { CoapMessage, DecodedMessage } from "../../coap/message.js";

/** Bytes from hex text; spaces are ignored ("40 01 7d34"). */
export function bytes(hexText: string): Uint8Array {
  const clean = hexText.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function filled(length: number, byte: number): Uint8Array {
  return new Uint8Array(length).fill(byte);
}

/** A CON GET with message ID 0 and nothing else, overridden by `fields`. */
export function message(fields: Partial<CoapMessage>): CoapMessage {
  return {
    type: MessageType.CON,
    code: Code.GET,
    messageId: 0,
    token: new Uint8Array(0),
    options: [],
    payload: new Uint8Array(0),
    ...fields,
  };
}

/** The decoded options as plain {number, value} pairs (decoded options read `value` through a getter). */
export function plainOptions(decoded: DecodedMessage): { number: number; value: Uint8Array }[] {
  return decoded.options.map((o) => ({ number: o.number, value: o.value }));
}
