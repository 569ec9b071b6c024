// The JSON bodies the platform sends, as bytes. Items are built as text once and measured in
// bytes, because a notification must fit in one datagram (see NOTIFICATION_MAX_BYTES).
import { formatIso } from "./dates.js";
import type { StoredValue } from "./store.js";

export const SUBSCRIBED = { status: "success", message: "subscribed" } as const;
export const UNSUBSCRIBED = { status: "success", message: "unsubscribed" } as const;
export const WRITTEN = { status: "Success", message: "Created" } as const;
/** The keep-alive notification. */
export const KEEP_ALIVE = {} as const;

/**
 * The largest notification payload. node-coap sends a notification as one message of at most
 * 1152 bytes (RFC 7252 §4.6) and does no block-wise transfer for notifications, so a payload
 * stays at 1024 bytes, leaving room for header, token and options.
 */
export const NOTIFICATION_MAX_BYTES = 1024;

export function jsonBytes(body: unknown): Buffer {
  return Buffer.from(JSON.stringify(body));
}

/** `{"key":...,"value":...,"datetime":"<ISO 8601>"}`, plus `"geo"` when the value has one. */
export function encodeItem(v: StoredValue): string {
  const geo = v.geo === undefined ? "" : `,"geo":${JSON.stringify(v.geo)}`;
  // `value` is stored as JSON text already; it is spliced in, not parsed and re-serialised.
  return `{"key":${JSON.stringify(v.key)},"value":${v.value},"datetime":"${formatIso(v.datetime)}"${geo}}`;
}

export function encodeArray(items: readonly string[]): Buffer {
  return Buffer.from(`[${items.join(",")}]`);
}

/** True if `item` alone, as a one-element array, fits in one notification. */
export function fitsInNotification(item: string): boolean {
  return Buffer.byteLength(item) + 2 <= NOTIFICATION_MAX_BYTES;
}

/** The items as consecutive JSON arrays, in order, each at most NOTIFICATION_MAX_BYTES. */
export function notificationArrays(items: readonly string[]): Buffer[] {
  const arrays: Buffer[] = [];
  let current: string[] = [];
  let size = 2; // "[" and "]"
  for (const item of items) {
    const itemSize = Buffer.byteLength(item) + (current.length > 0 ? 1 : 0); // "," between items
    if (current.length > 0 && size + itemSize > NOTIFICATION_MAX_BYTES) {
      arrays.push(encodeArray(current));
      current = [];
      size = 2;
    }
    size += Buffer.byteLength(item) + (current.length > 0 ? 1 : 0);
    current.push(item);
  }
  if (current.length > 0) arrays.push(encodeArray(current));
  return arrays;
}
