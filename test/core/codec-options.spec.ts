// The option registry (RFC 7252 §5.10, §12.2; RFC 7641; RFC 7959), uint/Block/Observe helpers,
// codes, the message helpers, decoded options and UTF-8 without host APIs.

import {
  Code,
  codeClass,
  codeDetail,
  codeString,
  isRequestCode,
  isResponseCode,
  isSuccessCode,
  MessageType,
  makeCode,
  parseCode,
  typeName,
} from "../../coap/codes.js";
import { DatagramOption } from "../../coap/datagram-option.js";
import { decodeMessage } from "../../coap/decoder.js";
import { encodeMessage } from "../../coap/encoder.js";
import {
  findOption,
  hasOption,
  optionBytes,
  optionString,
  optionStrings,
  optionUint,
  pathOptions,
  queryOptions,
  sortOptions,
  uriPath,
} from "../../coap/message.js";
import {
  blockSize,
  decodeBlock,
  decodeUint,
  encodeBlock,
  encodeUint,
  isCritical,
  isNoCacheKey,
  isRecognised,
  isUnsafe,
  MAX_BLOCK_NUM,
  OBSERVE_DEREGISTER,
  OBSERVE_MODULUS,
  OBSERVE_REGISTER,
  OptionNumber,
  observeValue,
  optionByName,
  optionDefinition,
  optionDefinitions,
  szxForSize,
  uintLength,
} from "../../coap/options.js";
import { decodeUtf8, encodeUtf8, utf8Length, writeUtf8 } from "../../kernel/utf8.js";
import * as assert from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { bytes, message } from "./codec-fixtures.js";

