// Transmission parameters (RFC 7252 §4.8), message IDs (§4.4) and tokens (§5.3.1).
import { MessageIdSequence } from "../../coap/message-ids.js";
import { DEFAULT_TRANSMISSION_SETTINGS, transmissionParameters } from "../../coap/parameters.js";
import { TokenRegistry, tokenKey } from "../../coap/tokens.js";
import { deepEqual, equal, notEqual, ok, throws } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { ConstantRandom, SeededRandom } from "../sim/seeded-random.js";

suite("transmission parameters", () => {
  test("defaults and derived values match RFC 7252 §4.8.2", () => {
    const p = transmissionParameters();
    equal(p.ackTimeoutMs, 2000);
    equal(p.ackRandomFactor, 1.5);
    equal(p.maxRetransmit, 4);
    equal(p.nstart, 1);
    equal(p.maxTransmitSpanMs, 45_000);
    equal(p.maxTransmitWaitMs, 93_000);
    equal(p.maxLatencyMs, 100_000);
    equal(p.processingDelayMs, 2000);
    equal(p.maxRttMs, 202_000);
    equal(p.exchangeLifetimeMs, 247_000);
    equal(p.nonLifetimeMs, 145_000);
  });

  test("derived values follow overrides; PROCESSING_DELAY follows ACK_TIMEOUT", () => {
    const p = transmissionParameters({ ackTimeoutMs: 1000, maxRetransmit: 2, maxLatencyMs: 10_000 });
    equal(p.maxTransmitSpanMs, 1000 * 3 * 1.5);
    equal(p.maxTransmitWaitMs, 1000 * 7 * 1.5);
    equal(p.processingDelayMs, 1000);
    equal(p.exchangeLifetimeMs, 4500 + 20_000 + 1000);
    equal(p.nonLifetimeMs, 4500 + 10_000);
    equal(transmissionParameters({ ackTimeoutMs: 1000, processingDelayMs: 50 }).processingDelayMs, 50);
  });

  test("each endpoint's copy is frozen and the defaults are untouched", () => {
    const p = transmissionParameters({ nstart: 2 });
    ok(Object.isFrozen(p));
    ok(Object.isFrozen(DEFAULT_TRANSMISSION_SETTINGS));
    equal(DEFAULT_TRANSMISSION_SETTINGS.nstart, 1);
  });

  test("values that break the protocol are refused", () => {
    const isRange = (e: unknown) => e instanceof RangeError;
    throws(() => transmissionParameters({ ackRandomFactor: 0.9 }), isRange);
    throws(() => transmissionParameters({ ackTimeoutMs: 0 }), isRange);
    throws(() => transmissionParameters({ maxRetransmit: -1 }), isRange);
    throws(() => transmissionParameters({ maxRetransmit: 1.5 }), isRange);
    throws(() => transmissionParameters({ nstart: 0 }), isRange);
    throws(() => transmissionParameters({ ackTimeoutMs: Number.NaN }), isRange);
    // EXCHANGE_LIFETIME is derived from these: none of them may make it shrink below the span.
    throws(() => transmissionParameters({ maxLatencyMs: -1 }), isRange);
    throws(() => transmissionParameters({ processingDelayMs: -1 }), isRange);
  });
});

suite("message IDs", () => {
  test("start at a random value and increment, wrapping at 16 bits", () => {
    const ids = new MessageIdSequence(new ConstantRandom(0.99999));
    const first = ids.next();
    equal(first, 65535);
    equal(ids.next(), 0);
    equal(ids.next(), 1);
    const other = new MessageIdSequence(new SeededRandom(7));
    const start = other.next();
    equal(other.next(), (start + 1) % 65536);
  });

  test("different seeds start at different IDs", () => {
    notEqual(new MessageIdSequence(new SeededRandom(1)).next(), new MessageIdSequence(new SeededRandom(2)).next());
  });

  test("skips IDs still in use", () => {
    const ids = new MessageIdSequence(new ConstantRandom(0));
    const live = new Set([0, 1]);
    equal(
      ids.next((id) => live.has(id)),
      2,
    );
  });
});

suite("tokens", () => {
  test("random, of the configured length (at least 4 bytes), and unique while live", () => {
    const tokens = new TokenRegistry(new SeededRandom(3), 4);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const t = tokens.allocate();
      equal(t.length, 4);
      const key = tokenKey(t);
      ok(!seen.has(key), "token repeated while live");
      seen.add(key);
    }
    equal(tokens.liveCount, 200);
    throws(
      () => new TokenRegistry(new SeededRandom(1), 3),
      (e) => e instanceof RangeError,
    );
    throws(
      () => new TokenRegistry(new SeededRandom(1), 9),
      (e) => e instanceof RangeError,
    );
  });

  test("a broken random source still yields unique tokens", () => {
    const stuck = { next: () => 0, fill: (b: Uint8Array) => b.fill(7) };
    const tokens = new TokenRegistry(stuck, 4);
    const a = tokenKey(tokens.allocate());
    const b = tokenKey(tokens.allocate());
    const c = tokenKey(tokens.allocate());
    deepEqual([a, b, c], ["07070707", "07070708", "07070709"]);
    tokens.release(b);
    equal(tokenKey(tokens.allocate()), "07070708");
  });

  test("claim refuses a live token", () => {
    const tokens = new TokenRegistry(new SeededRandom(1));
    const key = tokenKey(tokens.allocate());
    ok(!tokens.claim(key));
    tokens.release(key);
    ok(tokens.claim(key));
  });

  test("tokenKey is lowercase hex", () => {
    equal(tokenKey(new Uint8Array([0, 0xab, 0x0f, 0xff])), "00ab0fff");
    equal(tokenKey(new Uint8Array(0)), "");
  });
});
