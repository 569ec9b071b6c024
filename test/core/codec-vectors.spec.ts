// RFC 7252 byte vectors for the codec: header, empty messages, tokens, the option delta/length
// boundaries of §3.1 (12/13, 268/269, 65804), the largest legal option, payloads, and views into
// the datagram.

import { Code, MessageType } from "../../coap/codes.js";
import { decodeMessage } from "../../coap/decoder.js";
import { encodeMessage, MAX_OPTION_EXTENT, MessageEncoder } from "../../coap/encoder.js";
import type { CoapMessage, CoapOption, DecodedMessage } from "../../coap/message.js";
import { OptionNumber } from "../../coap/options.js";
import { encodeUtf8 } from "../../kernel/utf8.js";
import * as assert from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { bytes, filled, message, plainOptions } from "./codec-fixtures.js";

/** Encodes, checks the exact bytes, decodes them back and checks every field. */
function roundTrip(input: CoapMessage, expected: Uint8Array): DecodedMessage {
  const encoded = encodeMessage(input);
  assert.deepEqual(encoded, expected, "encoded bytes");
  const decoded = decodeMessage(encoded);
  assert.equal(decoded.type, input.type, "type");
  assert.equal(decoded.code, input.code, "code");
  assert.equal(decoded.messageId, input.messageId, "message ID");
  assert.deepEqual(decoded.token, input.token, "token");
  assert.deepEqual(decoded.payload, input.payload, "payload");
  assert.equal(decoded.options.length, input.options.length, "option count");
  return decoded;
}

