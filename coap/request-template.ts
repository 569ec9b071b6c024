// RequestOptions → the request the endpoint puts on the wire (RFC 7252 §5.10, §6.4), and the
// variants it derives: observe registration (RFC 7641 §3.1), deregistration (§3.6) and Block2
// follow-ups (RFC 7959 §2.4).

import { encodeUtf8 } from "../kernel/utf8.js";
import { CoapRequestError, type Method, type RequestOptions } from "./client-api.js";
import { Code, MessageType } from "./codes.js";
import { encodeMessage } from "./encoder.js";
import { type CoapOption, type DecodedMessage, EMPTY_BYTES, pathOptions, queryOptions } from "./message.js";
import { type BlockValue, encodeBlock, OptionNumber } from "./options.js";

export const METHOD_CODES: Readonly<Record<Method, number>> = Object.freeze({
  GET: Code.GET,
  POST: Code.POST,
  PUT: Code.PUT,
  DELETE: Code.DELETE,
  FETCH: Code.FETCH,
  PATCH: Code.PATCH,
  iPATCH: Code.iPATCH,
});

/** A request before it gets a token and a message ID. */
export interface RequestTemplate {
  readonly type: MessageType;
  readonly code: number;
  readonly options: readonly CoapOption[];
  readonly payload: Uint8Array;
}

/** Throws CoapRequestError("bad-request") for what cannot be sent. */
export function requestTemplate(request: RequestOptions): RequestTemplate {
  const code = Object.hasOwn(METHOD_CODES, request.method) ? METHOD_CODES[request.method] : undefined;
  if (code === undefined) throw new CoapRequestError("bad-request", `unknown method ${String(request.method)}`);
  if (typeof request.path !== "string") throw new CoapRequestError("bad-request", "path must be a string");
  const options: CoapOption[] = request.options === undefined ? [] : Array.from(request.options);
  for (const option of pathOptions(request.path)) options.push(option);
  if (request.query !== undefined) for (const option of queryOptions(request.query)) options.push(option);
  if (request.contentFormat !== undefined)
    options.push({ number: OptionNumber.ContentFormat, value: request.contentFormat });
  if (request.accept !== undefined) options.push({ number: OptionNumber.Accept, value: request.accept });
  const payload =
    request.payload === undefined
      ? EMPTY_BYTES
      : typeof request.payload === "string"
        ? encodeUtf8(request.payload)
        : request.payload;
  return { type: request.confirmable === false ? MessageType.NON : MessageType.CON, code, options, payload };
}

/** The request `message` was (a resent request, or a packed template), its options and body copied out. */
export function templateOf(message: DecodedMessage): RequestTemplate {
  const options: CoapOption[] = message.options.map((o) => ({ number: o.number, value: o.value.slice() }));
  return { type: message.type, code: message.code, options, payload: message.payload.slice() };
}

/**
 * `template` as a CoAP message without token (ID 0), for one kept long: a few dozen bytes in one
 * array where its options as objects take a slot each and more. templateOf(decodeMessage(packed))
 * gives back a template that encodes to the same wire bytes. Throws what encodeMessage throws.
 */
export function packTemplate(template: RequestTemplate): Uint8Array {
  const { type, code, options, payload } = template;
  return encodeMessage({ type, code, messageId: 0, token: EMPTY_BYTES, options, payload });
}

/** `template` without the options numbered in `numbers`, plus `extra`. */
export function withOptions(
  template: RequestTemplate,
  numbers: readonly number[],
  extra: readonly CoapOption[],
): RequestTemplate {
  const options = template.options.filter((o) => numbers.indexOf(o.number) < 0);
  for (const option of extra) options.push(option);
  return { ...template, options };
}

/** RFC 7641 §3.1 / §3.6: the same request with Observe = 0 (register) or 1 (deregister). */
export function observeRequest(template: RequestTemplate, observe: 0 | 1): RequestTemplate {
  return withOptions(template, [OptionNumber.Observe], [{ number: OptionNumber.Observe, value: observe }]);
}

/** The same request asking for block `block` of the response body (RFC 7959 §2.4 early negotiation or follow-up). */
export function withBlock2(template: RequestTemplate, block: BlockValue): RequestTemplate {
  return withOptions(template, [OptionNumber.Block2], [{ number: OptionNumber.Block2, value: encodeBlock(block) }]);
}

/**
 * RFC 7959 §2.4 and §2.6: the request for a later block repeats the method and options but not
 * Observe (the follow-up must not register again) nor the request body and its Block1 / Size1
 * / Content-Format, except for FETCH, whose body selects what is fetched (RFC 8132 §2).
 */
export function blockFollowUp(template: RequestTemplate, block: BlockValue): RequestTemplate {
  const keepBody = template.code === Code.FETCH;
  const drop = keepBody
    ? [OptionNumber.Observe, OptionNumber.Block1, OptionNumber.Size1, OptionNumber.Block2]
    : [OptionNumber.Observe, OptionNumber.Block1, OptionNumber.Size1, OptionNumber.Block2, OptionNumber.ContentFormat];
  const followUp = withOptions(template, drop, [{ number: OptionNumber.Block2, value: encodeBlock(block) }]);
  return keepBody ? followUp : { ...followUp, payload: EMPTY_BYTES };
}

/**
 * What blockFollowUp() derives the follow-ups from, kept while the call lives: the request
 * without the body they never repeat (FETCH's they do), so a written batch does not stay in
 * memory after its single exchange has been encoded.
 */
export function followUpTemplate(template: RequestTemplate): RequestTemplate {
  return template.code === Code.FETCH || template.payload.length === 0
    ? template
    : { ...template, payload: EMPTY_BYTES };
}
