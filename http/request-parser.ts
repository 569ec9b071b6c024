// An incremental HTTP/1.1 request parser (RFC 9112) that keeps only what the server needs: the
// request line, the few header fields it acts on, and a body of declared length. Bytes go in as
// they arrive; every line is held in one buffer of limits.lineBytes, so a connection costs that
// buffer and its body at most. Anything malformed or too large ends the parse with the status
// to answer; the parser never throws on input.
import { decodeUtf8 } from "../kernel/utf8.js";
import type { HttpLimits } from "./limits.js";

export interface HttpRequest {
  /** As sent (methods are case-sensitive, RFC 9110 §9.1). */
  readonly method: string;
  /** The path of the request target, still percent-encoded ("/" for the asterisk form). */
  readonly path: string;
  /** The query without "?", still encoded; "" when absent. */
  readonly query: string;
  readonly version: "HTTP/1.0" | "HTTP/1.1";
  /** Host header field value (or the authority of an absolute-form target); "" when absent. */
  readonly host: string;
  /** Content-Type field value, lower-cased; "" when absent. */
  readonly contentType: string;
  /** Bytes of the body (Content-Length of them). */
  readonly body: Uint8Array;
}

export type ParseResult =
  | { readonly kind: "incomplete" }
  | { readonly kind: "request"; readonly request: HttpRequest }
  | { readonly kind: "error"; readonly status: number; readonly reason: string };

const INCOMPLETE: ParseResult = Object.freeze({ kind: "incomplete" });
const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const MAX_METHOD = 16;

/** RFC 9110 §5.6.2 tchar. */
function isTokenByte(byte: number): boolean {
  if (byte >= 0x30 && byte <= 0x39) return true;
  if ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7a) return true;
  // ! # $ % & ' * + - . ^ _ ` | ~
  return (
    byte === 0x21 ||
    (byte >= 0x23 && byte <= 0x27) ||
    byte === 0x2a ||
    byte === 0x2b ||
    byte === 0x2d ||
    byte === 0x2e ||
    byte === 0x5e ||
    byte === 0x5f ||
    byte === 0x60 ||
    byte === 0x7c ||
    byte === 0x7e
  );
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return decodeUtf8(bytes, start, end);
}

function error(status: number, reason: string): ParseResult {
  return { kind: "error", status, reason };
}

type State = "line" | "headers" | "body" | "done";

export class RequestParser {
  readonly #limits: HttpLimits;
  /** The line being read. Bound: limits.lineBytes. */
  readonly #line: Uint8Array;
  #lineLength = 0;
  /** A CR was the last byte: the next must be LF (RFC 9112 §2.2: no bare CR). */
  #sawCr = false;
  #state: State = "line";
  #headerBytes = 0;
  #headerCount = 0;
  #method = "";
  #target = "";
  #version: "HTTP/1.0" | "HTTP/1.1" = "HTTP/1.1";
  #host: string | undefined;
  #contentType = "";
  #contentLength: number | undefined;
  #transferEncoding = false;
  /** Allocated once the header says how long the body is. Bound: limits.bodyBytes. */
  #body: Uint8Array | undefined;
  #bodyLength = 0;
  /** Whether any byte arrived (a connection that sent nothing is closed without a 408). */
  started = false;

  constructor(limits: HttpLimits) {
    this.#limits = limits;
    this.#line = new Uint8Array(limits.lineBytes);
  }