suite("codec vectors", () => {
  suite("header and empty messages (RFC 7252 §3, §4.1)", () => {
    test("CoAP ping: an Empty CON is exactly 4 bytes", () => {
      roundTrip(message({ type: MessageType.CON, code: Code.Empty, messageId: 0x1234 }), bytes("40 00 12 34"));
    });

    test("empty ACK and RST", () => {
      roundTrip(message({ type: MessageType.ACK, code: Code.Empty, messageId: 0xbeef }), bytes("60 00 be ef"));
      roundTrip(message({ type: MessageType.RST, code: Code.Empty, messageId: 0x0001 }), bytes("70 00 00 01"));
    });

    test("all four types and the message ID range", () => {
      for (const [type, first] of [
        [MessageType.CON, 0x40],
        [MessageType.NON, 0x50],
        [MessageType.ACK, 0x60],
        [MessageType.RST, 0x70],
      ] as const) {
        for (const messageId of [0, 1, 0x7fff, 0xffff]) {
          const encoded = encodeMessage(message({ type, code: Code.Content, messageId }));
          assert.deepEqual(encoded, new Uint8Array([first, 0x45, messageId >> 8, messageId & 0xff]));
          assert.equal(decodeMessage(encoded).messageId, messageId);
        }
      }
    });

    test("RFC 7252 Figure 16: GET /temperature and its piggybacked 2.05 reply", () => {
      const request = roundTrip(
        message({ messageId: 0x7d34, options: [{ number: OptionNumber.UriPath, value: "temperature" }] }),
        bytes("40 01 7d 34 bb 74656d7065726174757265"),
      );
      assert.deepEqual(plainOptions(request), [{ number: 11, value: encodeUtf8("temperature") }]);
      roundTrip(
        message({ type: MessageType.ACK, code: Code.Content, messageId: 0x7d34, payload: encodeUtf8("22.3 C") }),
        bytes("60 45 7d 34 ff 32322e332043"),
      );
    });

    test("tokens of 0 to 8 bytes", () => {
      for (let length = 0; length <= 8; length++) {
        const token = new Uint8Array(length).map((_, i) => 0xa0 + i);
        const encoded = encodeMessage(message({ token, messageId: 7 }));
        assert.equal(encoded[0], 0x40 | length, `TKL ${length}`);
        assert.equal(encoded.length, 4 + length);
        assert.deepEqual(decodeMessage(encoded).token, token);
      }
    });

    test("code byte: class in the top 3 bits, detail in the low 5", () => {
      for (const [code, byte] of [
        [Code.GET, 0x01],
        [Code.POST, 0x02],
        [Code.Created, 0x41],
        [Code.Content, 0x45],
        [Code.NotFound, 0x84],
        [Code.ProxyingNotSupported, 0xa5],
        [0xff, 0xff],
      ] as const) {
        const encoded = encodeMessage(message({ code }));
        assert.equal(encoded[1], byte);
        assert.equal(decodeMessage(encoded).code, code);
      }
    });
  });

  suite("option delta and length forms (RFC 7252 §3.1)", () => {
    const deltaVectors: readonly [number, string][] = [
      [1, "10"],
      [12, "c0"],
      [13, "d0 00"],
      [14, "d0 01"],
      [268, "d0 ff"],
      [269, "e0 00 00"],
      [270, "e0 00 01"],
      [65535, "e0 fe f2"],
    ];
    for (const [number, head] of deltaVectors) {
      test(`option number ${number} as the first option: head ${head}`, () => {
        const decoded = roundTrip(
          message({ options: [{ number, value: new Uint8Array(0) }] }),
          bytes(`40 01 00 00 ${head}`),
        );
        assert.equal(decoded.options[0]!.number, number);
      });
    }

    test("deltas accumulate: 12 then 13 more then 269 more", () => {
      const options: CoapOption[] = [
        { number: 12, value: new Uint8Array(0) },
        { number: 25, value: new Uint8Array(0) },
        { number: 294, value: new Uint8Array(0) },
      ];
      const decoded = roundTrip(message({ options }), bytes("40 01 00 00 c0 d0 00 e0 00 00"));
      assert.deepEqual(
        decoded.options.map((o) => o.number),
        [12, 25, 294],
      );
    });

    const lengthVectors: readonly [number, string][] = [
      [0, "b0"],
      [12, "bc"],
      [13, "bd 00"],
      [14, "bd 01"],
      [268, "bd ff"],
      [269, "be 00 00"],
      [270, "be 00 01"],
      [MAX_OPTION_EXTENT, "be ff ff"],
    ];
    for (const [length, head] of lengthVectors) {
      test(`value length ${length}: head ${head}`, () => {
        const value = filled(length, 0x61);
        const expected = new Uint8Array(4 + bytes(head).length + length);
        expected.set(bytes(`40 01 00 00 ${head}`), 0);
        expected.fill(0x61, 4 + bytes(head).length);
        const decoded = roundTrip(message({ options: [{ number: OptionNumber.UriPath, value }] }), expected);
        assert.equal(decoded.options[0]!.value.length, length);
      });
    }

    test("the largest legal option: number 65535 with a 65804-byte value, then a payload", () => {
      const value = filled(MAX_OPTION_EXTENT, 0x5a);
      const payload = bytes("01 02 03");
      const input = message({
        code: Code.POST,
        messageId: 0xffff,
        token: bytes("ffffffffffffffff"),
        options: [{ number: 65535, value }],
        payload,
      });
      const encoded = encodeMessage(input);
      assert.equal(encoded.length, 4 + 8 + 5 + MAX_OPTION_EXTENT + 1 + 3);
      assert.deepEqual(encoded.subarray(12, 17), bytes("ee fe f2 ff ff"));
      const decoded = decodeMessage(encoded);
      assert.equal(decoded.options[0]!.number, 65535);
      assert.equal(decoded.options[0]!.value.length, MAX_OPTION_EXTENT);
      assert.equal(decoded.options[0]!.value[MAX_OPTION_EXTENT - 1], 0x5a);
      assert.deepEqual(decoded.payload, payload);
    });

    test("nibble 13 and 14 in both fields of one option header", () => {
      const value = filled(300, 1);
      const decoded = roundTrip(
        message({
          options: [
            { number: 20, value: filled(13, 2) },
            { number: 400, value },
          ],
        }),
        (() => {
          const out = new Uint8Array(4 + 3 + 13 + 5 + 300);
          out.set(bytes("40 01 00 00 dd 07 00"), 0);
          out.fill(2, 7, 20);
          // delta 380 = 269 + 0x006f, length 300 = 269 + 0x001f
          out.set(bytes("ee 00 6f 00 1f"), 20);
          out.fill(1, 25);
          return out;
        })(),
      );
      assert.deepEqual(
        decoded.options.map((o) => [o.number, o.value.length]),
        [
          [20, 13],
          [400, 300],
        ],
      );
    });
  });

  suite("options", () => {
    test("repeatable options keep their order; unsorted input is sorted stably", () => {
      const options: CoapOption[] = [
        { number: OptionNumber.UriQuery, value: "b=2" },
        { number: OptionNumber.UriPath, value: "v2" },
        { number: OptionNumber.UriQuery, value: "a=1" },
        { number: OptionNumber.UriPath, value: "things" },
      ];
      const decoded = decodeMessage(encodeMessage(message({ options })));
      assert.deepEqual(plainOptions(decoded), [
        { number: 11, value: encodeUtf8("v2") },
        { number: 11, value: encodeUtf8("things") },
        { number: 15, value: encodeUtf8("b=2") },
        { number: 15, value: encodeUtf8("a=1") },
      ]);
      // A repeat is a zero delta.
      assert.deepEqual(
        encodeMessage(
          message({
            options: [
              { number: 11, value: "a" },
              { number: 11, value: "b" },
            ],
          }),
        ),
        bytes("40 01 00 00 b1 61 01 62"),
      );
    });

    test("uint values in minimal length (RFC 7252 §3.2)", () => {
      const cases: readonly [number, string][] = [
        [0, "c0"],
        [50, "c1 32"],
        [255, "c1 ff"],
        [256, "c2 01 00"],
        [65535, "c2 ff ff"],
        [65536, "c3 01 00 00"],
        [0xffffff, "c3 ff ff ff"],
        [0x1000000, "c4 01 00 00 00"],
        [0xffffffff, "c4 ff ff ff ff"],
      ];
      for (const [value, wire] of cases) {
        assert.deepEqual(
          encodeMessage(message({ options: [{ number: OptionNumber.ContentFormat, value }] })),
          bytes(`40 01 00 00 ${wire}`),
          `uint ${value}`,
        );
      }
    });

    test("string values are written as UTF-8", () => {
      const encoded = encodeMessage(message({ options: [{ number: OptionNumber.UriPath, value: "é€😀" }] }));
      assert.deepEqual(encoded, bytes("40 01 00 00 b9 c3a9 e282ac f09f9880"));
    });

    test("unknown options survive decoding as opaque values", () => {
      const decoded = decodeMessage(bytes("40 01 00 00 d2 ef aa bb e1 05 ee cc"));
      assert.deepEqual(plainOptions(decoded), [
        { number: 252, value: bytes("aa bb") },
        { number: 2039, value: bytes("cc") },
      ]);
      assert.deepEqual(decoded.unrecognisedCritical, [2039], "2039 is odd: critical");
    });

    test("unrecognised critical options are reported, elective ones are not (RFC 7252 §5.4.1)", () => {
      const decoded = decodeMessage(
        encodeMessage(
          message({
            options: [
              { number: 9, value: bytes("01") },
              { number: 11, value: "ok" },
              { number: 2048, value: bytes("02") },
              { number: 2049, value: bytes("03") },
            ],
          }),
        ),
      );
      assert.deepEqual(decoded.unrecognisedCritical, [9, 2049]);
      assert.equal(decoded.options.length, 4, "all options are kept");
      assert.deepEqual(decodeMessage(bytes("40 01 00 00 b2 7632")).unrecognisedCritical, []);
    });

    test("a critical option with a length outside its definition is unrecognised (§5.4.3)", () => {
      // Uri-Host must be 1–255 bytes; Block2 at most 3; If-None-Match empty.
      assert.deepEqual(decodeMessage(bytes("40 01 00 00 30")).unrecognisedCritical, [3]);
      assert.deepEqual(decodeMessage(bytes("40 01 00 00 d4 0a 01 02 03 04")).unrecognisedCritical, [23]);
      assert.deepEqual(decodeMessage(bytes("40 01 00 00 51 00")).unrecognisedCritical, [5]);
      // Content-Format (12) is elective: a 3-byte value is not reported.
      assert.deepEqual(decodeMessage(bytes("40 01 00 00 c3 01 02 03")).unrecognisedCritical, []);
    });

    test("a repeat of a non-repeatable critical option is unrecognised (§5.4.5)", () => {
      // Two Block2 options: the second is the supernumerary one.
      assert.deepEqual(decodeMessage(bytes("40 01 00 00 d1 0a 06 01 16")).unrecognisedCritical, [23]);
      // Uri-Path repeats freely.
      assert.deepEqual(decodeMessage(bytes("40 01 00 00 b1 61 01 62")).unrecognisedCritical, []);
    });
  });

  suite("payload", () => {
    test("the payload follows the 0xFF marker and may hold any byte, 0xFF included", () => {
      const payload = bytes("ff 00 ff");
      roundTrip(
        message({
          code: Code.Content,
          type: MessageType.ACK,
          payload,
          options: [{ number: OptionNumber.ContentFormat, value: 42 }],
        }),
        bytes("60 45 00 00 c1 2a ff ff 00 ff"),
      );
    });

    test("no marker without a payload", () => {
      assert.deepEqual(encodeMessage(message({ payload: new Uint8Array(0) })), bytes("40 01 00 00"));
    });

    test("token, option values and payload are views into the datagram, not copies", () => {
      const host = bytes("00 00 44 02 12 34 01 02 03 04 b2 7632 ff 7b 7d 00");
      const datagram = host.subarray(2, host.length - 1);
      const decoded = decodeMessage(datagram);
      for (const view of [decoded.token, decoded.options[0]!.value, decoded.payload]) {
        assert.ok(view.buffer === host.buffer, "shares the datagram's buffer");
      }
      assert.equal(decoded.token.byteOffset, 6);
      assert.equal(decoded.options[0]!.value.byteOffset, 11);
      assert.equal(decoded.payload.byteOffset, 14);
      assert.deepEqual(decoded.payload, bytes("7b 7d"), "stops at the end of the view, not of the buffer");
      const option = decoded.options[0]!;
      // biome-ignore lint/suspicious/noSelfCompare: two reads of the lazy getter must give the same view
      assert.ok(option.value === option.value, "one view, made once");
    });
  });

  suite("MessageEncoder", () => {
    test("reuses its buffer: each result is a view of the same memory", () => {
      const encoder = new MessageEncoder(64);
      const first = encoder.encode(message({ messageId: 1 }));
      const firstCopy = first.slice();
      const second = encoder.encode(message({ messageId: 2, options: [{ number: 11, value: "x" }] }));
      assert.ok(first.buffer === second.buffer);
      assert.deepEqual(firstCopy, bytes("40 01 00 01"));
      assert.deepEqual(second, bytes("40 01 00 02 b1 78"));
      assert.equal(encoder.capacity, 64);
    });

    test("the same bytes as encodeMessage", () => {
      const encoder = new MessageEncoder();
      const input = message({
        type: MessageType.NON,
        code: Code.POST,
        messageId: 0xabcd,
        token: bytes("0102030405060708"),
        options: [
          { number: 11, value: "v2" },
          { number: 11, value: "things" },
          { number: 12, value: 50 },
        ],
        payload: encodeUtf8('{"values":[{"key":"t","value":21.5}]}'),
      });
      assert.deepEqual(encoder.encode(input), encodeMessage(input));
    });
  });
});
