// Who may use the dashboard. On loopback without a token: only requests addressed to a loopback
// name (a page of another site that rebinds its DNS name to 127.0.0.1 gets 421), and writes only
// from the dashboard's own origin with a JSON body (a form or a simple cross-site request cannot
// send one). With a token (required on any other address): every request carries it, as
// `Authorization: Bearer TOKEN`, the cookie the dashboard sets, or `?token=TOKEN` on a page load.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

export const TOKEN_COOKIE = "dashboard-token";
/** A token is at least this long and URL- and cookie-safe, so it travels in all three forms as it is. */
export const TOKEN_PATTERN = /^[A-Za-z0-9._~-]{16,256}$/;

export interface AccessRules {
  /** The bound port, as a Host header names it. */
  readonly port: number;
  /** The bound address. */
  readonly host: string;
  readonly token?: string;
}

export type AccessDecision =
  | { readonly ok: true /** Set-Cookie to send: the token came in the query. */; readonly setCookie?: string }
  | { readonly ok: false; readonly status: number; readonly message: string };

/** Whether an address is this machine's loopback. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Why a token cannot be used, or undefined if it can. */
export function tokenProblem(token: string): string | undefined {
  return TOKEN_PATTERN.test(token)
    ? undefined
    : "--dashboard-token must be 16 to 256 letters, digits, '.', '_', '~' or '-'";
}

export function checkAccess(
  rules: AccessRules,
  method: string,
  headers: IncomingHttpHeaders,
  queryToken: string | undefined,
): AccessDecision {
  const host = headers.host ?? "";
  if (rules.token === undefined && !loopbackNames(rules).has(host.toLowerCase())) {
    return { ok: false, status: 421, message: "This dashboard answers only to its loopback address" };
  }
  let setCookie: string | undefined;
  if (rules.token !== undefined) {
    const presented = bearer(headers.authorization) ?? cookie(headers.cookie, TOKEN_COOKIE) ?? queryToken;
    if (presented === undefined || !same(presented, rules.token)) {
      return { ok: false, status: 401, message: "A dashboard token is required (?token=…, cookie or Bearer)" };
    }
    if (presented === queryToken && method === "GET") {
      setCookie = `${TOKEN_COOKIE}=${rules.token}; HttpOnly; SameSite=Strict; Path=/`;
    }
  }
  if (method !== "GET") {
    const origin = headers.origin;
    if (origin !== undefined && origin !== `http://${host}`) {
      return { ok: false, status: 403, message: "Writes are taken only from the dashboard's own page" };
    }
    const type = (headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== "application/json") {
      return { ok: false, status: 415, message: "The body must be application/json" };
    }
  }
  return setCookie === undefined ? { ok: true } : { ok: true, setCookie };
}

function loopbackNames(rules: AccessRules): Set<string> {
  const port = rules.port;
  const bound = rules.host.includes(":") ? `[${rules.host}]` : rules.host;
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${bound.toLowerCase()}:${port}`]);
}

function bearer(authorization: string | undefined): string | undefined {
  const match = /^Bearer ([^\s]+)$/.exec(authorization ?? "");
  return match?.[1];
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

// Compared as SHA-256 digests: equal lengths for timingSafeEqual, and no early exit on the text.
function same(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}
