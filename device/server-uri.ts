// The `server` setting: where the platform is, as a coap URI (RFC 7252 §6.1), checked and
// normalized once so the rest of the device only ever sees a host to resolve and a port.
import { ConfigError } from "./config-error.js";
import { asText, shown } from "./config-values.js";

/** Where the platform is; `host` is what DNS resolves unless it is already an IP literal. */
export interface ServerAddress {
  /** Normalized: `coap://host:port`, IPv6 literals in brackets. */
  readonly uri: string;
  /** Host name or IP literal, without brackets. */
  readonly host: string;
  readonly port: number;
  /** True for an IPv4 or IPv6 literal: nothing to resolve. */
  readonly isIpLiteral: boolean;
}

/** RFC 7252 §6.1: the coap scheme; default port 5683. */
const COAP_DEFAULT_PORT = 5683;
// Patterns are written where they are used: Moddable preloads this module into flash, and XS
// crashes in exec() on a RegExp stored there (see config-values.ts).

/** Checks the host part; true when it is an IP literal. */
function checkHost(key: string, value: unknown, host: string): boolean {
  if (host.startsWith("[")) {
    const inner = host.slice(1, -1);
    if (!inner.includes(":") || !/^[0-9A-Fa-f:.]+$/.test(inner))
      throw new ConfigError(key, `${shown(value)} has a malformed IPv6 literal`);
    return true;
  }
  const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (ipv4 !== null) {
    if (ipv4.slice(1).some((octet) => Number(octet) > 255))
      throw new ConfigError(key, `${shown(value)} has a malformed IPv4 address`);
    return true;
  }
  const labels = host.endsWith(".") ? host.slice(0, -1).split(".") : host.split(".");
  const hostLabel = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
  if (host.length === 0 || host.length > 253 || !labels.every((label) => hostLabel.test(label))) {
    throw new ConfigError(key, `${shown(value)} does not name a valid host`);
  }
  if (labels.every((label) => /^\d+$/.test(label)))
    throw new ConfigError(key, `${shown(value)} has a malformed IPv4 address`);
  return false;
}

function parsePort(key: string, value: unknown, text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) throw new ConfigError(key, `${shown(value)} has a bad port (1–65535)`);
  return port;
}

/** `coap://host[:port][/]` (RFC 7252 §6.1). No coaps: theThings.IO offers no DTLS. */
export function parseServer(key: string, value: unknown): ServerAddress {
  const text = asText(key, value);
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(\[[^\]]*\]|[^:/?#[\]]*)(?::([^/?#]*))?(\/[^?#]*)?([?#].*)?$/.exec(
    text,
  );
  if (match === null) throw new ConfigError(key, `${shown(value)} is not a URI like coap://host:5683`);
  const [, scheme, rawHost, rawPort, path, rest] = match;
  const lowerScheme = scheme!.toLowerCase();
  if (lowerScheme === "coaps")
    throw new ConfigError(key, `${shown(value)}: coaps (DTLS) is not supported; theThings.IO serves plain coap`);
  if (lowerScheme !== "coap") throw new ConfigError(key, `${shown(value)}: the scheme must be coap`);
  if ((path !== undefined && path !== "/") || rest !== undefined) {
    throw new ConfigError(
      key,
      `${shown(value)}: give only coap://host[:port]; the paths are fixed by the platform API`,
    );
  }
  const isIpLiteral = checkHost(key, value, rawHost!);
  const port = rawPort === undefined || rawPort === "" ? COAP_DEFAULT_PORT : parsePort(key, value, rawPort);
  const host = rawHost!.startsWith("[") ? rawHost!.slice(1, -1) : rawHost!.toLowerCase();
  return Object.freeze({ uri: `coap://${rawHost!.startsWith("[") ? rawHost : host}:${port}`, host, port, isIpLiteral });
}
