// The endpoint's small pieces on their own: duplicate cache, retransmission schedule, peer
// matching, request building.

import { CoapRequestError } from "../../coap/client-api.js";
import { Code, MessageType } from "../../coap/codes.js";
import { decodeMessage } from "../../coap/decoder.js";
import { DuplicateCache } from "../../coap/dedup-cache.js";
import { encodeMessage } from "../../coap/encoder.js";
import { OptionNumber } from "../../coap/options.js";
import { transmissionParameters } from "../../coap/parameters.js";
import { samePeer } from "../../coap/peer-address.js";
import {
  blockFollowUp,
  observeRequest,
  packTemplate,
  requestTemplate,
  templateOf,
} from "../../coap/request-template.js";
import { initialTimeoutMs, RetransmissionSchedule } from "../../coap/retransmission.js";
import { tokenBytes, tokenKey } from "../../coap/tokens.js";
import { deepEqual, equal, ok, throws } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { ConstantRandom, SeededRandom } from "../sim/seeded-random.js";

suite("duplicate cache (RFC 7252 §4.5)", () => {
  test("remembers the reply for the lifetime, then forgets", () => {
    const cache = new DuplicateCache(8);
    cache.record(7, "ack", 1000, 247_000);
    equal(cache.lookup(7, 1000), "ack");
    equal(cache.lookup(7, 247_999), "ack");
    equal(cache.lookup(7, 248_000), undefined);
    equal(cache.size, 0);
  });

  test("bounded: the oldest entry goes first", () => {
    const cache = new DuplicateCache(3);
    for (let id = 1; id <= 5; id++) cache.record(id, id % 2 === 0 ? "rst" : "none", id, 1000);
    equal(cache.size, 3);
    equal(cache.lookup(1, 10), undefined);
    equal(cache.lookup(2, 10), undefined);
    deepEqual([cache.lookup(3, 10), cache.lookup(4, 10), cache.lookup(5, 10)], ["none", "rst", "none"]);
    throws(
      () => new DuplicateCache(0),
      (e) => e instanceof RangeError,
    );
  });

  test("expired entries are purged as new ones arrive", () => {
    const cache = new DuplicateCache(100);
    for (let id = 0; id < 50; id++) cache.record(id, "ack", 0, 10);
    cache.record(99, "ack", 11, 10);
    equal(cache.size, 1);
  });

  test("a message recorded again is remembered once, with its new reply and lifetime, as the newest", () => {
    const cache = new DuplicateCache(3);
    cache.record(1, "none", 0, 100);
    cache.record(2, "ack", 0, 100);
    cache.record(1, "ack", 50, 100);
    equal(cache.size, 2);
    equal(cache.lookup(1, 120), "ack", "the second record's lifetime");
    cache.record(3, "rst", 60, 100);
    cache.record(4, "rst", 60, 100);
    equal(cache.size, 3);
    equal(cache.lookup(2, 61), undefined, "2 was the oldest");
    deepEqual([cache.lookup(1, 61), cache.lookup(3, 61), cache.lookup(4, 61)], ["ack", "rst", "rst"]);
  });

  test("the ring wraps: thousands of messages through a small cache, 16-bit IDs, each the latest few", () => {
    const cache = new DuplicateCache(5);
    for (let n = 0; n < 3000; n++) {
      const id = (n * 7919) & 0xffff;
      cache.record(id, n % 3 === 0 ? "ack" : n % 3 === 1 ? "rst" : "none", n, 1_000_000);
      ok(cache.size <= 5);
      equal(cache.lookup(id, n), n % 3 === 0 ? "ack" : n % 3 === 1 ? "rst" : "none");
      if (n >= 5) equal(cache.lookup(((n - 5) * 7919) & 0xffff, n), undefined, `${n - 5} forgotten`);
    }
    cache.clear();
    equal(cache.size, 0);
    equal(cache.lookup((2999 * 7919) & 0xffff, 3000), undefined);
  });
  test("expiries stay exact across weeks of uptime (the stored offsets move forward)", () => {
    const cache = new DuplicateCache(4);
    const day = 86_400_000;
    cache.record(1, "ack", 0, 247_000);
    cache.record(2, "none", 10 * day, 247_000);
    equal(cache.lookup(1, 10 * day), undefined, "1 expired long ago");
    cache.record(3, "ack", 12 * day, 247_000);
    equal(cache.lookup(3, 12 * day + 246_999), "ack");
    cache.record(4, "rst", 13 * day, 247_000);
    equal(cache.lookup(4, 13 * day + 246_999), "rst");
    equal(cache.lookup(4, 13 * day + 247_000), undefined);
    for (let n = 0; n < 200; n++) cache.record(n, "ack", 20 * day + n * day, 247_000);
    equal(cache.lookup(199, 219 * day + 246_999), "ack");
    equal(cache.lookup(199, 219 * day + 247_000), undefined);
    equal(cache.size, 0);
  });

  test("an entry live when the offsets move keeps its expiry to the millisecond", () => {
    const cache = new DuplicateCache(4);
    const half = 2 ** 29;
    cache.record(1, "none", 0, half);
    cache.record(2, "ack", half - 100, half);
    cache.record(3, "rst", half + 10, half);
    equal(cache.lookup(1, half + 10), undefined);
    equal(cache.lookup(2, 2 * half - 101), "ack");
    equal(cache.lookup(3, 2 * half + 9), "rst");
    equal(cache.lookup(2, 2 * half - 100), undefined);
    equal(cache.lookup(3, 2 * half + 10), undefined);
  });
});

