// The small pieces of the platform client: dates, guarded JSON, value shapes, token checks and
// redaction, and the code → error-kind table.
import { Code } from "../../coap/codes.js";
import { encodeUtf8 } from "../../kernel/utf8.js";
import { formatCompactDate, parsePlatformDate } from "../../thethings/dates.js";
import { errorFromResponse, redactError, ThethingsError } from "../../thethings/errors.js";
import { nestingDepth, parseJsonPayload } from "../../thethings/json.js";
import { checkThingToken, redactIn, redactSecret } from "../../thethings/token.js";
import { encodeWriteBody, isValidKey, parseStatusBody, parseValueItem } from "../../thethings/values.js";
import { deepEqual, equal, ok, throws } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

const TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-ABCDE";

suite("thethings formats", () => {
  suite("dates", () => {
    test("formats UTC ms as YYYYMMDDHHmmss, dropping milliseconds", () => {
      equal(formatCompactDate(Date.UTC(2015, 0, 1)), "20150101000000");
      equal(formatCompactDate(Date.UTC(2015, 0, 30, 15, 35, 33, 999)), "20150130153533");
      equal(formatCompactDate(0), "19700101000000");
      equal(formatCompactDate(Date.UTC(9999, 11, 31, 23, 59, 59)), "99991231235959");
    });

    test("refuses instants it cannot write", () => {
      for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, Date.UTC(10000, 0, 1)]) {
        throws(
          () => formatCompactDate(bad),
          (e) => e instanceof RangeError,
          String(bad),
        );
      }
    });

    test("parses both forms the platform uses", () => {
      equal(parsePlatformDate("20150130153533"), Date.UTC(2015, 0, 30, 15, 35, 33));
      equal(parsePlatformDate("2015-01-30T15:35:33.000Z"), Date.UTC(2015, 0, 30, 15, 35, 33));
      equal(parsePlatformDate("2015-01-30T15:35:33.123456Z"), Date.UTC(2015, 0, 30, 15, 35, 33, 123));
      equal(parsePlatformDate("2015-01-30T15:35:33Z"), Date.UTC(2015, 0, 30, 15, 35, 33));
      equal(parsePlatformDate("2015-01-30T15:35"), Date.UTC(2015, 0, 30, 15, 35), "no zone means UTC");
      equal(parsePlatformDate("2015-01-30 16:35:33+01:00"), Date.UTC(2015, 0, 30, 15, 35, 33));
      equal(parsePlatformDate("2015-01-30T10:35:33-0500"), Date.UTC(2015, 0, 30, 15, 35, 33));
    });

    test("round-trips through the compact form", () => {
      for (const ms of [0, Date.UTC(2000, 1, 29, 23, 59, 59), Date.UTC(2026, 11, 31, 12)]) {
        equal(parsePlatformDate(formatCompactDate(ms)), ms);
      }
    });

    test("refuses anything else, never throwing", () => {
      const bad: unknown[] = [
        "",
        "2015",
        "201501301535",
        "201501301535330",
        "20151330000000",
        "20150230000000",
        "20150101240000",
        "2015-02-30T00:00:00Z",
        "2015-01-30T15:35:33+25:00",
        "19691231235959",
        "yesterday",
        "2015-01-30",
        "x".repeat(1000),
        20150130153533,
        null,
        undefined,
        {},
      ];
      for (const text of bad) equal(parsePlatformDate(text), undefined, String(text).slice(0, 20));
    });
  });

  suite("guarded JSON", () => {
    test("parses what is within the limits", () => {
      deepEqual(parseJsonPayload(encodeUtf8('[{"key":"a","value":{"b":[1]}}]')), {
        ok: true,
        value: [{ key: "a", value: { b: [1] } }],
      });
    });

    test("refuses empty, oversized, too deep and malformed payloads without throwing", () => {
      equal(parseJsonPayload(new Uint8Array(0)).ok, false);
      equal(parseJsonPayload(encodeUtf8(`"${"x".repeat(100)}"`), { maxBytes: 50, maxDepth: 4 }).ok, false);
      equal(parseJsonPayload(encodeUtf8("[[[[[1]]]]]"), { maxBytes: 100, maxDepth: 4 }).ok, false);
      equal(parseJsonPayload(encodeUtf8("[[[[1]]]]"), { maxBytes: 100, maxDepth: 4 }).ok, true);
      equal(parseJsonPayload(encodeUtf8("{'a':1}")).ok, false);
      equal(parseJsonPayload(new Uint8Array([0x7b, 0xff, 0x7d])).ok, false);
    });

    test("depth ignores brackets inside strings, escaped quotes included", () => {
      equal(nestingDepth(encodeUtf8('["[[[[", "\\"[[[["]')), 1);
      equal(nestingDepth(encodeUtf8('{"a":{"b":[]}}')), 3);
    });
  });

  suite("values", () => {
    test("keys: letters, digits, '.', '-', '_', at most 255", () => {
      for (const key of ["a", "Temp_1.avg-5m", "x".repeat(255)]) ok(isValidKey(key), key);
      for (const key of ["", "a b", "a/b", "ü", "a?b", "x".repeat(256), 5, undefined])
        ok(!isValidKey(key), String(key));
    });

    test("the write body is the documented JSON", () => {
      equal(encodeWriteBody([{ key: "fun", value: "9000" }]), '{"values":[{"key":"fun","value":"9000"}]}');
    });

    test("value items: datetime optional in either form; malformed items refused", () => {
      deepEqual(parseValueItem({ key: "a", value: 1, datetime: "20150101000000" }), {
        key: "a",
        value: 1,
        datetime: Date.UTC(2015, 0, 1),
      });
      deepEqual(parseValueItem({ key: "a", value: null }), { key: "a", value: null, datetime: undefined });
      deepEqual(parseValueItem({ value: 1 }, "k"), { key: "k", value: 1, datetime: undefined });
      for (const item of [
        { key: "a" },
        { key: "a b", value: 1 },
        { key: "a", value: 1, datetime: "later" },
        { key: 1, value: 1 },
        [1],
        "x",
        null,
      ]) {
        equal(parseValueItem(item), undefined, JSON.stringify(item));
      }
      equal(parseValueItem({ key: "other", value: 1 }, "k"), undefined, "a read of k returns no other key");
    });

    test("status bodies", () => {
      deepEqual(parseStatusBody({ status: "Success", message: "Created" }), { status: "success", message: "Created" });
      deepEqual(parseStatusBody({ status: "created" }), { status: "created", message: undefined });
      equal(parseStatusBody([]), undefined);
      equal(parseStatusBody({ message: "x" }), undefined);
    });
  });

  suite("thing token", () => {
    test("43 characters of [A-Za-z0-9_-] pass; other lengths pass with a warning", () => {
      deepEqual(checkThingToken(TOKEN), { ok: true });
      const odd = checkThingToken("NwFbEqwEQ-ucyW8aET34EWi6L_tte6fumxTSU-Pkw");
      ok(odd.ok && odd.warning?.includes("41"));
    });

    test("empty, garbage and absurd lengths are refused", () => {
      for (const bad of [
        "",
        "abc",
        `${TOKEN.slice(0, 42)}=`,
        "token with spaces in it 123",
        "x".repeat(300),
        42,
        undefined,
        null,
      ]) {
        equal(checkThingToken(bad).ok, false, String(bad).slice(0, 20));
      }
    });

    test("redaction keeps 4 characters and the length, never the rest", () => {
      equal(redactSecret(TOKEN), "AbCd… (43 chars)");
      equal(redactSecret("short"), "… (5 chars)");
      const text = redactIn(`POST /v2/things/${TOKEN} and again ${TOKEN}`, TOKEN);
      ok(!text.includes(TOKEN));
      equal(text.split("AbCd… (43 chars)").length, 3);
      equal(redactIn("nothing here", undefined), "nothing here");
    });
  });

  suite("error kinds", () => {
    test("the code table per operation", () => {
      const table: [string, number, string | undefined, string][] = [
        ["write", Code.Unauthorized, undefined, "unauthorized"],
        ["write", Code.Forbidden, undefined, "unauthorized"],
        ["write", Code.NotFound, undefined, "unauthorized"],
        ["subscribe", Code.NotFound, undefined, "unauthorized"],
        ["read", Code.NotFound, undefined, "not-found"],
        ["read", Code.Forbidden, undefined, "unauthorized"],
        ["activate", Code.BadRequest, "Error creating thing", "activation-refused"],
        ["activate", Code.NotFound, undefined, "activation-refused"],
        ["activate", Code.RequestEntityTooLarge, undefined, "bad-request"],
        ["write", Code.Forbidden, "Too many requests", "rate-limited"],
        ["activate", Code.Forbidden, "rate limit", "rate-limited"],
        ["read", Code.TooManyRequests, undefined, "rate-limited"],
        ["write", Code.BadRequest, undefined, "bad-request"],
        ["write", Code.UnsupportedContentFormat, undefined, "bad-request"],
        ["write", Code.ServiceUnavailable, undefined, "server"],
        ["write", Code.Content, undefined, "protocol"],
      ];
      for (const [operation, code, message, kind] of table) {
        const error = errorFromResponse(operation as "write", code, message);
        equal(error.kind, kind, `${operation} ${code} ${message ?? ""}`);
      }
    });

    test("long platform messages are capped", () => {
      const error = errorFromResponse("write", Code.BadRequest, "m".repeat(1000));
      ok(error.platformMessage !== undefined && error.platformMessage.length < 200);
    });

    test("redactError rebuilds an error that quotes the token, keeping everything else", () => {
      const original = new ThethingsError("network", "write", `reset on /v2/things/${TOKEN}`, {
        requestKind: "reset",
        code: "4.01",
      });
      const redacted = redactError(original, TOKEN);
      ok(!redacted.message.includes(TOKEN));
      equal(redacted.kind, "network");
      equal(redacted.requestKind, "reset");
      equal(redacted.code, "4.01");
      ok(redactError(redacted, TOKEN) === redacted, "nothing to redact: the same error");
    });
  });
});
