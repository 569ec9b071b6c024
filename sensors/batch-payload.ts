// The body of a theThings.IO write: {"values":[{"key":K,"value":V,"datetime":"YYYYMMDDHHmmss"},…]}
// (thethings-coap-api.md, "Operations" and "JSON value items"), the same text JSON.stringify
// gives for those objects, as thethings/values.ts encodeWriteBody sends it. Sizes are exact UTF-8
// byte counts, so telemetry can cut a batch to the payload limit value by value, without building
// the whole body each time.
import { utf8Length } from "../kernel/utf8.js";
import { formatCompactDate } from "../thethings/dates.js";
import type { JsonObjectValue } from "../thethings/values.js";
import type { BatchValue } from "./batch-sink.js";

const PAYLOAD_HEAD = '{"values":[';
const PAYLOAD_TAIL = "]}";
/** Bytes of `{"values":[]}`. */
export const PAYLOAD_FRAME_BYTES = PAYLOAD_HEAD.length + PAYLOAD_TAIL.length;

/** One value item's JSON text. `value` must be finite or plain JSON; `key` a checked thing key. */
export function valueItem(key: string, value: number | JsonObjectValue, datetime?: string): string {
  const head = `{"key":${JSON.stringify(key)},"value":${JSON.stringify(value)}`;
  return datetime === undefined ? `${head}}` : `${head},"datetime":"${datetime}"}`;
}

export function valueItemBytes(key: string, value: number | JsonObjectValue, datetime?: string): number {
  return utf8Length(valueItem(key, value, datetime));
}

/** Bytes of a payload holding `itemCount` items whose texts total `itemBytes` bytes. */
export function payloadBytes(itemBytes: number, itemCount: number): number {
  return PAYLOAD_FRAME_BYTES + itemBytes + (itemCount > 1 ? itemCount - 1 : 0);
}

/** The write body for `values`. */
export function encodeBatchPayload(values: readonly BatchValue[]): string {
  const items = values.map((v) =>
    valueItem(v.key, v.value, v.datetime === undefined ? undefined : formatCompactDate(v.datetime)),
  );
  return `${PAYLOAD_HEAD}${items.join(",")}${PAYLOAD_TAIL}`;
}