  /** Feeds bytes; after a request or an error the parse is over and further bytes are ignored. */
  push(bytes: Uint8Array): ParseResult {
    if (this.#state === "done") return INCOMPLETE;
    if (bytes.length > 0) this.started = true;
    for (let i = 0; i < bytes.length; i++) {
      if (this.#state === "body") {
        const body = this.#body!;
        const take = Math.min(bytes.length - i, body.length - this.#bodyLength);
        body.set(bytes.subarray(i, i + take), this.#bodyLength);
        this.#bodyLength += take;
        i += take - 1;
        if (this.#bodyLength === body.length) return this.#finish();
        continue;
      }
      const byte = bytes[i]!;
      if (this.#sawCr) {
        this.#sawCr = false;
        if (byte !== LF) return this.#fail(400, "bare CR");
        const result = this.#endLine();
        if (result !== INCOMPLETE) return result;
        continue;
      }
      if (byte === CR) {
        this.#sawCr = true;
        continue;
      }
      if (byte === LF) {
        // RFC 9112 §2.2: a recipient MAY recognize a single LF as a line terminator.
        const result = this.#endLine();
        if (result !== INCOMPLETE) return result;
        continue;
      }
      if (this.#lineLength >= this.#line.length) {
        return this.#state === "line"
          ? this.#fail(414, "request line too long")
          : this.#fail(431, "header line too long");
      }
      this.#line[this.#lineLength++] = byte;
    }
    return INCOMPLETE;
  }

  #fail(status: number, reason: string): ParseResult {
    this.#state = "done";
    this.#body = undefined;
    return error(status, reason);
  }

  #endLine(): ParseResult {
    const length = this.#lineLength;
    this.#lineLength = 0;
    if (this.#state === "line") {
      // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line.
      if (length === 0) return INCOMPLETE;
      return this.#requestLine(length);
    }
    if (length === 0) return this.#endHeaders();
    this.#headerBytes += length + 2;
    this.#headerCount++;
    if (this.#headerBytes > this.#limits.headerBytes) return this.#fail(431, "header section too large");
    if (this.#headerCount > this.#limits.headerCount) return this.#fail(431, "too many header fields");
    return this.#headerLine(length);
  }

  /** RFC 9112 §3: method SP request-target SP HTTP-version. */
  #requestLine(length: number): ParseResult {
    const line = this.#line;
    let at = 0;
    while (at < length && isTokenByte(line[at]!)) at++;
    if (at === 0 || at >= length || line[at] !== SP) return this.#fail(400, "malformed request line");
    if (at > MAX_METHOD) return this.#fail(501, "method too long");
    this.#method = ascii(line, 0, at);
    const targetStart = ++at;
    while (at < length && line[at]! > SP && line[at]! < 0x7f) at++;
    if (at === targetStart || at >= length || line[at] !== SP) return this.#fail(400, "malformed request target");
    this.#target = ascii(line, targetStart, at);
    const version = ascii(line, at + 1, length);
    if (version === "HTTP/1.1" || version === "HTTP/1.0") this.#version = version;
    else {
      let valid = version.length === 8 && version.startsWith("HTTP/") && version[6] === ".";
      for (const index of [5, 7]) valid &&= version[index]! >= "0" && version[index]! <= "9";
      if (!valid) return this.#fail(400, "malformed HTTP version");
      // RFC 9110 §15.6.6: another major version.
      return this.#fail(505, `unsupported version ${version}`);
    }
    this.#state = "headers";
    return INCOMPLETE;
  }

  /** RFC 9112 §5: field-name ":" OWS field-value OWS; only a few names are kept. */
  #headerLine(length: number): ParseResult {
    const line = this.#line;
    // RFC 9112 §5.2: obs-fold (a line starting with whitespace) is rejected.
    if (line[0] === SP || line[0] === HTAB) return this.#fail(400, "obsolete line folding");
    let at = 0;
    while (at < length && isTokenByte(line[at]!)) at++;
    // RFC 9112 §5.1: no whitespace between the field name and the colon.
    if (at === 0 || at >= length || line[at] !== COLON) return this.#fail(400, "malformed header field");
    const name = ascii(line, 0, at).toLowerCase();
    let start = at + 1;
    let end = length;
    while (start < end && (line[start] === SP || line[start] === HTAB)) start++;
    while (end > start && (line[end - 1] === SP || line[end - 1] === HTAB)) end--;
    for (let i = start; i < end; i++) {
      const byte = line[i]!;
      // RFC 9110 §5.5: NUL and other controls (but HTAB) make the message invalid.
      if ((byte < SP && byte !== HTAB) || byte === 0x7f) return this.#fail(400, "control character in a header field");
    }
    if (name === "host") {
      // RFC 9112 §3.2: more than one Host is a 400.
      if (this.#host !== undefined) return this.#fail(400, "more than one Host");
      this.#host = ascii(line, start, end);
    } else if (name === "content-length") {
      const text = ascii(line, start, end);
      // RFC 9112 §6.3: a list of identical values may be taken as one; anything else is invalid.
      let value: number | undefined;
      for (const part of text.split(",")) {
        const digits = part.trim();
        let valid = digits.length > 0 && digits.length <= 15;
        for (const character of digits) valid &&= character >= "0" && character <= "9";
        if (!valid) return this.#fail(400, "malformed Content-Length");
        const parsed = Number(digits);
        if (value !== undefined && parsed !== value) return this.#fail(400, "conflicting Content-Length");
        value = parsed;
      }
      if (this.#contentLength !== undefined && this.#contentLength !== value)
        return this.#fail(400, "conflicting Content-Length");
      this.#contentLength = value;
    } else if (name === "content-type") this.#contentType = ascii(line, start, end).toLowerCase();
    else if (name === "transfer-encoding") this.#transferEncoding = true;
    return INCOMPLETE;
  }

  #endHeaders(): ParseResult {
    if (this.#version === "HTTP/1.1" && this.#host === undefined) return this.#fail(400, "no Host (HTTP/1.1)");
    // RFC 9112 §6.1: Transfer-Encoding with Content-Length is an error. A body without a length
    // up front cannot be bounded before it is read, so it is refused (RFC 9110 §15.5.12).
    if (this.#transferEncoding) {
      return this.#contentLength !== undefined
        ? this.#fail(400, "Transfer-Encoding with Content-Length")
        : this.#fail(411, "a body needs a Content-Length");
    }
    const length = this.#contentLength ?? 0;
    if (length > this.#limits.bodyBytes) return this.#fail(413, `body of ${length} bytes`);
    this.#body = new Uint8Array(length);
    if (length === 0) return this.#finish();
    this.#state = "body";
    return INCOMPLETE;
  }

  #finish(): ParseResult {
    this.#state = "done";
    let target = this.#target;
    let host = this.#host ?? "";
    // RFC 9112 §3.2.2: absolute-form; its authority replaces the Host field.
    const lower = target.slice(0, 8).toLowerCase();
    if (lower.startsWith("http://") || lower.startsWith("https://")) {
      const afterScheme = target.indexOf("//") + 2;
      const slash = target.indexOf("/", afterScheme);
      host = target.slice(afterScheme, slash < 0 ? target.length : slash);
      target = slash < 0 ? "/" : target.slice(slash);
    } else if (target === "*") {
      target = "/";
    } else if (!target.startsWith("/")) {
      return error(400, "malformed request target");
    }
    const hash = target.indexOf("#");
    if (hash >= 0) target = target.slice(0, hash);
    const question = target.indexOf("?");
    const request: HttpRequest = Object.freeze({
      method: this.#method,
      path: question < 0 ? target : target.slice(0, question),
      query: question < 0 ? "" : target.slice(question + 1),
      version: this.#version,
      host,
      contentType: this.#contentType,
      body: this.#body!,
    });
    this.#body = undefined;
    return { kind: "request", request };
  }
}
