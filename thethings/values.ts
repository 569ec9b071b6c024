// The JSON shapes of the platform [thethings-coap-api.md]: value items the device writes, value
// items that come back on reads and on the subscription, and the status bodies of replies.
import { utf8Length } from "../kernel/utf8.js";
import { formatCompactDate, isPlatformTime, parsePlatformDate } from "./dates.js";
import { isJsonObject } from "./json.js";

/** A key travels in one Uri-Path option on reads, which holds at most 255 bytes (RFC 7252 §5.10). */
export const MAX_KEY_LENGTH = 255;

/**
 * What the device writes: a finite number or a string, the two documented value types, or a JSON
 * object, which the platform also stores [doc] (the device's own reports: device.boot, …).
 * Booleans alone are outside the documented list (send 1/0); inside an object they are JSON.
 */
export type DeviceValue = number | string | JsonObjectValue;

/** A JSON object value: plain objects, arrays, strings, finite numbers, booleans and null. */
export type JsonObjectValue = { readonly [member: string]: unknown };

/** Nesting allowed inside an object value (the platform's and our own parsers bound depth too). */
export const MAX_OBJECT_VALUE_DEPTH = 4;
/** An object value's JSON text at most, so that it fits one write datagram with room to spare. */
export const MAX_OBJECT_VALUE_BYTES = 768;

export interface WriteValue {
  readonly key: string;
  readonly value: DeviceValue;
  /** When the value was taken, UTC ms; sent as `YYYYMMDDHHmmss`. Without it the platform stamps arrival time. */
  readonly datetime?: number;
  readonly geo?: { readonly lat: number; readonly long: number };
}

/** A value read back or pushed on the subscription, normalised. */
export interface ThingValue {
  readonly key: string;
  /** Any JSON value: the platform stores numbers, strings, arrays and objects. */
  readonly value: unknown;
  /** UTC ms from the item's `datetime` (either form), or undefined when it carried none. */
  readonly datetime: number | undefined;
}

/**
 * Only alphanumerics and `.`, `-`, `_` in a key [doc; `_` inferred], at least one. A loop, not a
 * RegExp: it runs for every value, and a module-level RegExp cannot be preloaded (moddable/README.md).
 * for…of, not charCodeAt(i): XS keeps strings as UTF-8, where indexing is quadratic (kernel/utf8.ts).
 */
export function hasKeyCharactersOnly(text: string): boolean {
  if (text.length === 0) return false;
  for (const character of text) {
    const c = character.charCodeAt(0);
    const alphanumeric = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!alphanumeric && c !== 0x2e && c !== 0x2d && c !== 0x5f) return false;
  }
  return true;
}

export function isValidKey(key: unknown): key is string {
  return typeof key === "string" && key.length <= MAX_KEY_LENGTH && hasKeyCharactersOnly(key);
}

/** Whether `value` is plain JSON nested at most `depth` levels below it. */
function isPlainJson(value: unknown, depth: number): boolean {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (depth === 0 || typeof value !== "object") return false;
  if (Array.isArray(value)) return value.every((item) => isPlainJson(item, depth - 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const member of Object.values(value)) if (!isPlainJson(member, depth - 1)) return false;
  return true;
}

/** Why `value` cannot be written, or undefined when it can. */
export function writeValueProblem(value: WriteValue): string | undefined {
  if (!isValidKey(value.key))
    return `key ${JSON.stringify(String(value.key).slice(0, 40))} must be 1–${MAX_KEY_LENGTH} letters, digits, '.', '-' or '_'`;
  const v = value.value;
  if (isJsonObject(v)) {
    if (!isPlainJson(v, MAX_OBJECT_VALUE_DEPTH)) {
      return `value of ${value.key} must be plain JSON nested at most ${MAX_OBJECT_VALUE_DEPTH} levels`;
    }
    if (utf8Length(JSON.stringify(v)) > MAX_OBJECT_VALUE_BYTES) {
      return `value of ${value.key} is over ${MAX_OBJECT_VALUE_BYTES} bytes of JSON`;
    }
  } else if (typeof v === "number" ? !Number.isFinite(v) : typeof v !== "string") {
    return `value of ${value.key} must be a finite number, a string or a JSON object`;
  }
  if (value.datetime !== undefined && !isPlatformTime(value.datetime)) {
    return `datetime of ${value.key} must be UTC milliseconds from 1970 to 9999`;
  }
  const geo = value.geo;
  if (
    geo !== undefined &&
    !(Number.isFinite(geo.lat) && Number.isFinite(geo.long) && Math.abs(geo.lat) <= 90 && Math.abs(geo.long) <= 180)
  ) {
    return `geo of ${value.key} must be {lat: -90..90, long: -180..180}`;
  }
  return undefined;
}

/** The write body `{"values":[...]}` [doc]; the values must have passed writeValueProblem. */
export function encodeWriteBody(values: readonly WriteValue[]): string {
  const items = values.map((v) => {
    const item: { key: string; value: DeviceValue; datetime?: string; geo?: { lat: number; long: number } } = {
      key: v.key,
      value: v.value,
    };
    if (v.datetime !== undefined) item.datetime = formatCompactDate(v.datetime);
    if (v.geo !== undefined) item.geo = { lat: v.geo.lat, long: v.geo.long };
    return item;
  });
  return JSON.stringify({ values: items });
}

/**
 * One `{"key"?, "value", "datetime"?}` item from a read or a notification, or undefined if it is
 * malformed. `expectedKey` is the key a read asked for: it fills in a missing `key`, and an item
 * naming another key is refused.
 */
export function parseValueItem(item: unknown, expectedKey?: string): ThingValue | undefined {
  if (!isJsonObject(item) || !("value" in item)) return undefined;
  const key = item.key === undefined ? expectedKey : item.key;
  if (!isValidKey(key) || (expectedKey !== undefined && key !== expectedKey)) return undefined;
  let datetime: number | undefined;
  if (item.datetime !== undefined && item.datetime !== null) {
    datetime = parsePlatformDate(item.datetime);
    if (datetime === undefined) return undefined;
  }
  return { key, value: item.value, datetime };
}

/** Items of a JSON array: the well-formed ones, and how many were dropped. */
export function parseValueItems(
  items: readonly unknown[],
  expectedKey?: string,
): { values: ThingValue[]; dropped: number } {
  const values: ThingValue[] = [];
  let dropped = 0;
  for (const item of items) {
    const value = parseValueItem(item, expectedKey);
    if (value === undefined) dropped++;
    else values.push(value);
  }
  return { values, dropped };
}

/** `{"status": ..., "message"?: ...}` as the platform replies; `status` lower-cased. */
export interface StatusBody {
  readonly status: string;
  readonly message: string | undefined;
}

export function parseStatusBody(body: unknown): StatusBody | undefined {
  if (!isJsonObject(body) || typeof body.status !== "string") return undefined;
  return { status: body.status.toLowerCase(), message: typeof body.message === "string" ? body.message : undefined };
}
