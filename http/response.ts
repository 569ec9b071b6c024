// A response as the handler gives it, and its bytes on the wire. Content-Length counts the
// body's UTF-8 bytes (RFC 9110 §8.6), never its UTF-16 units; every response closes its
// connection (RFC 9112 §9.6), so no request is ever waiting behind another.
import { utf8Length, writeUtf8 } from "../kernel/utf8.js";
import { reasonPhrase } from "./status.js";

export interface HttpResponse {
  readonly status: number;
  /** Sent as "text/plain; charset=utf-8" when left out and there is a body. */
  readonly contentType?: string;
  /** More header fields (Location, Allow, Retry-After …): name and value, ASCII. */
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: string;
}

/** Headers every response carries: nothing is cached, nothing is sniffed, nothing is framed. */
const FIXED_HEADERS =
  "Connection: close\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n";

/** The response's bytes; `head` leaves the body out but keeps its length (RFC 9110 §9.3.2). */
export function serializeResponse(response: HttpResponse, head = false): Uint8Array {
  const body = response.body ?? "";
  const bodyBytes = utf8Length(body);
  let text = `HTTP/1.1 ${response.status} ${reasonPhrase(response.status)}\r\n${FIXED_HEADERS}`;
  if (bodyBytes > 0 || response.contentType !== undefined)
    text += `Content-Type: ${response.contentType ?? "text/plain; charset=utf-8"}\r\n`;
  for (const [name, value] of response.headers ?? []) text += `${name}: ${value}\r\n`;
  text += `Content-Length: ${bodyBytes}\r\n\r\n`;
  const headBytes = utf8Length(text);
  const bytes = new Uint8Array(headBytes + (head ? 0 : bodyBytes));
  writeUtf8(text, bytes, 0);
  if (!head) writeUtf8(body, bytes, headBytes);
  return bytes;
}

/** A short plain-text error response. */
export function errorResponse(status: number, message: string, headers?: HttpResponse["headers"]): HttpResponse {
  return { status, body: `${status} ${reasonPhrase(status)}: ${message}\n`, headers };
}
