// The setup page's form, checked field by field with the parsers of the build's configuration
// (config-values.ts, server-uri.ts): one set of rules, the same messages. Every field is
// checked so the page can show each problem next to its field; nothing is kept unless all pass.
import { ConfigError } from "./config-error.js";
import { parseCredential, parseSsid, parseWifiPassword } from "./config-values.js";
import { parseServer } from "./server-uri.js";
import type { EnteredSettings } from "./setup-store.js";

/** The form's field names: the configuration's keys. */
export const FORM_FIELDS = Object.freeze(["ssid", "password", "activationCode", "productId", "server"] as const);

export type FormField = (typeof FORM_FIELDS)[number];

export interface FormContext {
  /** The page has the Wi-Fi part (the board). */
  readonly wifi: boolean;
  /** A code is needed: there is no thing token, or the platform refused it. */
  readonly codeRequired: boolean;
  /** The network the board joins now, if any (the ssid field may then stay empty). */
  readonly currentSsid: string | undefined;
}

export type FormCheck =
  | { readonly ok: true; readonly values: EnteredSettings }
  | { readonly ok: false; readonly errors: Partial<Record<FormField, string>> };

/** The problem without the "config key: " prefix, for the field's own label to carry. */
function problemOf(error: unknown): string {
  if (error instanceof ConfigError) {
    const prefix = `config ${error.key}: `;
    return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  }
  return String(error);
}

/**
 * Checks the submitted fields. An empty field keeps what the device has (the code when it has a
 * token, the server, the network it joins); unknown fields are ignored. Values are returned as
 * typed (trimmed where the configuration trims: codes and the server), passwords untouched.
 */
export function checkSetupForm(fields: ReadonlyMap<string, string>, context: FormContext): FormCheck {
  const errors: Partial<Record<FormField, string>> = {};
  const values: EnteredSettings = {};
  const field = (name: FormField): string => fields.get(name) ?? "";
  const attempt = (name: FormField, check: () => void): void => {
    try {
      check();
    } catch (error) {
      errors[name] = problemOf(error);
    }
  };

  attempt("activationCode", () => {
    const code = parseCredential("activationCode", field("activationCode"));
    if (code === undefined) {
      if (context.codeRequired) throw new ConfigError("activationCode", "needed: the device has no thing token yet");
    } else values.activationCode = code;
  });
  attempt("productId", () => {
    const productId = parseCredential("productId", field("productId"));
    if (productId !== undefined) values.productId = productId;
  });
  attempt("server", () => {
    if (field("server").trim() !== "") values.server = parseServer("server", field("server")).uri;
  });
  if (context.wifi) {
    const ssid = field("ssid");
    attempt("ssid", () => {
      if (ssid === "") {
        if (context.currentSsid === undefined) throw new ConfigError("ssid", "choose or type the network to join");
      } else values.ssid = parseSsid("ssid", ssid);
    });
    attempt("password", () => {
      const password = parseWifiPassword("password", field("password"));
      // A new network takes its password (none for an open one); an empty field keeps the old one.
      if (ssid !== "") values.password = password ?? "";
      else if (password !== undefined) values.password = password;
    });
  }
  for (const name of FORM_FIELDS) if (errors[name] !== undefined) return { ok: false, errors };
  return { ok: true, values };
}
