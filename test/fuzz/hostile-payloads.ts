// Hostile payloads a platform (or anyone able to write to the thing) can push to the device,
// each with the place where the device's command path must stop it: the endpoint (a body over
// maxBodySize), the subscription (not a message it knows), the value items (malformed items
// dropped), or the dispatcher (a value no actuator takes). Used by the table-driven spec
// (test/core/hostile-payloads.spec.ts) and the XS memory run. Portable.
import type { IgnoreReason } from "../../device/commands.js";

export type Stop =
  /** The endpoint never delivers it (a body over maxBodySize). */
  | { readonly at: "endpoint" }
  /** The subscription drops the whole notification. */
  | { readonly at: "subscription" }
  /** A data message whose items are all malformed. */
  | { readonly at: "items"; readonly dropped: number }
  /** Items reach the dispatcher, which ignores each. */
  | { readonly at: "dispatcher"; readonly reason: IgnoreReason; readonly count: number }
  /** An error status on the stream. */
  | { readonly at: "error" };

export interface HostilePayload {
  readonly name: string;
  /** The datagram payload (UTF-8 where the row is text). */
  readonly payload: Uint8Array;
  readonly stop: Stop;
}

/**
 * UTF-8 by code point. kernel/utf8.ts indexes with charCodeAt, which XS answers by walking its
 * UTF-8 string from the start each time, so a 12 KB text took 0.2 s there; iterating the
 * string is linear on every engine.
 */
function utf8(text: string): Uint8Array {
  const out: number[] = [];
  for (const character of text) {
    const point = character.codePointAt(0)!;
    if (point < 0x80) out.push(point);
    else if (point < 0x800) out.push(0xc0 | (point >> 6), 0x80 | (point & 0x3f));
    else if (point < 0x10000) out.push(0xe0 | (point >> 12), 0x80 | ((point >> 6) & 0x3f), 0x80 | (point & 0x3f));
    else
      out.push(
        0xf0 | (point >> 18),
        0x80 | ((point >> 12) & 0x3f),
        0x80 | ((point >> 6) & 0x3f),
        0x80 | (point & 0x3f),
      );
  }
  return new Uint8Array(out);
}

function row(name: string, payload: string | Uint8Array, stop: Stop): HostilePayload {
  return Object.freeze({ name, payload: typeof payload === "string" ? utf8(payload) : payload, stop });
}

const SUBSCRIPTION: Stop = { at: "subscription" };
const items = (dropped: number): Stop => ({ at: "items", dropped });
const ignored = (reason: IgnoreReason, count = 1): Stop => ({ at: "dispatcher", reason, count });
const nested = (depth: number, open: string, close: string, inner: string): string =>
  open.repeat(depth) + inner + close.repeat(depth);
const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);
const concat = (a: Uint8Array, text: string): Uint8Array => {
  const tail = utf8(text);
  const out = new Uint8Array(a.length + tail.length);
  out.set(a, 0);
  out.set(tail, a.length);
  return out;
};