suite("token keys", () => {
  test("tokenBytes gives back the bytes tokenKey made, every byte value included", () => {
    const all = new Uint8Array(256);
    for (let i = 0; i < 256; i++) all[i] = i;
    for (let at = 0; at < 256; at += 8) {
      const token = all.slice(at, at + 8);
      deepEqual(Array.from(tokenBytes(tokenKey(token))), Array.from(token));
    }
    equal(tokenBytes("").length, 0);
  });
});

suite("retransmission schedule (RFC 7252 §4.2)", () => {
  test("initial timeout in [ACK_TIMEOUT, ACK_TIMEOUT × ACK_RANDOM_FACTOR)", () => {
    const p = transmissionParameters();
    const random = new SeededRandom(5);
    for (let i = 0; i < 1000; i++) {
      const t = initialTimeoutMs(p, random);
      ok(t >= 2000 && t < 3000 && Number.isInteger(t), String(t));
    }
    equal(initialTimeoutMs(transmissionParameters({ ackRandomFactor: 1 }), random), 2000);
  });

  test("doubles after each retransmission and stops after MAX_RETRANSMIT", () => {
    const s = new RetransmissionSchedule(transmissionParameters(), new ConstantRandom(0.5));
    const waits = [s.timeoutMs];
    while (s.expire()) waits.push(s.timeoutMs);
    deepEqual(waits, [2500, 5000, 10_000, 20_000, 40_000]);
    equal(s.retransmissions, 4);
    ok(!s.expire());
  });
});

suite("peer matching", () => {
  test("same address and port; IPv4-mapped IPv6 and case do not matter", () => {
    ok(samePeer({ address: "127.0.0.1", port: 5683 }, { address: "::ffff:127.0.0.1", port: 5683 }));
    ok(samePeer({ address: "FE80::1", port: 1 }, { address: "fe80::1", port: 1 }));
    ok(!samePeer({ address: "127.0.0.1", port: 5683 }, { address: "127.0.0.1", port: 5684 }));
    ok(!samePeer({ address: "127.0.0.1", port: 5683 }, { address: "127.0.0.2", port: 5683 }));
  });
});

suite("request building", () => {
  test("a packed template unpacks to one that encodes to the same bytes, variants included", () => {
    const template = requestTemplate({
      method: "FETCH",
      path: "/v2/things/abc DEF/ü",
      query: { keepAlive: 30_000, q: "a&b" },
      contentFormat: 50,
      accept: 0,
      options: [{ number: 2048, value: new Uint8Array([1, 2, 3]) }],
      payload: '{"x":1}',
    });
    const unpacked = templateOf(decodeMessage(packTemplate(template)));
    const wire = (t: typeof template): number[] =>
      Array.from(encodeMessage({ ...t, messageId: 7, token: new Uint8Array([9, 8]) }));
    deepEqual(wire(unpacked), wire(template));
    deepEqual(wire(observeRequest(unpacked, 0)), wire(observeRequest(template, 0)));
    const block = { num: 2, more: false, szx: 2 };
    deepEqual(wire(blockFollowUp(unpacked, block)), wire(blockFollowUp(template, block)));
    equal(unpacked.code, Code.FETCH);
    equal(unpacked.type, MessageType.CON);
  });

  test("method, path, query, formats, type", () => {
    const t = requestTemplate({
      method: "PUT",
      path: "/a//b/",
      query: { x: 1, y: "z", off: false },
      contentFormat: 50,
      accept: 60,
      payload: "é",
      confirmable: false,
    });
    equal(t.code, Code.PUT);
    equal(t.type, MessageType.NON);
    deepEqual(
      t.options.map((o) => [o.number, o.value]),
      [
        [11, "a"],
        [11, "b"],
        [15, "x=1"],
        [15, "y=z"],
        [12, 50],
        [17, 60],
      ],
    );
    deepEqual(Array.from(t.payload), [0xc3, 0xa9]);
    throws(
      () => requestTemplate({ method: "BREW" as "GET", path: "/" }),
      (e) => e instanceof CoapRequestError && e.kind === "bad-request",
    );
  });

  test("observe and block follow-up variants replace their options", () => {
    const t = requestTemplate({ method: "GET", path: "/r", options: [{ number: OptionNumber.Observe, value: 7 }] });
    const registration = observeRequest(t, 0);
    deepEqual(
      registration.options.filter((o) => o.number === OptionNumber.Observe).map((o) => o.value),
      [0],
    );
    const followUp = blockFollowUp(registration, { num: 3, more: false, szx: 2 });
    ok(!followUp.options.some((o) => o.number === OptionNumber.Observe));
    deepEqual(
      followUp.options.filter((o) => o.number === OptionNumber.Block2).map((o) => o.value),
      [3 * 16 + 2],
    );
  });
});
