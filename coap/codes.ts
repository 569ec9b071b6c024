// Message types and codes, RFC 7252 §3 and §12.1.

/** The 2-bit message type (RFC 7252 §3). */
export const MessageType = Object.freeze({
  CON: 0,
  NON: 1,
  ACK: 2,
  RST: 3,
} as const);
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

const TYPE_NAMES = Object.freeze(["CON", "NON", "ACK", "RST"] as const);
export function typeName(type: MessageType): string {
  return TYPE_NAMES[type];
}

/** Builds the 8-bit code from class (3 bits) and detail (5 bits): "c.dd" (RFC 7252 §3). */
export function makeCode(codeClass: number, detail: number): number {
  return ((codeClass & 0x07) << 5) | (detail & 0x1f);
}

export function codeClass(code: number): number {
  return code >>> 5;
}

export function codeDetail(code: number): number {
  return code & 0x1f;
}

/** "2.05"-style text for a code. */
export function codeString(code: number): string {
  const detail = codeDetail(code);
  return `${codeClass(code)}.${detail < 10 ? "0" : ""}${detail}`;
}

/** Parses "2.05" into a code; returns undefined for anything else. */
export function parseCode(text: string): number | undefined {
  const match = /^([0-7])\.([0-3][0-9])$/.exec(text);
  if (match === null) return undefined;
  const detail = Number(match[2]);
  return detail > 31 ? undefined : makeCode(Number(match[1]), detail);
}

/** Method and response codes from RFC 7252 §12.1, RFC 7959 §2.9 and RFC 8132. */
export const Code = Object.freeze({
  Empty: makeCode(0, 0),
  GET: makeCode(0, 1),
  POST: makeCode(0, 2),
  PUT: makeCode(0, 3),
  DELETE: makeCode(0, 4),
  FETCH: makeCode(0, 5),
  PATCH: makeCode(0, 6),
  iPATCH: makeCode(0, 7),
  Created: makeCode(2, 1),
  Deleted: makeCode(2, 2),
  Valid: makeCode(2, 3),
  Changed: makeCode(2, 4),
  Content: makeCode(2, 5),
  Continue: makeCode(2, 31),
  BadRequest: makeCode(4, 0),
  Unauthorized: makeCode(4, 1),
  BadOption: makeCode(4, 2),
  Forbidden: makeCode(4, 3),
  NotFound: makeCode(4, 4),
  MethodNotAllowed: makeCode(4, 5),
  NotAcceptable: makeCode(4, 6),
  RequestEntityIncomplete: makeCode(4, 8),
  PreconditionFailed: makeCode(4, 12),
  RequestEntityTooLarge: makeCode(4, 13),
  UnsupportedContentFormat: makeCode(4, 15),
  TooManyRequests: makeCode(4, 29),
  InternalServerError: makeCode(5, 0),
  NotImplemented: makeCode(5, 1),
  BadGateway: makeCode(5, 2),
  ServiceUnavailable: makeCode(5, 3),
  GatewayTimeout: makeCode(5, 4),
  ProxyingNotSupported: makeCode(5, 5),
} as const);

export function isRequestCode(code: number): boolean {
  return codeClass(code) === 0 && code !== Code.Empty;
}

export function isResponseCode(code: number): boolean {
  const c = codeClass(code);
  return c >= 2 && c <= 5;
}

export function isSuccessCode(code: number): boolean {
  return codeClass(code) === 2;
}

/** Content-Format registry values used here (RFC 7252 §12.3). */
export const ContentFormat = Object.freeze({
  TextPlain: 0,
  LinkFormat: 40,
  Xml: 41,
  OctetStream: 42,
  Exi: 47,
  Json: 50,
  Cbor: 60,
} as const);
