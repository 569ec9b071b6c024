// Which operation a request names, from its Uri-Path and Uri-Query options. The paths are the
// REST API's [thethings-coap-api.md]:
//   /v2/things/                          activate (POST)
//   /v2/things/{TOKEN}                   write (POST), subscribe (GET + Observe)
//   /v2/things/{TOKEN}/resources/{KEY}   read (GET)
import { PlatformError } from "./errors.js";

export type Route =
  | { kind: "activate" }
  | { kind: "thing"; token: string }
  | { kind: "resource"; token: string; key: string };

export interface Target {
  route: Route;
  query: Map<string, string>;
}

/** A CoAP option as node-coap hands it over. */
export interface RequestOption {
  name: number | string;
  value: unknown;
}

/** The route and query of a request, or a 4.04 PlatformError for any other path. */
export function resolveTarget(options: readonly RequestOption[]): Target {
  const segments: string[] = [];
  const queryParts: string[] = [];
  for (const option of options) {
    if (option.name === "Uri-Path") segments.push(optionText(option.value));
    else if (option.name === "Uri-Query") queryParts.push(optionText(option.value));
  }
  // One of the platform's own libraries put "?limit=15" inside the last Uri-Path option rather
  // than in Uri-Query options; the platform accepts that, so this does too.
  const last = segments.length - 1;
  const mark = last >= 0 ? (segments[last] as string).indexOf("?") : -1;
  if (mark >= 0) {
    const lastSegment = segments[last] as string;
    queryParts.push(
      ...lastSegment
        .slice(mark + 1)
        .split("&")
        .filter((p) => p !== ""),
    );
    segments[last] = lastSegment.slice(0, mark);
  }
  // "/v2/things/" may arrive with or without an empty last segment, depending on the client.
  if (segments.length > 0 && segments[segments.length - 1] === "") segments.pop();
  return { route: matchRoute(segments), query: parseQuery(queryParts) };
}

function matchRoute(segments: readonly string[]): Route {
  const [v2, things, token, resources, key, ...rest] = segments;
  if (v2 === "v2" && things === "things" && rest.length === 0) {
    if (token === undefined) return { kind: "activate" };
    if (token !== "" && resources === undefined) return { kind: "thing", token };
    if (token !== "" && resources === "resources" && key !== undefined && key !== "") {
      return { kind: "resource", token, key };
    }
  }
  throw new PlatformError("4.04", "Not found");
}

// "name=value" pairs; a name without "=" has the empty value. The first occurrence of a name wins.
function parseQuery(parts: readonly string[]): Map<string, string> {
  const query = new Map<string, string>();
  for (const part of parts) {
    const eq = part.indexOf("=");
    const name = eq < 0 ? part : part.slice(0, eq);
    if (!query.has(name)) query.set(name, eq < 0 ? "" : part.slice(eq + 1));
  }
  return query;
}

function optionText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return String(value);
}