suite("codec options and helpers", () => {
  suite("registry", () => {
    // [number, name, format, repeatable], from RFC 7252 §5.10, RFC 7641 §2, RFC 7959 §2.1 and §4.
    const expected: readonly [number, string, string, boolean][] = [
      [1, "If-Match", "opaque", true],
      [3, "Uri-Host", "string", false],
      [4, "ETag", "opaque", true],
      [5, "If-None-Match", "empty", false],
      [6, "Observe", "uint", false],
      [7, "Uri-Port", "uint", false],
      [8, "Location-Path", "string", true],
      [11, "Uri-Path", "string", true],
      [12, "Content-Format", "uint", false],
      [14, "Max-Age", "uint", false],
      [15, "Uri-Query", "string", true],
      [17, "Accept", "uint", false],
      [20, "Location-Query", "string", true],
      [23, "Block2", "uint", false],
      [27, "Block1", "uint", false],
      [28, "Size2", "uint", false],
      [35, "Proxy-Uri", "string", false],
      [39, "Proxy-Scheme", "string", false],
      [60, "Size1", "uint", false],
    ];

    test("holds every option the client needs, with format and repeatability", () => {
      assert.equal(optionDefinitions().length, expected.length);
      for (const [number, name, format, repeatable] of expected) {
        const definition = optionDefinition(number);
        assert.ok(definition !== undefined, name);
        assert.equal(definition.name, name);
        assert.equal(definition.format, format, `${name} format`);
        assert.equal(definition.repeatable, repeatable, `${name} repeatable`);
        assert.ok(optionByName(name) === definition);
        assert.ok(optionByName(name.toUpperCase()) === definition, "names match case-insensitively");
        assert.ok(isRecognised(number));
      }
      assert.equal(optionDefinition(9), undefined);
      assert.equal(optionByName("No-Such-Option"), undefined);
      assert.ok(!isRecognised(2049));
    });

    test("value length ranges from RFC 7252 §5.10", () => {
      const ranges: readonly [number, number, number][] = [
        [1, 0, 8],
        [3, 1, 255],
        [4, 1, 8],
        [5, 0, 0],
        [7, 0, 2],
        [12, 0, 2],
        [14, 0, 4],
        [35, 1, 1034],
        [60, 0, 4],
        [23, 0, 3],
        [6, 0, 3],
      ];
      for (const [number, min, max] of ranges) {
        assert.equal(optionDefinition(number)!.minLength, min, `${number} min`);
        assert.equal(optionDefinition(number)!.maxLength, max, `${number} max`);
      }
    });

    test("OptionNumber names the registry numbers", () => {
      for (const [number, name] of expected) {
        const key = name.replace(/-/g, "") as keyof typeof OptionNumber;
        assert.equal(OptionNumber[key], number, name);
      }
    });

    test("critical, unsafe and NoCacheKey bits (RFC 7252 §5.4.6)", () => {
      assert.ok(
        isCritical(OptionNumber.UriPath) && isCritical(OptionNumber.Block2) && isCritical(OptionNumber.IfMatch),
      );
      assert.ok(
        !isCritical(OptionNumber.ContentFormat) && !isCritical(OptionNumber.Observe) && !isCritical(OptionNumber.ETag),
      );
      assert.ok(isUnsafe(OptionNumber.UriHost) && isUnsafe(OptionNumber.Observe) && isUnsafe(OptionNumber.Block2));
      assert.ok(!isUnsafe(OptionNumber.ContentFormat) && !isUnsafe(OptionNumber.ETag));
      assert.ok(isNoCacheKey(OptionNumber.Size1) && isNoCacheKey(OptionNumber.Size2));
      assert.ok(!isNoCacheKey(OptionNumber.UriPath) && !isNoCacheKey(OptionNumber.Accept));
    });

    test("the registry tables are frozen", () => {
      assert.ok(Object.isFrozen(optionDefinitions()));
      assert.ok(Object.isFrozen(optionDefinition(11)));
      assert.ok(Object.isFrozen(OptionNumber) && Object.isFrozen(Code));
    });
  });

  suite("uint values (RFC 7252 §3.2)", () => {
    test("minimal length, big-endian", () => {
      for (const [value, length] of [
        [0, 0],
        [1, 1],
        [255, 1],
        [256, 2],
        [65535, 2],
        [65536, 3],
        [0xffffff, 3],
        [0x1000000, 4],
        [0xffffffff, 4],
      ] as const) {
        assert.equal(uintLength(value), length, `length of ${value}`);
        const encoded = encodeUint(value);
        assert.equal(encoded.length, length);
        assert.equal(decodeUint(encoded), value);
      }
      assert.deepEqual(encodeUint(0x012345), bytes("01 23 45"));
    });

    test("decoding tolerates leading zeros and keeps the last 4 bytes of a longer value", () => {
      assert.equal(decodeUint(bytes("00 00 2a")), 42);
      assert.equal(decodeUint(bytes("ff 01 02 03 04")), 0x01020304);
      assert.equal(decodeUint(new Uint8Array(0)), 0);
    });

    test("encodeUint refuses values that are not uint32", () => {
      for (const value of [-1, 0x100000000, 0.5])
        assert.throws(
          () => encodeUint(value),
          (e) => e instanceof RangeError,
        );
    });
  });

  suite("Block1/Block2 (RFC 7959 §2.2)", () => {
    test("NUM, M and SZX packed as NUM << 4 | M << 3 | SZX", () => {
      assert.equal(encodeBlock({ num: 0, more: false, szx: 0 }), 0);
      assert.equal(encodeBlock({ num: 0, more: true, szx: 6 }), 0x0e);
      assert.equal(encodeBlock({ num: 1, more: false, szx: 2 }), 0x12);
      assert.equal(encodeBlock({ num: MAX_BLOCK_NUM, more: true, szx: 6 }), 0xfffffe);
      assert.deepEqual(decodeBlock(0x0e), { num: 0, more: true, szx: 6 });
      assert.deepEqual(decodeBlock(0xfffffe), { num: MAX_BLOCK_NUM, more: true, szx: 6 });
      assert.deepEqual(decodeBlock(0x35), { num: 3, more: false, szx: 5 });
    });

    test("a Block2 option on the wire takes 1 to 3 bytes", () => {
      const wire = (num: number) =>
        encodeMessage(
          message({ options: [{ number: OptionNumber.Block2, value: encodeBlock({ num, more: true, szx: 2 }) }] }),
        );
      assert.deepEqual(wire(0), bytes("40 01 00 00 d1 0a 0a"));
      assert.deepEqual(wire(16), bytes("40 01 00 00 d2 0a 01 0a"));
      assert.deepEqual(wire(4096), bytes("40 01 00 00 d3 0a 01 00 0a"));
      const decoded = decodeMessage(wire(4096));
      assert.deepEqual(decodeBlock(optionUint(decoded, OptionNumber.Block2)!), { num: 4096, more: true, szx: 2 });
    });

    test("block sizes and SZX", () => {
      assert.equal(blockSize(0), 16);
      assert.equal(blockSize(6), 1024);
      assert.equal(szxForSize(1024), 6);
      assert.equal(szxForSize(1000), 5);
      assert.equal(szxForSize(64), 2);
      assert.equal(szxForSize(10), 0);
    });

    test("out-of-range NUM or SZX throws RangeError", () => {
      assert.throws(
        () => encodeBlock({ num: MAX_BLOCK_NUM + 1, more: false, szx: 0 }),
        (e) => e instanceof RangeError,
      );
      assert.throws(
        () => encodeBlock({ num: -1, more: false, szx: 0 }),
        (e) => e instanceof RangeError,
      );
      assert.throws(
        () => encodeBlock({ num: 0, more: false, szx: 8 }),
        (e) => e instanceof RangeError,
      );
    });
  });

  suite("Observe (RFC 7641 §2)", () => {
    test("24-bit sequence values", () => {
      assert.equal(OBSERVE_REGISTER, 0);
      assert.equal(OBSERVE_DEREGISTER, 1);
      assert.equal(OBSERVE_MODULUS, 0x1000000);
      assert.equal(observeValue(5), 5);
      assert.equal(observeValue(0xffffff), 0xffffff);
      assert.equal(observeValue(0x1000000), 0);
      assert.equal(observeValue(0x1000001), 1);
      assert.equal(observeValue(-1), 0xffffff);
    });

    test("an Observe value round-trips in 0 to 3 bytes", () => {
      for (const [value, wire] of [
        [0, "60"],
        [1, "61 01"],
        [0x1234, "62 12 34"],
        [0xffffff, "63 ff ff ff"],
      ] as const) {
        const encoded = encodeMessage(message({ options: [{ number: OptionNumber.Observe, value }] }));
        assert.deepEqual(encoded, bytes(`40 01 00 00 ${wire}`));
        assert.equal(optionUint(decodeMessage(encoded), OptionNumber.Observe), value);
      }
    });
  });

  suite("codes (RFC 7252 §5.2, §12.1)", () => {
    test("class.detail strings both ways", () => {
      assert.equal(codeString(Code.Content), "2.05");
      assert.equal(codeString(Code.GET), "0.01");
      assert.equal(codeString(Code.NotFound), "4.04");
      assert.equal(codeString(Code.Continue), "2.31");
      assert.equal(codeString(Code.TooManyRequests), "4.29");
      assert.equal(parseCode("2.05"), Code.Content);
      assert.equal(parseCode("5.03"), Code.ServiceUnavailable);
      assert.equal(parseCode("0.00"), Code.Empty);
      for (const bad of ["2.5", "8.00", "2.32", "205", "", "2.05 ", "a.bc"])
        assert.equal(parseCode(bad), undefined, bad);
      for (let code = 0; code < 256; code++) assert.equal(parseCode(codeString(code)), code);
    });

    test("class and detail", () => {
      assert.equal(makeCode(4, 4), 0x84);
      assert.equal(codeClass(0x84), 4);
      assert.equal(codeDetail(0x84), 4);
      assert.ok(isRequestCode(Code.GET) && !isRequestCode(Code.Empty) && !isRequestCode(Code.Content));
      assert.ok(
        isResponseCode(Code.Content) &&
          isResponseCode(Code.InternalServerError) &&
          !isResponseCode(Code.POST) &&
          !isResponseCode(makeCode(7, 0)),
      );
      assert.ok(isSuccessCode(Code.Created) && !isSuccessCode(Code.BadRequest));
      assert.equal(typeName(MessageType.ACK), "ACK");
    });
  });

  suite("message helpers", () => {
    const built = message({
      options: [
        ...pathOptions("/v2/things//abc/"),
        ...queryOptions({ limit: 15, keepAlive: 60000, flag: true, skipped: undefined, off: false }),
        { number: OptionNumber.ContentFormat, value: 50 },
        { number: OptionNumber.ETag, value: bytes("a1 b2") },
      ],
    });

    test("path and query options", () => {
      assert.deepEqual(
        pathOptions("/v2/things//abc/").map((o) => o.value),
        ["v2", "things", "abc"],
      );
      assert.deepEqual(
        queryOptions({ limit: 15, keepAlive: 60000, flag: true, skipped: undefined, off: false }).map((o) => o.value),
        ["limit=15", "keepAlive=60000", "flag"],
      );
    });

    test("read the same on a built message and on its decoded form", () => {
      const decoded = decodeMessage(encodeMessage(built));
      for (const m of [built, decoded]) {
        assert.equal(uriPath(m), "/v2/things/abc");
        assert.deepEqual(optionStrings(m, OptionNumber.UriQuery), ["limit=15", "keepAlive=60000", "flag"]);
        assert.equal(optionUint(m, OptionNumber.ContentFormat), 50);
        assert.equal(optionString(m, OptionNumber.UriPath), "v2");
        assert.ok(hasOption(m, OptionNumber.ETag));
        assert.ok(!hasOption(m, OptionNumber.Observe));
        assert.equal(optionUint(m, OptionNumber.Observe), undefined);
        assert.equal(optionString(m, OptionNumber.Observe), undefined);
      }
      assert.deepEqual(optionBytes(decoded, OptionNumber.ETag), bytes("a1 b2"));
      assert.deepEqual(findOption(decoded, OptionNumber.ContentFormat), bytes("32"));
      assert.equal(findOption(built, OptionNumber.ContentFormat), 50);
      assert.equal(optionBytes(built, OptionNumber.ContentFormat), undefined, "a number is not bytes");
    });

    test("sortOptions is stable", () => {
      const sorted = sortOptions([
        { number: 15, value: "a" },
        { number: 11, value: "b" },
        { number: 15, value: "c" },
        { number: 11, value: "d" },
      ]);
      assert.deepEqual(
        sorted.map((o) => o.value),
        ["b", "d", "a", "c"],
      );
    });
  });

  suite("decoded options", () => {
    const datagram = bytes("40 01 00 00 b2 7632 c3 01 00 0a e1 06 e0 ff ff 41");
    const decoded = decodeMessage(datagram);

    test("are DatagramOptions reading uint and text straight from the datagram", () => {
      const [path, block, unknown] = decoded.options as DatagramOption[];
      assert.ok(path instanceof DatagramOption);
      assert.equal(path!.number, 11);
      assert.equal(path!.text(), "v2");
      assert.equal(path!.length, 2);
      assert.equal(path!.offset, 5);
      assert.equal(block!.uint(), 0x01000a);
      assert.equal(unknown!.number, 2052);
      assert.deepEqual(unknown!.value, bytes("ff"));
      assert.equal(JSON.stringify(path), '{"number":11,"value":[118,50]}');
    });

    test("a value longer than 4 bytes reads as its last 4 as a uint", () => {
      const long = decodeMessage(bytes("40 01 00 00 c6 01 02 03 04 05 06"));
      assert.equal(optionUint(long, 12), 0x03040506);
    });

    test("re-encode to the same bytes", () => {
      assert.deepEqual(encodeMessage(decoded), datagram);
    });
  });

  suite("UTF-8 without host APIs", () => {
    const samples = [
      "",
      "v2",
      "things",
      "keepAlive=60000",
      "é",
      "€uro",
      "😀",
      "mixed ä€😀 text",
      "\u0000\u007f\u0080\u07ff\u0800\uffff",
    ];

    test("round-trips, with utf8Length matching the bytes written", () => {
      for (const text of samples) {
        const encoded = encodeUtf8(text);
        assert.equal(encoded.length, utf8Length(text), JSON.stringify(text));
        assert.equal(decodeUtf8(encoded), text);
      }
      assert.deepEqual(encodeUtf8("€"), bytes("e2 82 ac"));
      assert.deepEqual(encodeUtf8("😀"), bytes("f0 9f 98 80"));
    });

    test("writes at an offset and returns the end", () => {
      const target = new Uint8Array(8).fill(0xee);
      assert.equal(writeUtf8("aé", target, 2), 5);
      assert.deepEqual(target, bytes("ee ee 61 c3 a9 ee ee ee"));
      assert.equal(decodeUtf8(target, 2, 5), "aé");
    });

    test("lone surrogates are written as U+FFFD", () => {
      assert.deepEqual(encodeUtf8("\ud800"), bytes("ef bf bd"));
      assert.deepEqual(encodeUtf8("a\udc00b"), bytes("61 ef bf bd 62"));
      assert.equal(utf8Length("\ud800x"), 4);
    });

    test("malformed input decodes to U+FFFD instead of throwing", () => {
      assert.equal(decodeUtf8(bytes("ff")), "\ufffd");
      assert.equal(decodeUtf8(bytes("c3")), "\ufffd", "truncated sequence");
      assert.equal(decodeUtf8(bytes("c0 af")), "\ufffd\ufffd", "overlong");
      assert.equal(decodeUtf8(bytes("ed a0 80")), "\ufffd\ufffd\ufffd", "encoded surrogate");
      assert.equal(decodeUtf8(bytes("f4 90 80 80")), "\ufffd\ufffd\ufffd\ufffd", "past U+10FFFF");
      assert.equal(decodeUtf8(bytes("61 80 62")), "a\ufffdb", "stray continuation");
    });

    test("long strings round-trip (String.fromCharCode gets short slices: XS would overflow its stack)", () => {
      const text = "ab€😀".repeat(3000);
      assert.equal(decodeUtf8(encodeUtf8(text)), text);
    });

    test("a range past the end is clamped, never read", () => {
      assert.equal(decodeUtf8(bytes("61 62 63"), 1, 10), "bc");
      assert.equal(decodeUtf8(bytes("61 62 63"), -5, 1), "a");
    });
  });
});
