// Interop with an independent implementation: property-based round trips (fast-check) between our
// codec and npm coap-packet in both directions. What we encode, coap-packet parses to the same
// fields; what coap-packet generates, we decode to the same fields. CoAP has one encoding per
// message (RFC 7252 §3.1), so both must also produce the very same bytes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { generate, type Packet, parse } from "coap-packet";
import fc from "fast-check";
import { Code, codeString, MessageType } from "../../coap/codes.js";
import { decodeMessage } from "../../coap/decoder.js";
import { encodeMessage, MessageEncoder } from "../../coap/encoder.js";
import type { CoapMessage, CoapOption } from "../../coap/message.js";
import { optionDefinitions } from "../../coap/options.js";

const RUNS = 2000;
const SEED = 0x7252;

/** coap-packet names the options it knows; everything else comes back as the number in text. */
const COAP_PACKET_NAMES: Readonly<Record<string, number>> = Object.freeze({
  ...Object.fromEntries(optionDefinitions().map((d) => [d.name, d.number])),
  OSCORE: 9,
  "Hop-Limit": 16,
  "Q-Block1": 19,
  "Q-Block2": 31,
  "No-Response": 258,
  "OCF-Accept-Content-Format-Version": 2049,
  "OCF-Content-Format-Version": 2053,
});

function coapPacketOptionNumber(name: string | number): number {
  if (typeof name === "number") return name;
  return COAP_PACKET_NAMES[name] ?? Number(name);
}

/** Option numbers: the registry, the delta boundaries of §3.1, and anything up to 65535. */
const optionNumber = fc.oneof(
  fc.constantFrom(...optionDefinitions().map((d) => d.number)),
  fc.constantFrom(0, 2, 9, 12, 13, 14, 258, 268, 269, 270, 2049, 2053, 65535),
  fc.integer({ min: 0, max: 65535 }),
);

/** Value lengths around the length boundaries of §3.1 as well as small ones. */
const optionValue = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 20 }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(12, 13, 14, 268, 269, 270, 1000)
      .chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
  },
);

const option = fc.record({ number: optionNumber, value: optionValue });

const nonEmptyMessage: fc.Arbitrary<CoapMessage> = fc.record({
  type: fc.constantFrom(MessageType.CON, MessageType.NON, MessageType.ACK, MessageType.RST),
  code: fc.integer({ min: 1, max: 255 }),
  messageId: fc.integer({ min: 0, max: 0xffff }),
  token: fc.uint8Array({ maxLength: 8 }),
  options: fc.array(option, { maxLength: 8 }) as fc.Arbitrary<CoapOption[]>,
  payload: fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 1, maxLength: 300 })),
});

/** §4.1: an Empty message is the 4-byte header alone (ping, empty ACK, RST). */
const emptyMessage: fc.Arbitrary<CoapMessage> = fc.record({
  type: fc.constantFrom(MessageType.CON, MessageType.NON, MessageType.ACK, MessageType.RST),
  code: fc.constant(Code.Empty),
  messageId: fc.integer({ min: 0, max: 0xffff }),
  token: fc.constant(new Uint8Array(0)),
  options: fc.constant([]),
  payload: fc.constant(new Uint8Array(0)),
});

const anyMessage = fc.oneof({ weight: 9, arbitrary: nonEmptyMessage }, { weight: 1, arbitrary: emptyMessage });

/** Our options in wire order: ascending numbers, repeats in their given order. */
function inWireOrder(options: readonly CoapOption[]): { number: number; value: Uint8Array }[] {
  return options
    .map((o, index) => ({ number: o.number, value: o.value as Uint8Array, index }))
    .sort((a, b) => a.number - b.number || a.index - b.index)
    .map(({ number, value }) => ({ number, value }));
}

function flagsOf(type: number): Pick<Packet, "confirmable" | "ack" | "reset"> {
  return { confirmable: type === MessageType.CON, ack: type === MessageType.ACK, reset: type === MessageType.RST };
}

function typeFromFlags(parsed: { confirmable: boolean; ack: boolean; reset: boolean }): number {
  if (parsed.confirmable) return MessageType.CON;
  if (parsed.ack) return MessageType.ACK;
  if (parsed.reset) return MessageType.RST;
  return MessageType.NON;
}

function toCoapPacket(message: CoapMessage): Packet {
  return {
    ...flagsOf(message.type),
    code: codeString(message.code),
    messageId: message.messageId,
    token: Buffer.from(message.token),
    options: message.options.map((o) => ({ name: o.number, value: Buffer.from(o.value as Uint8Array) })),
    payload: Buffer.from(message.payload),
  };
}

const bytesOf = (view: Uint8Array) => Array.from(view);

test("interop: what we encode, coap-packet parses to the same fields", () => {
  const encoder = new MessageEncoder(70_000);
  fc.assert(
    fc.property(anyMessage, (message) => {
      const wire = encoder.encode(message);
      const parsed = parse(Buffer.from(wire));
      assert.equal(typeFromFlags(parsed), message.type);
      assert.equal(parsed.code, codeString(message.code));
      assert.equal(parsed.messageId, message.messageId);
      assert.deepEqual(bytesOf(parsed.token), bytesOf(message.token));
      assert.deepEqual(
        parsed.options.map((o) => ({ number: coapPacketOptionNumber(o.name), value: bytesOf(o.value) })),
        inWireOrder(message.options).map((o) => ({ number: o.number, value: bytesOf(o.value) })),
      );
      assert.deepEqual(bytesOf(parsed.payload), bytesOf(message.payload));
    }),
    { numRuns: RUNS, seed: SEED },
  );
});

test("interop: what coap-packet generates, we decode to the same fields, from the same bytes", () => {
  fc.assert(
    fc.property(anyMessage, (message) => {
      const wire = generate(toCoapPacket(message), 70_000);
      const decoded = decodeMessage(new Uint8Array(wire.buffer, wire.byteOffset, wire.length));
      assert.equal(decoded.type, message.type);
      assert.equal(decoded.code, message.code);
      assert.equal(decoded.messageId, message.messageId);
      assert.deepEqual(bytesOf(decoded.token), bytesOf(message.token));
      assert.deepEqual(
        decoded.options.map((o) => ({ number: o.number, value: bytesOf(o.value) })),
        inWireOrder(message.options).map((o) => ({ number: o.number, value: bytesOf(o.value) })),
      );
      assert.deepEqual(bytesOf(decoded.payload), bytesOf(message.payload));
      assert.deepEqual(bytesOf(encodeMessage(message)), bytesOf(wire), "the same bytes from both encoders");
    }),
    { numRuns: RUNS, seed: SEED + 1 },
  );
});

test("interop: the largest legal option (number 65535, 65804 bytes) both ways", () => {
  const message: CoapMessage = {
    type: MessageType.NON,
    code: Code.PUT,
    messageId: 1,
    token: new Uint8Array([1, 2, 3]),
    options: [{ number: 65535, value: new Uint8Array(65804).fill(0xab) }],
    payload: new Uint8Array([7]),
  };
  const ours = encodeMessage(message);
  const parsed = parse(Buffer.from(ours));
  assert.equal(coapPacketOptionNumber(parsed.options[0]!.name), 65535);
  assert.equal(parsed.options[0]!.value.length, 65804);
  const theirs = generate(toCoapPacket(message), 70_000);
  assert.ok(Buffer.from(ours).equals(theirs));
  assert.equal(decodeMessage(new Uint8Array(theirs)).options[0]!.value.length, 65804);
});
