// Guarded JSON parsing for everything that comes from the network. The size is bounded before
// anything is decoded, and the nesting depth is measured on the raw bytes before JSON.parse runs,
// because JSON.parse recurses natively and a small payload of 8000 "[" could exhaust the
// stack of a microcontroller. Nothing here throws.
import { decodeUtf8 } from "../kernel/utf8.js";

export interface JsonLimits {
  /** Largest payload accepted, in bytes. */
  readonly maxBytes: number;
  /** Deepest nesting of arrays and objects accepted (a flat array of flat objects is 2). */
  readonly maxDepth: number;
  /** Member names beyond the platform's own that may ever be parsed (see MemberNameBudget); none: any. */
  readonly names?: MemberNameBudget;
}

/** The member names of the platform's documented bodies: always accepted. */
const PLATFORM_NAMES: ReadonlySet<string> = new Set([
  "key",
  "value",
  "values",
  "datetime",
  "geo",
  "lat",
  "long",
  "status",
  "message",
  "thingToken",
  "activationCode",
  "productId",
]);

/**
 * XS turns every member name JSON.parse meets into a property key and never frees keys, so a
 * stream of payloads with ever-new names ({"x1":1}, {"x2":1} …) would grow the heap until the
 * device dies. A budget admits at most `capacity` distinct names beyond the platform's own (a
 * field the platform adds one day, or objects written as values); past that, a payload bringing
 * a new name is refused before it is parsed. Bound: `capacity` names of at most
 * MAX_MEMBER_NAME_BYTES each.
 */
/** Starts each entry of MemberNameBudget's string; JSON.stringify always escapes it. */
const SEPARATOR = "\u0001";

export class MemberNameBudget {
  readonly capacity: number;
  /**
   * The admitted names in one string, each as SEPARATOR + JSON.stringify(name): one chunk
   * rather than a Set's entries and a string each. JSON.stringify escapes every control
   * character, so SEPARATOR only ever starts an entry, and no entry is a prefix of another (each
   * ends at its first unescaped quote): a search for one entry finds that name only.
   */
  #admitted = "";
  #used = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get used(): number {
    return this.#used;
  }

  /** Whether every name of `names` may be parsed; admits the new ones only if all fit. */
  admit(names: readonly string[]): boolean {
    let fresh = "";
    let count = 0;
    for (const name of names) {
      if (PLATFORM_NAMES.has(name)) continue;
      const entry = SEPARATOR + JSON.stringify(name);
      if (this.#admitted.includes(entry) || fresh.includes(entry)) continue;
      fresh += entry;
      count++;
    }
    if (count === 0) return true;
    if (this.#used + count > this.capacity) return false;
    this.#admitted += fresh;
    this.#used += count;
    return true;
  }
}

/** Distinct names a budget admits by default: room for a few new fields or a small object as a value. */
export const DEFAULT_NAME_BUDGET = 16;
/** The longest member name a budget admits, in bytes (the platform's longest is "activationCode"). */
export const MAX_MEMBER_NAME_BYTES = 32;

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
  if (limits.names !== undefined) {
    const names = memberNames(bytes);
    if (names === undefined)
      return { ok: false, reason: `an escaped member name, or one over ${MAX_MEMBER_NAME_BYTES} bytes` };
    if (!limits.names.admit(names))
      return { ok: false, reason: `new member names beyond the budget of ${limits.names.capacity}` };
  }
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

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/**
 * The distinct member names of a JSON text, found on the raw bytes: strings followed by a colon.
 * Undefined when a member name holds an escape (no platform name does, and an escape could spell
 * a name in ways this scan would not compare) or is longer than MAX_MEMBER_NAME_BYTES (the
 * platform's longest is 14): such a payload is refused, and the long name is never decoded.
 * Malformed input gives some list, never a throw.
 */
export function memberNames(bytes: Uint8Array): string[] | undefined {
  const names: string[] = [];
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== QUOTE) continue;
    const start = i + 1;
    let escaped = false;
    for (i = start; i < bytes.length && bytes[i] !== QUOTE; i++) {
      if (bytes[i] === BACKSLASH) {
        escaped = true;
        i++;
      }
    }
    const end = i;
    let next = end + 1;
    while (next < bytes.length && isWhitespace(bytes[next]!)) next++;
    if (next >= bytes.length || bytes[next] !== 0x3a) continue;
    if (escaped) return undefined;
    if (end - start > MAX_MEMBER_NAME_BYTES) return undefined;
    const name = decodeUtf8(bytes, start, end);
    if (names.indexOf(name) < 0) names.push(name);
  }
  return names;
}

/** A plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
