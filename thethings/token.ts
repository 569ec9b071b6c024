// The thing token is the device's credential: it goes into every request path and must never
// appear whole in a log line. This module checks its shape and redacts it (and the activation
// code, which lets anyone create things in the owner's name) for logs.

/** Length of every thing token the platform's libraries have seen [lib]. */
export const THING_TOKEN_LENGTH = 43;
/**
 * The token length is a fact from the libraries, not the documentation (the documented example
 * token has 41 characters), so other lengths are accepted with a warning. Below this a value
 * cannot be a credential (it is a truncated write or a placeholder); above it, it is garbage.
 */
export const MIN_TOKEN_LENGTH = 16;
/** One Uri-Path option holds at most 255 bytes (RFC 7252 §5.10). */
export const MAX_TOKEN_LENGTH = 255;

export type TokenCheck =
  | { readonly ok: true; readonly warning?: string }
  | { readonly ok: false; readonly reason: string };

/** Whether `token` can be a thing token: [A-Za-z0-9_-], 43 characters (other lengths warned). */
export function checkThingToken(token: unknown): TokenCheck {
  if (typeof token !== "string") return { ok: false, reason: "the token is not text" };
  if (token.length === 0) return { ok: false, reason: "the token is empty" };
  if (!/^[A-Za-z0-9_-]+$/.test(token)) {
    return { ok: false, reason: "the token has characters other than letters, digits, '_' and '-'" };
  }
  if (token.length < MIN_TOKEN_LENGTH || token.length > MAX_TOKEN_LENGTH) {
    return { ok: false, reason: `a token of ${token.length} characters cannot be a thing token` };
  }
  if (token.length !== THING_TOKEN_LENGTH) {
    return { ok: true, warning: `the token has ${token.length} characters where ${THING_TOKEN_LENGTH} are usual` };
  }
  return { ok: true };
}

/** Shown instead of a secret: its first 4 characters and its length, e.g. `NwFb… (43 chars)`. */
export function redactSecret(secret: string): string {
  // A short secret loses too much to a 4-character prefix: show only its length.
  const prefix = secret.length >= MIN_TOKEN_LENGTH ? `${secret.slice(0, 4)}…` : "…";
  return `${prefix} (${secret.length} chars)`;
}

/** `text` with every occurrence of `secret` redacted (for messages built from paths or replies). */
export function redactIn(text: string, secret: string | undefined): string {
  if (secret === undefined || secret.length === 0) return text;
  return text.split(secret).join(redactSecret(secret));
}
