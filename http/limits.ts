// The hard caps of the HTTP server. Every buffer and count the server keeps is bounded by one of
// these; the defaults fit a setup page of a few KB on a device with a few hundred KB of RAM.

export interface HttpLimits {
  /**
   * Bytes of the request line, and of any one header line. RFC 9112 §3 recommends supporting
   * 8000; this server serves a handful of short paths, so longer lines get 414 (request line)
   * or 431 (a header line, RFC 6585 §5).
   */
  readonly lineBytes: number;
  /** Bytes of all header lines together (431 beyond, RFC 6585 §5). */
  readonly headerBytes: number;
  /** Header lines (431 beyond). */
  readonly headerCount: number;
  /** Content-Length of a request body (413 beyond, RFC 9110 §15.5.14). */
  readonly bodyBytes: number;
  /** Connections open at once; one more gets 503 and is closed (RFC 9110 §15.6.4). */
  readonly connections: number;
  /**
   * From accepting a connection to having its whole request: a slow client gets 408 (RFC 9110
   * §15.5.9) and is closed; one that sent nothing is closed silently.
   */
  readonly requestTimeoutMs: number;
  /** From the response's last byte queued to the connection being closed whatever the client does. */
  readonly lingerMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = Object.freeze({
  lineBytes: 1024,
  headerBytes: 4096,
  headerCount: 40,
  bodyBytes: 2048,
  connections: 4,
  requestTimeoutMs: 10_000,
  lingerMs: 5_000,
});