export const HOSTILE_PAYLOADS: readonly HostilePayload[] = Object.freeze([
  // Invalid JSON.
  row("truncated object", '{"key":', SUBSCRIPTION),
  row("unclosed array", '[{"key":"led","value":1}', SUBSCRIPTION),
  row("trailing bracket", '[{"key":"led","value":1}]]', SUBSCRIPTION),
  row("single quotes", "[{'key':'led','value':1}]", SUBSCRIPTION),
  row("leading zero", '[{"key":"led","value":01}]', SUBSCRIPTION),
  row("NaN", "NaN", SUBSCRIPTION),
  row("trailing NUL", '[{"key":"led","value":1}]\u0000', SUBSCRIPTION),
  row("invalid UTF-8 before the JSON", concat(bytes(0xff, 0xfe), '[{"key":"led","value":1}]'), SUBSCRIPTION),
  row("UTF-8 byte-order mark", concat(bytes(0xef, 0xbb, 0xbf), '[{"key":"led","value":1}]'), SUBSCRIPTION),
  // Wrong types.
  row("a bare string", '"led"', SUBSCRIPTION),
  row("a bare number", "1", SUBSCRIPTION),
  row("null", "null", SUBSCRIPTION),
  row("an object of unknown shape", '{"led":1}', SUBSCRIPTION),
  row("__proto__ holding a value item", '{"__proto__":{"key":"led","value":1}}', SUBSCRIPTION),
  row("an array of scalars", '[1,"led",null,true]', items(4)),
  row("a numeric key", '[{"key":1,"value":1}]', items(1)),
  row("an array as key", '[{"key":["led"],"value":1}]', items(1)),
  row("no value", '[{"key":"led"}]', items(1)),
  row("a datetime that is not a date", '[{"key":"led","value":1,"datetime":"yesterday"}]', items(1)),
  row("a numeric datetime", '[{"key":"led","value":1,"datetime":20240101000000}]', items(1)),
  row("an object as digital value", '[{"key":"led","value":{"on":true}}]', ignored("malformed")),
  row("an array as digital value", '[{"key":"led","value":[1]}]', ignored("malformed")),
  row("null as digital value", '[{"key":"led","value":null}]', ignored("malformed")),
  row("a word as digital value", '[{"key":"led","value":"dim"}]', ignored("malformed")),
  row("a boolean as PWM value", '[{"key":"dim","value":true}]', ignored("malformed")),
  row("an exponent in a PWM string", '[{"key":"dim","value":"5e1"}]', ignored("malformed")),
  row("__proto__ as key", '[{"key":"__proto__","value":1}]', ignored("unknown-key")),
  row("constructor as key", '[{"key":"constructor","value":1}]', ignored("unknown-key")),
  row("the device's own telemetry key", '[{"key":"temperature","value":1}]', ignored("own-telemetry")),
  row("an error status", '{"status":"error","message":"nope"}', { at: "error" }),
  // Huge numbers.
  row("1e400 (Infinity after parsing)", '[{"key":"led","value":1e400}]', ignored("malformed")),
  row("1e308 as PWM", '[{"key":"dim","value":1e308}]', ignored("malformed")),
  row("-1e308 as PWM", '[{"key":"dim","value":-1e308}]', ignored("malformed")),
  row("a 30-digit integer", '[{"key":"led","value":123456789012345678901234567890}]', ignored("malformed")),
  row("a 30-digit percentage", '[{"key":"dim","value":"999999999999999999999999999999%"}]', ignored("malformed")),
  row("just over 100 %", '[{"key":"dim","value":100.00000000000001}]', ignored("malformed")),
  row("400 digits of PWM string", `[{"key":"dim","value":"${"9".repeat(400)}"}]`, ignored("malformed")),
  // Deep nesting.
  row("arrays 17 deep", nested(17, "[", "]", ""), SUBSCRIPTION),
  row("objects 17 deep", nested(17, '{"a":', "}", "1"), SUBSCRIPTION),
  row("10,000 open brackets", "[".repeat(10_000), SUBSCRIPTION),
  row("5,000 nested arrays, closed", nested(5_000, "[", "]", "1"), SUBSCRIPTION),
  row("a value nested 14 deep", `[{"key":"led","value":${nested(14, "[", "]", "1")}}]`, ignored("malformed")),
  // Very long strings and keys.
  row("a 256-character key", `[{"key":"${"k".repeat(256)}","value":1}]`, items(1)),
  row("a 255-character key nobody listens to", `[{"key":"${"k".repeat(255)}","value":1}]`, ignored("unknown-key")),
  row("a 12,000-character key", `[{"key":"${"k".repeat(12_000)}","value":1}]`, items(1)),
  row("a 12,000-character digital value", `[{"key":"led","value":"${"1".repeat(12_000)}"}]`, ignored("malformed")),
  row("a 12,000-digit PWM value", `[{"key":"dim","value":"${"5".repeat(12_000)}"}]`, ignored("malformed")),
  row('"on" padded with 7,000 blanks', `[{"key":"led","value":"on${" ".repeat(7_000)}"}]`, ignored("malformed")),
  row('"0.5" padded with 7,000 zeros', `[{"key":"dim","value":"0.5${"0".repeat(7_000)}"}]`, ignored("malformed")),
  row("a key with a Cyrillic letter", '[{"key":"l\u0435d","value":1}]', items(1)),
  row("a 10,000-character member name", `{"${"m".repeat(10_000)}":1}`, SUBSCRIPTION),
  row(
    "700 items for keys nobody listens to",
    `[${Array.from({ length: 700 }, () => '{"key":"x","value":1}').join(",")}]`,
    ignored("unknown-key", 700),
  ),
  row("20,000 bytes (over the 16 KiB body limit)", `[{"key":"led","value":"${"1".repeat(20_000)}"}]`, {
    at: "endpoint",
  }),
]);
