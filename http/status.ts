// The status codes this server sends and their reason phrases (RFC 9110 §15). The phrase is
// informational only (RFC 9112 §4), so unknown codes go out with an empty one.

const REASONS: Readonly<Record<number, string>> = Object.freeze({
  200: "OK",
  204: "No Content",
  302: "Found",
  303: "See Other",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  411: "Length Required",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
});

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? "";
}
