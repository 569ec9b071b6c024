// Guarded JSON parsing for everything that comes from the network. The size is bounded before
// anything is decoded, and the nesting depth is measured on the raw bytes before JSON.parse runs,
// because JSON.parse recurses natively and a small payload of 8000 "[" could exhaust the
// stack of a microcontroller. Nothing here throws.
import { decodeUtf8 } from "../coap/utf8.js";

export interface JsonLimits {
  /** Largest payload accepted, in bytes. */
  readonly maxBytes: number;
  /** Deepest nesting of arrays and objects accepted (a flat array of flat objects is 2). */
  readonly maxDepth: number;
}

/** 16 KB holds a full read of 100 values with room to spare; a notification is far smaller. */
export const DEFAULT_JSON_LIMITS: JsonLimits = Object.freeze({ maxBytes: 16 * 1024, maxDepth: 16 });

export type JsonParseResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** Parses a UTF-8 JSON payload within `limits`; an empty payload is refused. */
export function parseJsonPayload(bytes: Uint8Array, limits: JsonLimits = DEFAULT_JSON_LIMITS): JsonParseResult {
  if (bytes.length === 0) return { ok: false, reason: "empty payload" };
  if (bytes.length > limits.maxBytes) {
    return { ok: false, reason: `payload of ${bytes.length} bytes exceeds ${limits.maxBytes}` };
  }
  const depth = nestingDepth(bytes);
  if (depth > limits.maxDepth) return { ok: false, reason: `JSON nested deeper than ${limits.maxDepth}` };
  try {
    return { ok: true, value: JSON.parse(decodeUtf8(bytes)) as unknown };
  } catch {
    return { ok: false, reason: "malformed JSON" };
  }
}

/** The deepest nesting of [ and { outside strings; malformed input gives some number, never a throw. */
export function nestingDepth(bytes: Uint8Array): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) depth--;
  }
  return deepest;
}

/** A plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
