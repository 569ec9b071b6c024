// Malformed datagrams and unencodable messages: each throws CoapFormatError with its reason
// (RFC 7252 §3, §3.1, §4.1), and nothing else is ever thrown.

import { Code, type MessageType } from "../../coap/codes.js";
import { decodeMessage } from "../../coap/decoder.js";
import { encodeMessage, MAX_OPTION_EXTENT, MessageEncoder } from "../../coap/encoder.js";
import { CoapFormatError, type CoapFormatReason } from "../../coap/format-error.js";
import type { CoapMessage, OptionValue } from "../../coap/message.js";
import * as assert from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { bytes, filled, message } from "./codec-fixtures.js";

function rejects(datagram: Uint8Array, reason: CoapFormatReason, offset?: number): void {
  const error = assert.throws(
    () => decodeMessage(datagram),
    (e) => e instanceof CoapFormatError,
    "throws CoapFormatError",
  );
  assert.equal((error as CoapFormatError).reason, reason, `reason for ${Array.from(datagram).join(" ")}`);
  if (offset !== undefined) assert.equal((error as CoapFormatError).offset, offset, "offset");
}

function refusesToEncode(input: CoapMessage, reason: CoapFormatReason): void {
  for (const encode of [encodeMessage, (m: CoapMessage) => new MessageEncoder().encode(m)]) {
    const error = assert.throws(
      () => encode(input),
      (e) => e instanceof CoapFormatError,
      "throws CoapFormatError",
    );
    assert.equal((error as CoapFormatError).reason, reason);
  }
}

