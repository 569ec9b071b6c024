// Checks of what a client sends, before anything is stored. Every check throws PlatformError so
// that a request is refused as a whole: a write either passes for all its values or stores none.
import { parsePlatformDate } from "./dates.js";
import { PlatformError } from "./errors.js";

/** Only alphanumerics and `.`, `-`, `_` are allowed in a key [thethings-coap-api.md]. */
const KEY = /^[A-Za-z0-9._-]+$/;

/** What a value may be at the top level; inside arrays and objects anything JSON can hold. */
export type JsonValue = number | string | unknown[] | Record<string, unknown>;

export interface Geo {
  lat: number;
  long: number;
}

/** One value of a write, checked. `datetime` is absent when the client sent none. */
export interface WriteItem {
  key: string;
  value: JsonValue;
  datetime?: number;
  geo?: Geo;
}

export interface Activation {
  activationCode: string;
  productId?: string;
}

export interface ReadQuery {
  limit: number;
  startDate: number;
  endDate: number;
}

export const READ_LIMIT_DEFAULT = 1;
export const READ_LIMIT_MAX = 100;

/** Parses a request body as a JSON object, or refuses it with 4.00. */
export function parseJsonObject(payload: Uint8Array): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload));
  } catch {
    throw new PlatformError("4.00", "Malformed JSON");
  }
  if (!isObject(parsed)) throw new PlatformError("4.00", "The body must be a JSON object");
  return parsed;
}

/** `{"activationCode": "...", "productId"?: "..."}`. Any fault is the platform's one activation error. */
export function checkActivation(body: Record<string, unknown>): Activation {
  const { activationCode, productId } = body;
  const productOk = productId === undefined || (typeof productId === "string" && productId !== "");
  if (typeof activationCode !== "string" || activationCode === "" || !productOk) {
    throw new PlatformError("4.00", "Error creating thing");
  }
  return productId === undefined ? { activationCode } : { activationCode, productId };
}

/** `{"values": [...]}` with at least one item, each item checked; the items in their order. */
export function checkWrite(body: Record<string, unknown>): WriteItem[] {
  const { values } = body;
  if (!Array.isArray(values)) throw new PlatformError("4.00", "values must be an array");
  if (values.length === 0) throw new PlatformError("4.00", "values must not be empty");
  return values.map((item: unknown, index) => checkItem(item, index));
}

function checkItem(item: unknown, index: number): WriteItem {
  const where = `values[${index}]`;
  if (!isObject(item)) throw new PlatformError("4.00", `${where} must be an object`);
  const { key, value, datetime, geo } = item;
  if (typeof key !== "string" || !KEY.test(key)) {
    throw new PlatformError("4.00", `${where}.key must be letters, digits, '.', '-' or '_'`);
  }
  if (!isStorableValue(value)) {
    throw new PlatformError("4.00", `${where}.value must be a number, a string, an array or an object`);
  }
  const checked: WriteItem = { key, value };
  if (datetime !== undefined) {
    const ms = typeof datetime === "string" ? parsePlatformDate(datetime) : undefined;
    if (ms === undefined) {
      throw new PlatformError("4.00", `${where}.datetime must be YYYYMMDDHHmmss or ISO 8601 (UTC)`);
    }
    checked.datetime = ms;
  }
  if (geo !== undefined) checked.geo = checkGeo(geo, where);
  return checked;
}

// The documented value types are number and string; the platform also stores arrays and objects.
// null and booleans are outside that list, and a non-finite number cannot come out of JSON.
function isStorableValue(value: unknown): value is JsonValue {
  return typeof value === "number" || typeof value === "string" || Array.isArray(value) || isObject(value);
}

function checkGeo(geo: unknown, where: string): Geo {
  if (isObject(geo)) {
    const { lat, long } = geo;
    if (typeof lat === "number" && typeof long === "number" && Math.abs(lat) <= 90 && Math.abs(long) <= 180) {
      return { lat, long };
    }
  }
  throw new PlatformError("4.00", `${where}.geo must be {"lat": -90..90, "long": -180..180}`);
}

/**
 * A read's query: `limit` (default 1, at most 100: larger asks are capped, as the platform
 * documents a maximum rather than an error), `startDate` and `endDate` in either date form,
 * both inclusive.
 */
export function checkReadQuery(query: ReadonlyMap<string, string>): ReadQuery {
  const limitText = query.get("limit");
  let limit = READ_LIMIT_DEFAULT;
  if (limitText !== undefined) {
    if (!/^\d+$/.test(limitText) || Number(limitText) < 1) {
      throw new PlatformError("4.00", "limit must be a whole number from 1");
    }
    limit = Math.min(Number(limitText), READ_LIMIT_MAX);
  }
  const startDate = queryDate(query, "startDate", 0);
  const endDate = queryDate(query, "endDate", Number.MAX_SAFE_INTEGER);
  if (startDate > endDate) throw new PlatformError("4.00", "startDate is after endDate");
  return { limit, startDate, endDate };
}

function queryDate(query: ReadonlyMap<string, string>, name: string, fallback: number): number {
  const text = query.get(name);
  if (text === undefined) return fallback;
  const ms = parsePlatformDate(text);
  if (ms === undefined) throw new PlatformError("4.00", `${name} must be YYYYMMDDHHmmss or ISO 8601 (UTC)`);
  return ms;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
