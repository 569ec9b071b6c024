// What the platform reports as it runs: the CLI prints these, tests may collect them. A thing
// token is a credential, so events name a thing only by redactToken().

export type PlatformEvent =
  | { event: "listening"; host: string; port: number; db: string; activationCodes: readonly string[] }
  | { event: "dashboard"; url: string }
  | { event: "activated"; thing: string; productId?: string; from: string }
  | { event: "write"; thing: string; values: number; keys: readonly string[]; from: string }
  | { event: "duplicate"; thing: string; messageId: number; from: string }
  | { event: "subscribed"; thing: string; from: string; keepAliveMs: number; type: "CON" | "NON" }
  | { event: "unsubscribed"; thing: string; from: string; reason: string }
  | { event: "refused"; code: string; message: string; method: string; from: string; key?: string }
  | { event: "failed"; error: string; from: string }
  | { event: "stopped" };

/** The first four characters and the length: enough to tell things apart, useless to an attacker. */
export function redactToken(token: string): string {
  return `${token.slice(0, 4)}…(${token.length})`;
}

/** A client's address and port as events show it: `127.0.0.1:5683`, `[::1]:5683`. */
export function formatEndpoint(rsinfo: { address: string; port: number }): string {
  return rsinfo.address.includes(":") ? `[${rsinfo.address}]:${rsinfo.port}` : `${rsinfo.address}:${rsinfo.port}`;
}

/** One line of text for a person reading the console. */
export function describeEvent(e: PlatformEvent): string {
  switch (e.event) {
    case "listening":
      return (
        `listening on coap://${e.host.includes(":") ? `[${e.host}]` : e.host}:${e.port} (db ${e.db}); ` +
        `activation codes: ${e.activationCodes.join(" ")}`
      );
    case "dashboard":
      return `dashboard on ${e.url}`;
    case "activated":
      return `activated thing ${e.thing}${e.productId === undefined ? "" : ` (product ${e.productId})`} from ${e.from}`;
    case "write":
      return `write to ${e.thing} from ${e.from}: ${e.values} value(s), keys ${e.keys.join(", ")}`;
    case "duplicate":
      return `write to ${e.thing} from ${e.from} again (message ID ${e.messageId}): answered, not stored twice`;
    case "subscribed":
      return `subscription to ${e.thing} from ${e.from} (${e.type}, keepAlive ${e.keepAliveMs} ms)`;
    case "unsubscribed":
      return `subscription to ${e.thing} from ${e.from} ended: ${e.reason}`;
    case "refused":
      return `refused ${e.method}${e.key === undefined ? "" : ` of ${e.key}`} from ${e.from}: ${e.code} ${e.message}`;
    case "failed":
      return `failed request from ${e.from}: ${e.error}`;
    case "stopped":
      return "stopped";
  }
}