suite("codec errors", () => {
  suite("decoding", () => {
    test("truncated header: fewer than 4 bytes", () => {
      for (const datagram of [bytes(""), bytes("40"), bytes("40 01"), bytes("40 01 00")])
        rejects(datagram, "truncated-header", 0);
    });

    test("a version other than 1", () => {
      for (const first of [0x00, 0x80, 0xc0, 0x3f, 0xff])
        rejects(new Uint8Array([first, 0x01, 0, 0]), "bad-version", 0);
    });

    test("token length 9 to 15 is reserved", () => {
      for (let tkl = 9; tkl <= 15; tkl++) {
        const datagram = new Uint8Array(4 + 16);
        datagram[0] = 0x40 | tkl;
        datagram[1] = 0x01;
        rejects(datagram, "bad-token-length", 0);
      }
    });

    test("a token longer than the datagram", () => {
      rejects(bytes("48 01 00 00 01 02 03 04 05 06 07"), "token-overrun", 4);
      rejects(bytes("41 45 00 00"), "token-overrun");
    });

    test("delta nibble 15 without length nibble 15 is reserved", () => {
      for (let low = 0; low < 15; low++)
        rejects(new Uint8Array([0x40, 0x01, 0, 0, 0xf0 | low, 0, 0, 0]), "reserved-option-nibble", 4);
    });

    test("length nibble 15 is reserved", () => {
      for (let high = 0; high < 15; high++)
        rejects(new Uint8Array([0x40, 0x01, 0, 0, (high << 4) | 0x0f, 0, 0, 0]), "reserved-option-nibble", 4);
      // After a valid option too, with the offset of the bad head.
      rejects(bytes("40 01 00 00 b1 61 0f"), "reserved-option-nibble", 6);
    });

    test("option extension bytes past the end", () => {
      rejects(bytes("40 01 00 00 d0"), "option-overrun");
      rejects(bytes("40 01 00 00 e0 00"), "option-overrun");
      rejects(bytes("40 01 00 00 0d"), "option-overrun");
      rejects(bytes("40 01 00 00 0e 01"), "option-overrun");
      rejects(bytes("40 01 00 00 dd 00"), "option-overrun");
    });

    test("an option value running past the datagram", () => {
      rejects(bytes("40 01 00 00 b3 61 62"), "option-overrun", 5);
      rejects(bytes("40 01 00 00 bd 00 61"), "option-overrun");
      rejects(bytes("40 01 00 00 be ff ff 61"), "option-overrun");
    });

    test("a payload marker with no payload after it", () => {
      rejects(bytes("40 01 00 00 ff"), "marker-without-payload", 4);
      rejects(bytes("41 01 00 00 aa b1 61 ff"), "marker-without-payload", 7);
    });

    test("option numbers past 65535", () => {
      // 14 + 0xffff gives a delta of 65804 (§3.1), beyond any 16-bit option number.
      rejects(bytes("40 01 00 00 e0 ff ff"), "option-number-too-large", 4);
      rejects(bytes("40 01 00 00 e0 fe f2 10"), "option-number-too-large", 7);
    });

    test("an Empty message (0.00) with a token, options or payload (§4.1)", () => {
      rejects(bytes("41 00 00 00 aa"), "empty-message-not-empty", 4);
      rejects(bytes("60 00 00 00 b1 61"), "empty-message-not-empty");
      rejects(bytes("70 00 00 00 ff 01"), "empty-message-not-empty");
    });

    test("every prefix of a valid message decodes to a prefix of it or throws CoapFormatError", () => {
      const full = encodeMessage(
        message({
          code: Code.POST,
          token: bytes("0102030405"),
          options: [
            { number: 11, value: "v2" },
            { number: 11, value: "x".repeat(20) },
            { number: 300, value: filled(280, 7) },
            { number: 2049, value: 1 },
          ],
          payload: filled(10, 9),
        }),
      );
      const whole = decodeMessage(full);
      let decodedPrefixes = 0;
      for (let length = 0; length < full.length; length++) {
        try {
          const decoded = decodeMessage(full.subarray(0, length));
          decodedPrefixes++;
          assert.ok(decoded.options.length <= whole.options.length);
          for (let i = 0; i < decoded.options.length; i++) {
            assert.equal(decoded.options[i]!.number, whole.options[i]!.number);
            assert.deepEqual(decoded.options[i]!.value, whole.options[i]!.value);
          }
          assert.ok(decoded.payload.length < whole.payload.length);
        } catch (error) {
          assert.ok(error instanceof CoapFormatError, `prefix of ${length}: ${String(error)}`);
        }
      }
      // Valid prefixes end after the token, after each of the 4 options, or inside the payload.
      assert.equal(decodedPrefixes, 1 + 4 + 9);
    });

    test("the error names its reason and where decoding stopped", () => {
      const error = assert.throws(() => decodeMessage(bytes("40 01 00 00 b5 61"))) as CoapFormatError;
      assert.ok(error instanceof Error);
      assert.equal(error.name, "CoapFormatError");
      assert.equal(error.reason, "option-overrun");
      assert.equal(error.offset, 5);
      assert.ok(error.message.startsWith("option-overrun: "), error.message);
    });
  });

  suite("encoding", () => {
    test("header fields out of range", () => {
      refusesToEncode(message({ type: 4 as MessageType }), "bad-field");
      refusesToEncode(message({ code: 256 }), "bad-field");
      refusesToEncode(message({ code: -1 }), "bad-field");
      refusesToEncode(message({ messageId: 0x10000 }), "bad-field");
      refusesToEncode(message({ messageId: 1.5 }), "bad-field");
    });

    test("a token of more than 8 bytes", () => {
      refusesToEncode(message({ token: new Uint8Array(9) }), "bad-token-length");
    });

    test("an Empty message with a token, an option or a payload (§4.1)", () => {
      refusesToEncode(message({ code: Code.Empty, token: bytes("01") }), "empty-message-not-empty");
      refusesToEncode(message({ code: Code.Empty, options: [{ number: 11, value: "a" }] }), "empty-message-not-empty");
      refusesToEncode(message({ code: Code.Empty, payload: bytes("01") }), "empty-message-not-empty");
    });

    test("option numbers and values out of range", () => {
      refusesToEncode(message({ options: [{ number: 65536, value: 0 }] }), "bad-field");
      refusesToEncode(message({ options: [{ number: -1, value: 0 }] }), "bad-field");
      for (const value of [-1, 0x100000000, 1.5, Number.NaN])
        refusesToEncode(message({ options: [{ number: 12, value }] }), "bad-field");
      refusesToEncode(message({ options: [{ number: 12, value: true as unknown as OptionValue }] }), "bad-field");
      refusesToEncode(
        message({ options: [{ number: 11, value: filled(MAX_OPTION_EXTENT + 1, 0) }] }),
        "option-value-too-long",
      );
    });

    test("a message larger than the encoder's buffer, in its token, an option or its payload; the encoder stays usable", () => {
      const encoder = new MessageEncoder(16);
      const tooLarge = [
        message({ token: filled(8, 1), options: [{ number: 11, value: "abcd" }] }),
        message({ options: [{ number: 11, value: "0123456789ab" }] }),
        message({ options: [{ number: 11, value: "€€€€" }] }),
        message({ payload: filled(12, 1) }),
      ];
      for (const input of tooLarge) {
        const error = assert.throws(() => encoder.encode(input)) as CoapFormatError;
        assert.equal(error.reason, "message-too-large");
      }
      assert.equal(
        new MessageEncoder(16).encode(message({ options: [{ number: 11, value: "0123456789" }] })).length,
        15,
      );
      assert.deepEqual(
        encoder.encode(message({ payload: filled(11, 1) })),
        new Uint8Array([0x40, 1, 0, 0, 0xff, ...filled(11, 1)]),
      );
      assert.throws(
        () => new MessageEncoder(3).encode(message({})),
        (e) => e instanceof CoapFormatError && e.reason === "message-too-large",
      );
    });
  });
});
