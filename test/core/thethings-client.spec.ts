// ThethingsClient: the shape of every request, the parsing of every documented reply, and the
// mapping of CoAP codes, platform messages and transport failures to ThethingsError.

import { CoapRequestError } from "../../coap/client-api.js";
import { ContentFormat } from "../../coap/codes.js";
import { decodeUtf8 } from "../../kernel/utf8.js";
import { ThethingsClient, type WriteOutcome } from "../../thethings/client.js";
import { ThethingsError, type ThethingsErrorKind } from "../../thethings/errors.js";
import { FakeCoapClient, reply } from "../core-fakes/fake-coap-client.js";
import { RecordingLog } from "../core-fakes/thethings-fakes.js";
import { deepEqual, equal, ok, rejects } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

const TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-ABCDE";

/** `null`: a client without a thing token. */
function setup(token: string | null = TOKEN) {
  const coap = new FakeCoapClient();
  const log = new RecordingLog();
  const client = new ThethingsClient({ coap, log: log.sink, ...(token === null ? {} : { thingToken: token }) });
  return { coap, log, client };
}

function payloadJson(payload: Uint8Array | string | undefined): unknown {
  if (payload === undefined) return undefined;
  return JSON.parse(typeof payload === "string" ? payload : decodeUtf8(payload));
}

function isKind(kind: ThethingsErrorKind, code?: string) {
  return (error: unknown) =>
    error instanceof ThethingsError && error.kind === kind && (code === undefined || error.code === code);
}

suite("thethings client", () => {
  suite("activate", () => {
    test("POSTs the activation code as JSON to /v2/things/ and returns the thing token", async () => {
      const { coap, client } = setup(null);
      coap.script(reply("2.01", { status: "created", thingToken: TOKEN }));
      equal(await client.activate("ACTIVATION-CODE-0123456789abcdefgh"), TOKEN);
      equal(coap.requests.length, 1);
      const request = coap.requests[0]!;
      equal(request.method, "POST");
      equal(request.path, "/v2/things/");
      equal(request.contentFormat, ContentFormat.Json);
      equal(request.query, undefined);
      deepEqual(payloadJson(request.payload), { activationCode: "ACTIVATION-CODE-0123456789abcdefgh" });
      equal(client.hasThingToken, false, "activate() does not set the token by itself");
    });

    test("adds productId when given", async () => {
      const { coap, client } = setup(null);
      coap.script(reply("2.01", { status: "created", thingToken: TOKEN }));
      await client.activate("CODE", "product-7");
      deepEqual(payloadJson(coap.requests[0]!.payload), { activationCode: "CODE", productId: "product-7" });
    });

    test("accepts a 2.05 reply and a reply without status", async () => {
      const { coap, client } = setup(null);
      coap.script(reply("2.05", { thingToken: TOKEN }));
      equal(await client.activate("CODE"), TOKEN);
    });

    test("the platform's refusal becomes activation-refused with code and message", async () => {
      const { coap, client } = setup(null);
      coap.script(reply("4.00", { status: "error", message: "Error creating thing" }));
      const error = (await rejects(client.activate("CODE"), isKind("activation-refused", "4.00"))) as ThethingsError;
      equal(error.platformMessage, "Error creating thing");
      equal(error.operation, "activate");
      equal(error.retryable, false);
    });

    test("4.01, 4.03 and 4.04 on /v2/things/ are refusals too; 4.29 is a rate limit", async () => {
      for (const code of ["4.01", "4.03", "4.04"]) {
        const { coap, client } = setup(null);
        coap.script(reply(code, { status: "error", message: "nope" }));
        await rejects(client.activate("CODE"), isKind("activation-refused", code), code);
      }
      const { coap, client } = setup(null);
      coap.script(reply("4.29"));
      await rejects(client.activate("CODE"), isKind("rate-limited", "4.29"));
    });

    test("an error body under a success code is a refusal", async () => {
      const { coap, client } = setup(null);
      coap.script(reply("2.01", { status: "error", message: "Error creating thing" }));
      await rejects(client.activate("CODE"), isKind("activation-refused"));
    });

    test("a reply without a usable token, or not JSON, is a protocol error", async () => {
      for (const body of [
        { status: "created" },
        { status: "created", thingToken: "has/slash-and-is-long-enough-0123456789abc" },
        { status: "created", thingToken: 42 },
        "not json",
        undefined,
      ]) {
        const { coap, client } = setup(null);
        coap.script(reply("2.01", body));
        await rejects(client.activate("CODE"), isKind("protocol"), JSON.stringify(body));
      }
    });

    test("a token of unusual length is accepted with a redacted warning", async () => {
      const { coap, client, log } = setup(null);
      const odd = "NwFbEqwEQ-ucyW8aET34EWi6L_tte6fumxTSU-Pkw"; // the documented example: 41 characters
      coap.script(reply("2.01", { status: "created", thingToken: odd }));
      equal(await client.activate("CODE"), odd);
      equal(log.at("warn").length, 1);
      ok(!log.text.includes(odd), "the token is not logged whole");
      ok(log.text.includes("NwFb"), "its first 4 characters identify it");
    });

    test("an empty code is refused before anything is sent", async () => {
      const { coap, client } = setup(null);
      await rejects(client.activate("  "), isKind("invalid-argument"));
      equal(coap.requests.length, 0);
    });

    test("a transport failure becomes network, keeping its kind", async () => {
      const { coap, client } = setup(null);
      coap.script(new CoapRequestError("reset", "RST"));
      const error = (await rejects(client.activate("CODE"), isKind("network"))) as ThethingsError;
      equal(error.requestKind, "reset");
      equal(error.retryable, true);
      ok(error.cause instanceof CoapRequestError);
    });
  });

  suite("write", () => {
    test("POSTs {values:[...]} with Content-Format 50 to /v2/things/{TOKEN}, datetime as YYYYMMDDHHmmss", async () => {
      const { coap, client } = setup();
      coap.script(reply("2.01", { status: "Success", message: "Created" }));
      await client.write([
        { key: "temperature", value: 21.5, datetime: Date.UTC(2015, 0, 30, 15, 35, 33) },
        { key: "fun", value: "9000" },
        { key: "pos", value: 1, geo: { lat: 41.41, long: 2.21 } },
      ]);
      const request = coap.requests[0]!;
      equal(request.method, "POST");
      equal(request.path, `/v2/things/${TOKEN}`);
      equal(request.contentFormat, 50);
      equal(request.query, undefined);
      equal(
        request.payload,
        '{"values":[{"key":"temperature","value":21.5,"datetime":"20150130153533"},{"key":"fun","value":"9000"},{"key":"pos","value":1,"geo":{"lat":41.41,"long":2.21}}]}',
      );
    });

    test("accepts 2.01 with either documented body, or an empty one", async () => {
      for (const body of [{ status: "Success", message: "Created" }, { status: "created" }, undefined]) {
        const { coap, client } = setup();
        coap.script(reply("2.01", body));
        deepEqual(await client.writeOnce([{ key: "a", value: 1 }]), { ok: true }, JSON.stringify(body));
      }
    });

    test("an unreadable body under 2.01 still counts as stored (sending again would duplicate)", async () => {
      const { coap, client } = setup();
      coap.script(reply("2.01", "{broken"));
      deepEqual(await client.writeOnce([{ key: "a", value: 1 }]), { ok: true });
    });

    test("an error body under 2.01 is a protocol error", async () => {
      const { coap, client } = setup();
      coap.script(reply("2.01", { status: "error", message: "odd" }));
      await rejects(client.write([{ key: "a", value: 1 }]), isKind("protocol"));
    });

    test("refuses keys and values the platform cannot take, before sending", async () => {
      const { coap, client } = setup();
      const bad = [
        { key: "with space", value: 1 },
        { key: "", value: 1 },
        { key: "slash/key", value: 1 },
        { key: "a", value: Number.NaN },
        { key: "a", value: Number.POSITIVE_INFINITY },
        { key: "a", value: true as unknown as number },
        // Objects are written (the device's reports), but only plain, shallow, bounded JSON.
        { key: "a", value: { x: Number.NaN } },
        { key: "a", value: { x: { y: { z: { w: { v: 1 } } } } } },
        { key: "a", value: { x: "é".repeat(400) } },
        { key: "a", value: [1, 2] as unknown as number },
        { key: "a", value: 1, datetime: -5 },
        { key: "a", value: 1, geo: { lat: 91, long: 0 } },
      ];
      for (const value of bad) await rejects(client.write([value]), isKind("invalid-argument"), JSON.stringify(value));
      await rejects(client.write([]), isKind("invalid-argument"));
      equal(coap.requests.length, 0);
    });

    test("a plain JSON object is written as it is (the device's reports)", async () => {
      const { coap, client } = setup();
      coap.script(reply("2.01"));
      await client.write([{ key: "device.boot", value: { firmware: "0.1.0", reset: "power-on", ok: true, n: null } }]);
      equal(coap.requests.length, 1);
      const payload = coap.requests[0]!.payload;
      const body = typeof payload === "string" ? payload : decodeUtf8(payload ?? new Uint8Array(0));
      equal(
        body,
        '{"values":[{"key":"device.boot","value":{"firmware":"0.1.0","reset":"power-on","ok":true,"n":null}}]}',
      );
    });

    test("keys may hold letters, digits, '.', '-' and '_'", async () => {
      const { coap, client } = setup();
      coap.script(reply("2.01"));
      await client.write([{ key: "Room_1.temp-C", value: 1 }]);
      equal(coap.requests.length, 1);
    });

    test("without a token: no-token, nothing sent", async () => {
      const { coap, client } = setup(null);
      await rejects(client.write([{ key: "a", value: 1 }]), isKind("no-token"));
      equal(coap.requests.length, 0);
    });

    test("codes on the thing path map to kinds", async () => {
      const cases: [string, unknown, ThethingsErrorKind, boolean][] = [
        ["4.01", { status: "error", message: "bad token" }, "unauthorized", false],
        ["4.03", undefined, "unauthorized", false],
        ["4.04", { status: "error", message: "thing not found" }, "unauthorized", false],
        ["4.03", { status: "error", message: "Rate limit exceeded" }, "rate-limited", true],
        ["4.29", undefined, "rate-limited", true],
        ["4.00", { status: "error", message: "values must be an array" }, "bad-request", false],
        ["4.13", undefined, "bad-request", false],
        ["5.00", undefined, "server", true],
        ["5.03", "garbage body", "server", true],
      ];
      for (const [code, body, kind, retryable] of cases) {
        const { coap, client } = setup();
        coap.script(reply(code, body));
        const outcome = await client.writeOnce([{ key: "a", value: 1 }]);
        ok(!outcome.ok, code);
        equal(outcome.error.kind, kind, code);
        equal(outcome.error.code, code);
        equal(outcome.error.retryable, retryable, `${code} retryable`);
        equal(outcome.retryWith, undefined);
        coap.script(reply(code, body));
        await rejects(client.write([{ key: "a", value: 1 }]), isKind(kind, code), `write() rejects with ${code}`);
      }
    });

    test("the platform message is kept on the error", async () => {
      const { coap, client } = setup();
      coap.script(reply("4.01", { status: "error", message: "bad token" }));
      const error = (await rejects(client.write([{ key: "a", value: 1 }]))) as ThethingsError;
      equal(error.platformMessage, "bad token");
      ok(error.message.includes("4.01") && error.message.includes("bad token"), error.message);
    });
  });

  suite("writeOnce (exactly-once)", () => {
    const values = [{ key: "t", value: 20, datetime: Date.UTC(2026, 0, 1) }];

    test("a timeout returns retryWith; passing it back resends the same message, no new request", async () => {
      const { coap, client } = setup();
      coap.script(coap.timeoutStep(1000), reply("2.01", { status: "created" }));
      const first = await client.writeOnce(values);
      ok(!first.ok);
      equal(first.error.kind, "network");
      equal(first.error.requestKind, "timeout");
      equal(first.error.retryable, true);
      const sent = first.retryWith;
      ok(sent !== undefined, "retryWith is the request as sent");
      equal(sent.firstSentAt, 1000);
      const second = await client.writeOnce(values, sent);
      deepEqual(second, { ok: true });
      equal(coap.requests.length, 1, "one request");
      equal(coap.resends.length, 1, "one resend");
      equal(coap.resends[0], sent, "the very same SentRequest");
    });

    test("a resend that times out again still offers the same message", async () => {
      const { coap, client } = setup();
      coap.script(coap.timeoutStep(), coap.timeoutStep());
      const first = (await client.writeOnce(values)) as Extract<WriteOutcome, { ok: false }>;
      const second = (await client.writeOnce(values, first.retryWith)) as Extract<WriteOutcome, { ok: false }>;
      ok(!second.ok);
      equal(second.retryWith, first.retryWith);
    });

    test("a timeout without the sent request offers no retryWith", async () => {
      const { coap, client } = setup();
      coap.script(new CoapRequestError("timeout", "no answer"));
      const outcome = await client.writeOnce(values);
      ok(!outcome.ok);
      equal(outcome.retryWith, undefined);
      equal(outcome.error.retryable, true);
    });

    test("a previous attempt of another batch is refused", async () => {
      const { coap, client } = setup();
      coap.script(coap.timeoutStep());
      const first = (await client.writeOnce(values)) as Extract<WriteOutcome, { ok: false }>;
      await rejects(client.writeOnce([{ key: "t", value: 21 }], first.retryWith), isKind("invalid-argument"));
      equal(coap.resends.length, 0);
    });

    test("a resend past EXCHANGE_LIFETIME (expired) goes out as a new message", async () => {
      const { coap, client, log } = setup();
      coap.script(coap.timeoutStep(), new CoapRequestError("expired", "too late"), reply("2.01"));
      const first = (await client.writeOnce(values)) as Extract<WriteOutcome, { ok: false }>;
      deepEqual(await client.writeOnce(values, first.retryWith), { ok: true });
      equal(coap.resends.length, 1);
      equal(coap.requests.length, 2);
      equal(coap.requests[1]!.payload, coap.requests[0]!.payload);
      equal(log.matching("EXCHANGE_LIFETIME").length, 1);
    });

    test("other transport failures are returned, not thrown, and keep their kind", async () => {
      for (const kind of ["reset", "queue-full", "bad-request", "cancelled"] as const) {
        const { coap, client } = setup();
        coap.script(new CoapRequestError(kind, kind));
        const outcome = await client.writeOnce(values);
        ok(!outcome.ok);
        equal(outcome.error.requestKind, kind);
        equal(outcome.retryWith, undefined);
        equal(outcome.error.retryable, kind === "reset" || kind === "queue-full", kind);
      }
    });

    test("an error message that quotes the path does not carry the token", async () => {
      const { coap, client } = setup();
      coap.script(new CoapRequestError("reset", `RST for POST /v2/things/${TOKEN}`));
      const outcome = await client.writeOnce(values);
      ok(!outcome.ok);
      ok(!outcome.error.message.includes(TOKEN), outcome.error.message);
      ok(outcome.error.message.includes("AbCd…"), outcome.error.message);
    });
  });

  suite("read", () => {
    test("GETs /v2/things/{TOKEN}/resources/{KEY} with limit, startDate, endDate as Uri-Query", async () => {
      const { coap, client } = setup();
      coap.script(reply("2.05", []));
      await client.read("temperature", {
        limit: 5,
        startDate: Date.UTC(2015, 0, 1),
        endDate: Date.UTC(2015, 0, 30, 15, 35, 33, 500),
      });
      const request = coap.requests[0]!;
      equal(request.method, "GET");
      equal(request.path, `/v2/things/${TOKEN}/resources/temperature`);
      equal(request.payload, undefined);
      deepEqual(request.query, { limit: 5, startDate: "20150101000000", endDate: "20150130153533" });
    });

    test("a read with no options sends no query values", async () => {
      const { coap, client } = setup();
      coap.script(reply("2.05", []));
      await client.read("k");
      const query = coap.requests[0]!.query ?? {};
      deepEqual(
        Object.keys(query).filter((k) => query[k] !== undefined),
        [],
      );
    });

    test("parses items newest first, both datetime forms, filling in a missing key", async () => {
      const { coap, client } = setup();
      coap.script(
        reply("2.05", [
          { key: "fun", value: "9000", datetime: "2015-01-30T15:35:33.000Z" },
          { value: 12, datetime: "20150130153000" },
          { key: "fun", value: [1, 2], datetime: "2015-01-30T15:00:00.250+01:00" },
        ]),
      );
      deepEqual(await client.read("fun", { limit: 3 }), [
        { key: "fun", value: "9000", datetime: Date.UTC(2015, 0, 30, 15, 35, 33) },
        { key: "fun", value: 12, datetime: Date.UTC(2015, 0, 30, 15, 30, 0) },
        { key: "fun", value: [1, 2], datetime: Date.UTC(2015, 0, 30, 14, 0, 0, 250) },
      ]);
    });

    test("malformed items are dropped, counted in a log line, the rest kept", async () => {
      const { coap, client, log } = setup();
      coap.script(
        reply("2.05", [
          { key: "fun", value: 1, datetime: "20150130153533" },
          { key: "fun", datetime: "20150130153533" },
          { key: "fun", value: 2, datetime: "yesterday" },
          { key: "other", value: 3 },
          "text",
          null,
          { key: "fun", value: 4 },
        ]),
      );
      const values = await client.read("fun", { limit: 10 });
      deepEqual(
        values.map((v) => v.value),
        [1, 4],
      );
      equal(values[1]!.datetime, undefined);
      equal(log.matching("dropped 5 malformed").length, 1);
    });

    test("an empty 2.05 body is no values", async () => {
      const { coap, client } = setup();
      coap.script(reply("2.05"));
      deepEqual(await client.read("k"), []);
    });

    test("4.04 is not-found (no value yet); 4.01 and 4.03 are unauthorized", async () => {
      for (const [code, kind] of [
        ["4.04", "not-found"],
        ["4.01", "unauthorized"],
        ["4.03", "unauthorized"],
      ] as const) {
        const { coap, client } = setup();
        coap.script(reply(code, { status: "error", message: "x" }));
        await rejects(client.read("k"), isKind(kind, code), code);
      }
    });

    test("absentIsEmpty: a 4.04 reads as no values; 4.01, 4.03 and 5.03 still reject", async () => {
      const { coap, client } = setup();
      coap.script(reply("4.04", { status: "error", message: "Resource not found" }));
      deepEqual(await client.read("k", { limit: 1, absentIsEmpty: true }), []);
      for (const [code, kind] of [
        ["4.01", "unauthorized"],
        ["4.03", "unauthorized"],
        ["5.03", "server"],
      ] as const) {
        const other = setup();
        other.coap.script(reply(code, { status: "error", message: "x" }));
        await rejects(other.client.read("k", { absentIsEmpty: true }), isKind(kind, code), code);
      }
    });

    test("a reply that is not an array, too large, or nested too deep is a protocol error", async () => {
      const tooLarge = JSON.stringify([{ key: "k", value: "x".repeat(17 * 1024) }]);
      const tooDeep = `${"[".repeat(5000)}${"]".repeat(5000)}`;
      for (const body of [{ key: "k", value: 1 }, { status: "error", message: "m" }, "[1,", tooLarge, tooDeep, "42"]) {
        const { coap, client } = setup();
        coap.script(reply("2.05", body));
        await rejects(client.read("k"), isKind("protocol"), String(body).slice(0, 30));
      }
    });

    test("limit must be 1–100 and the key well formed", async () => {
      const { coap, client } = setup();
      for (const limit of [0, 101, 1.5])
        await rejects(client.read("k", { limit }), isKind("invalid-argument"), String(limit));
      await rejects(client.read("a/b"), isKind("invalid-argument"));
      await rejects(client.read("k", { endDate: Number.NaN }), isKind("invalid-argument"));
      equal(coap.requests.length, 0);
    });
  });

  suite("token", () => {
    test("a malformed token is refused; a valid one can be set and forgotten", () => {
      const { client } = setup(null);
      for (const bad of ["", "short", "has space in it 0123456789", "slash/in/the/token/0123456789"]) {
        let thrown: unknown;
        try {
          client.setThingToken(bad);
        } catch (error) {
          thrown = error;
        }
        ok(thrown instanceof RangeError, bad);
        ok(!(thrown as Error).message.includes(bad) || bad === "", "the refused value is not echoed");
      }
      equal(client.hasThingToken, false);
      client.setThingToken(TOKEN);
      equal(client.hasThingToken, true);
      client.setThingToken(undefined);
      equal(client.hasThingToken, false);
    });
  });

  test("errors say which operation failed", async () => {
    const { coap, client } = setup();
    coap.script(reply("5.00"));
    const error = (await rejects(client.read("k"))) as ThethingsError;
    equal(error.operation, "read");
    ok(error.message.startsWith("read: "), error.message);
    ok(error.detail.startsWith("5.00"), error.detail);
  });
});
