// Request/response exchanges over a simulated network (RFC 7252 §4, §5): retransmission
// schedule, loss in every position, separate responses, duplicates, NSTART, RST, matching,
// rejection rules, resend and cancel.

import { CancelSource } from "../../coap/cancel.js";
import { CoapRequestError, type CoapResponse } from "../../coap/client-api.js";
import { Code, MessageType } from "../../coap/codes.js";
import { encodeMessage } from "../../coap/encoder.js";
import { EMPTY_BYTES, optionStrings } from "../../coap/message.js";
import { OptionNumber } from "../../coap/options.js";
import { tokenKey } from "../../coap/tokens.js";
import { decodeUtf8 } from "../../kernel/utf8.js";
import { deepEqual, equal, notEqual, ok, rejects } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { CLIENT_ADDRESS, endpointFixture, SERVER_ADDRESS, track } from "../sim/endpoint-fixture.js";
import { ConstantRandom } from "../sim/seeded-random.js";

const text = (r: CoapResponse | undefined): string => (r === undefined ? "<none>" : decodeUtf8(r.payload));
const kindOf = (e: unknown): string =>
  e instanceof CoapRequestError ? e.kind : `not a CoapRequestError: ${String(e)}`;
const fromClient = { from: CLIENT_ADDRESS };
const fromServer = { from: SERVER_ADDRESS };

suite("endpoint exchanges", () => {
  test("piggybacked GET: path and query as options, one CON, the response delivered", async () => {
    const f = endpointFixture();
    f.server.route("/v2/things/abc", (req, reply) => {
      deepEqual(req.query, ["limit=10", "flag"]);
      equal(req.method, Code.GET);
      reply.respond({
        code: Code.Content,
        payload: "hello",
        options: [{ number: OptionNumber.ContentFormat, value: 50 }],
      });
    });
    const r = track(
      f.endpoint.request({
        method: "GET",
        path: "/v2/things/abc",
        query: { limit: 10, flag: true, skip: undefined },
        accept: 50,
      }),
    );
    await f.clock.runUntil(() => r.settled);
    equal(r.value?.code, Code.Content);
    equal(text(r.value), "hello");
    equal(r.value?.type, MessageType.ACK);
    ok(r.value?.options.some((o) => o.number === OptionNumber.ContentFormat));
    equal(f.net.sent({ ...fromClient, type: MessageType.CON }).length, 1);
    equal(f.server.requests.length, 1);
    deepEqual(optionStrings(f.server.requests[0]!.message, OptionNumber.UriPath), ["v2", "things", "abc"]);
    equal(f.endpoint.stats.requestsSent, 1);
    equal(f.endpoint.stats.responses, 1);
  });

  test("POST carries payload and Content-Format", async () => {
    const f = endpointFixture();
    f.server.route("/w", (req, reply) => {
      equal(decodeUtf8(req.payload), '{"values":[]}');
      reply.respond({ code: Code.Created });
    });
    const r = await settle(
      f,
      f.endpoint.request({ method: "POST", path: "w", payload: '{"values":[]}', contentFormat: 50 }),
    );
    equal(r.code, Code.Created);
    equal(f.server.requests[0]!.message.options.find((o) => o.number === OptionNumber.ContentFormat)?.value[0], 50);
  });

  test("the exact retransmission schedule (§4.2): 2 s doubling, 4 retransmissions, timeout at 62 s", async () => {
    const f = endpointFixture({ random: new ConstantRandom(0) });
    f.server.handle(() => undefined);
    const r = track(f.endpoint.request({ method: "GET", path: "/x" }));
    await f.clock.runUntil(() => r.settled);
    deepEqual(
      f.net.sent({ ...fromClient, type: MessageType.CON }).map((d) => d.sentAt),
      [0, 2000, 6000, 14000, 30000],
    );
    equal(f.clock.now(), 62_000);
    equal(kindOf(r.error), "timeout");
    const sent = (r.error as CoapRequestError).sent;
    ok(sent !== undefined, "timeout carries what was sent");
    equal(sent.firstSentAt, 0);
    deepEqual(sent.bytes, f.net.sent(fromClient)[0]!.bytes);
    equal(sent.messageId, f.net.sent(fromClient)[0]!.message!.messageId);
    equal(f.endpoint.stats.retransmissions, 4);
    equal(f.endpoint.stats.timeouts, 1);
  });

  test("the initial timeout's upper end: ACK_TIMEOUT × ACK_RANDOM_FACTOR, total MAX_TRANSMIT_WAIT", async () => {
    const f = endpointFixture({ random: new ConstantRandom(0.9999999) });
    f.server.handle(() => undefined);
    const r = track(f.endpoint.request({ method: "GET", path: "/x" }));
    await f.clock.runUntil(() => r.settled);
    const times = f.net.sent({ ...fromClient, type: MessageType.CON }).map((d) => d.sentAt);
    deepEqual(times, [0, 2999, 2999 * 3, 2999 * 7, 2999 * 15]);
    equal(f.clock.now(), 2999 * 31);
    ok(f.clock.now() <= f.endpoint.parameters.maxTransmitWaitMs);
  });

  test("transmission parameters are per endpoint", async () => {
    const f = endpointFixture({
      random: new ConstantRandom(0),
      endpoint: { parameters: { ackTimeoutMs: 500, maxRetransmit: 2 } },
    });
    f.server.handle(() => undefined);
    const r = track(f.endpoint.request({ method: "GET", path: "/x" }));
    await f.clock.runUntil(() => r.settled);
    deepEqual(
      f.net.sent({ ...fromClient, type: MessageType.CON }).map((d) => d.sentAt),
      [0, 500, 1500],
    );
    equal(f.clock.now(), 3500);
  });

  for (let lost = 1; lost <= 4; lost++) {
    test(`request lost ${lost} time(s): retransmission gets it through, the server acts once`, async () => {
      const f = endpointFixture({ random: new ConstantRandom(0) });
      f.server.handle((_req, reply) => reply.respond({ code: Code.Content, payload: "ok" }));
      f.net.drop({ ...fromClient, type: MessageType.CON }, { count: lost });
      const r = track(f.endpoint.request({ method: "GET", path: "/x" }));
      await f.clock.runUntil(() => r.settled);
      equal(text(r.value), "ok");
      equal(f.server.requests.length, 1);
      equal(f.endpoint.stats.retransmissions, lost);
    });
  }

  for (let lost = 1; lost <= 4; lost++) {
    test(`piggybacked response lost ${lost} time(s): the server's cached reply answers the retransmission, delivered once`, async () => {
      const f = endpointFixture({ random: new ConstantRandom(0) });
      let calls = 0;
      f.server.handle((_req, reply) => {
        calls++;
        reply.respond({ code: Code.Changed, payload: "done" });
      });
      f.net.drop({ ...fromServer, type: MessageType.ACK }, { count: lost });
      const r = track(f.endpoint.request({ method: "PUT", path: "/x", payload: "1" }));
      await f.clock.runUntil(() => r.settled);
      equal(text(r.value), "done");
      equal(calls, 1);
      equal(f.server.duplicateRequests, lost);
    });
  }

  test("five losses in a row: timeout", async () => {
    const f = endpointFixture({ random: new ConstantRandom(0) });
    f.server.handle((_req, reply) => reply.respond({ code: Code.Content }));
    f.net.drop({ ...fromServer, type: MessageType.ACK }, { count: 5 });
    const r = track(f.endpoint.request({ method: "GET", path: "/x" }));
    await f.clock.runUntil(() => r.settled);
    equal(kindOf(r.error), "timeout");
  });

  test("separate response (§5.2.2): empty ACK stops retransmission, the CON response is ACKed and delivered", async () => {
    const f = endpointFixture({ random: new ConstantRandom(0) });
    f.server.handle((_req, reply) => {
      reply.ack();
      reply.respondLater({ code: Code.Content, payload: "later" }, { delayMs: 20_000 });
    });
    const r = track(f.endpoint.request({ method: "GET", path: "/slow" }));
    await f.clock.runUntil(() => r.settled);
    equal(text(r.value), "later");
    equal(r.value?.type, MessageType.CON);
    equal(f.net.sent({ ...fromClient, type: MessageType.CON }).length, 1, "no retransmission after the empty ACK");
    const separate = f.net.sent({ ...fromServer, type: MessageType.CON })[0]!;
    const acks = f.net.sent({ ...fromClient, type: MessageType.ACK });
    equal(acks.length, 1);
    equal(acks[0]!.message!.messageId, separate.message!.messageId);
    equal(acks[0]!.message!.code, Code.Empty);
  });

  test("separate response with the empty ACK lost: the response itself ends retransmission", async () => {
    const f = endpointFixture({ random: new ConstantRandom(0) });
    f.server.handle((_req, reply) => {
      reply.ack();
      reply.respondLater({ code: Code.Content, payload: "s" }, { delayMs: 500 });
    });
    f.net.drop({ ...fromServer, type: MessageType.ACK });
    const r = track(f.endpoint.request({ method: "GET", path: "/x" }));
    await f.clock.runUntil(() => r.settled);
    equal(text(r.value), "s");
    await f.clock.advance(100_000);
    equal(f.net.sent({ ...fromClient, type: MessageType.CON }).length, 1);
  });

  test("separate response lost once, and the client's ACK to it lost once: delivered once, duplicate re-ACKed", async () => {
    const f = endpointFixture({ random: new ConstantRandom(0) });
    f.server.handle((_req, reply) => {
      reply.ack();
      reply.respondLater({ code: Code.Content, payload: "s" }, { delayMs: 1000 });
    });
    f.net.drop({ ...fromServer, type: MessageType.CON }, { nth: 1 });
    f.net.drop({ ...fromClient, type: MessageType.ACK }, { nth: 1 });
    let deliveries = 0;
    const r = track(
      f.endpoint.request({ method: "GET", path: "/x" }).then((x) => {
        deliveries++;
        return x;
      }),
    );
    await f.clock.advance(60_000);
    ok(r.settled);
    equal(text(r.value), "s");
    equal(deliveries, 1);
    equal(
      f.net.sent({ ...fromServer, type: MessageType.CON }).length,
      3,
      "server sent the separate response three times",
    );
    equal(f.net.sent({ ...fromClient, type: MessageType.ACK }).length, 2, "the duplicate got the same ACK");
    equal(f.endpoint.stats.duplicates, 1);
  });

  test("a separate response that never comes ends in a timeout carrying what was sent", async () => {
    const f = endpointFixture({ random: new ConstantRandom(0), endpoint: { separateResponseTimeoutMs: 30_000 } });
    f.server.handle((_req, reply) => reply.ack());
    const r = track(f.endpoint.request({ method: "POST", path: "/x", payload: "p" }));
    await f.clock.runUntil(() => r.settled);
    equal(kindOf(r.error), "timeout");
    ok((r.error as CoapRequestError).sent !== undefined);
    equal(f.clock.now(), 30_000 + 20, "ACK at 20 ms (two 10 ms hops), then the 30 s wait");
  });

  test("by default the separate-response wait is MAX_TRANSMIT_WAIT", async () => {
    const f = endpointFixture({ conditions: { delayMs: 0 } });
    f.server.handle((_req, reply) => reply.ack());
    const r = track(f.endpoint.request({ method: "GET", path: "/x" }));
    await f.clock.runUntil(() => r.settled);
    equal(f.clock.now(), 93_000);
  });

  test("NON request: NON response delivered; no response ends after the configured time", async () => {
    const f = endpointFixture({ endpoint: { nonTimeoutMs: 5000 } });
    f.server.route("/a", (_req, reply) => reply.respond({ code: Code.Content, payload: "non" }));
    f.server.route("/b", () => undefined);
    const a = track(f.endpoint.request({ method: "GET", path: "/a", confirmable: false }));
    await f.clock.runUntil(() => a.settled);
    equal(text(a.value), "non");
    equal(a.value?.type, MessageType.NON);
    equal(f.net.sent({ ...fromClient, type: MessageType.NON }).length, 1);
    const start = f.clock.now();
    const b = track(f.endpoint.request({ method: "GET", path: "/b", confirmable: false }));
    await f.clock.runUntil(() => b.settled);
    equal(kindOf(b.error), "timeout");
    equal(f.clock.now() - start, 5000);
    equal(f.net.sent({ ...fromClient, type: MessageType.NON }).length, 2, "NON is never retransmitted");
  });

  test("NON request defaults to NON_LIFETIME", async () => {
    const f = endpointFixture();
    f.server.handle(() => undefined);
    const r = track(f.endpoint.request({ method: "GET", path: "/x", confirmable: false }));
    await f.clock.runUntil(() => r.settled);
    equal(f.clock.now(), 145_000);
  });

  test("RST from the server rejects with reset", async () => {
    const f = endpointFixture();
    f.server.handle((_req, reply) => reply.reset());
    const r = track(f.endpoint.request({ method: "GET", path: "/x" }));
    await f.clock.runUntil(() => r.settled);
    equal(kindOf(r.error), "reset");
    equal(f.endpoint.stats.resetsReceived, 1);
  });

  test("NSTART = 1: the next request goes out only when the first is answered", async () => {
    const f = endpointFixture();
    f.server.handle((req, reply) =>
      f.clock.setTimer(() => reply.respond({ code: Code.Content, payload: req.path }), 1000),
    );
    const rs = ["/1", "/2", "/3"].map((path) => track(f.endpoint.request({ method: "GET", path })));
    await f.clock.advance(500);
    equal(f.net.sent({ ...fromClient, type: MessageType.CON }).length, 1);
    await f.clock.runUntil(() => rs.every((r) => r.settled));
    deepEqual(
      rs.map((r) => text(r.value)),
      ["/1", "/2", "/3"],
    );
    const sends = f.net.sent({ ...fromClient, type: MessageType.CON });
    const acks = f.net.sent({ ...fromServer, type: MessageType.ACK });
    for (let i = 1; i < 3; i++)
      ok(sends[i]!.sentAt >= acks[i - 1]!.sentAt, `request ${i + 1} waited for response ${i}`);
  });

  test("NSTART: an empty ACK frees the slot (§4.7) while the separate response is still awaited", async () => {
    const f = endpointFixture();
    f.server.route("/slow", (_req, reply) => {
      reply.ack();
      reply.respondLater({ code: Code.Content, payload: "slow" }, { delayMs: 10_000 });
    });
    f.server.route("/fast", (_req, reply) => reply.respond({ code: Code.Content, payload: "fast" }));
    const slow = track(f.endpoint.request({ method: "GET", path: "/slow" }));
    const fast = track(f.endpoint.request({ method: "GET", path: "/fast" }));
    await f.clock.runUntil(() => fast.settled);
    ok(!slow.settled);
    equal(text(fast.value), "fast");
    await f.clock.runUntil(() => slow.settled);
    equal(text(slow.value), "slow");
  });

  test("NSTART can be raised per endpoint", async () => {
    const f = endpointFixture({ endpoint: { parameters: { nstart: 3 } } });
    f.server.handle(() => undefined);
    for (let i = 0; i < 4; i++) void f.endpoint.request({ method: "GET", path: "/x" }).catch(() => undefined);
    await f.clock.advance(100);
    equal(f.net.sent({ ...fromClient, type: MessageType.CON }).length, 3);
    f.endpoint.close();
  });

  test("a full queue is a typed error at once, never a silent drop", async () => {
    const f = endpointFixture({ endpoint: { maxQueue: 2 } });
    f.server.handle((_req, reply) => reply.respond({ code: Code.Content }));
    const rs = [1, 2, 3].map(() => track(f.endpoint.request({ method: "GET", path: "/x" })));
    const fourth = track(f.endpoint.request({ method: "GET", path: "/x" }));
    await f.clock.settle();
    ok(fourth.settled);
    equal(kindOf(fourth.error), "queue-full");
    equal(f.endpoint.stats.queueFull, 1);
    await f.clock.runUntil(() => rs.every((r) => r.settled));
    ok(rs.every((r) => r.value?.code === Code.Content));
  });

  test("cancel: a queued request never goes out; an in-flight one stops retransmitting; both reject cancelled", async () => {
    const f = endpointFixture({ random: new ConstantRandom(0) });
    f.server.handle(() => undefined);
    const c1 = new CancelSource();
    const c2 = new CancelSource();
    const first = track(f.endpoint.request({ method: "GET", path: "/1", signal: c1.signal }));
    const second = track(f.endpoint.request({ method: "GET", path: "/2", signal: c2.signal }));
    await f.clock.advance(100);
    c2.cancel();
    await f.clock.settle();
    equal(kindOf(second.error), "cancelled");
    await f.clock.advance(3000);
    c1.cancel();
    await f.clock.settle();
    equal(kindOf(first.error), "cancelled");
    await f.clock.advance(100_000);
    const sent = f.net.sent({ ...fromClient, type: MessageType.CON });
    equal(sent.length, 2, "first transmission and one retransmission of /1, nothing of /2");
    ok(sent.every((_d) => f.server.requests.every((r) => r.path === "/1")));
    equal(f.endpoint.stats.cancelled, 2);
    const late = track(f.endpoint.request({ method: "GET", path: "/3", signal: c1.signal }));
    await f.clock.settle();
    equal(kindOf(late.error), "cancelled", "an already aborted signal");
  });

  test("a response for a cancelled request is not delivered and, as a CON, gets a RST", async () => {
    const f = endpointFixture();
    f.server.handle((_req, reply) => {
      reply.ack();
      reply.respondLater({ code: Code.Content }, { delayMs: 5000 });
    });
    const c = new CancelSource();
    const r = track(f.endpoint.request({ method: "GET", path: "/x", signal: c.signal }));
    await f.clock.advance(1000);
    c.cancel();
    await f.clock.advance(10_000);
    equal(kindOf(r.error), "cancelled");
    equal(f.net.sent({ ...fromClient, type: MessageType.RST }).length, 1);
    equal(f.endpoint.stats.droppedUnmatched, 1);
  });

  test("every datagram duplicated: each response delivered once, duplicates answered and counted", async () => {
    const f = endpointFixture({ conditions: { delayMs: 5, duplicateRate: 1 } });
    let n = 0;
    f.server.handle((req, reply) => {
      n++;
      if (req.path === "/sep") {
        reply.ack();
        reply.respondLater({ code: Code.Content, payload: "sep" }, { delayMs: 100 });
      } else reply.respond({ code: Code.Content, payload: req.path });
    });
    equal(text(await settle(f, f.endpoint.request({ method: "GET", path: "/a" }))), "/a");
    const r1 = track(f.endpoint.request({ method: "GET", path: "/b" }));
    const r2 = track(f.endpoint.request({ method: "GET", path: "/sep" }));
    await f.clock.runUntil(() => r1.settled && r2.settled);
    await f.clock.advance(1000);
    equal(text(r1.value), "/b");
    equal(text(r2.value), "sep");
    equal(n, 3, "the server processed each request once");
    ok(f.endpoint.stats.duplicates >= 1, "the duplicated separate response was recognised");
    equal(f.endpoint.stats.responses, 3);
  });

  for (const seed of [1, 2, 3, 4, 5, 6]) {
    test(`lossy, duplicating, reordering link (seed ${seed}): every request answered correctly or timed out, none twice`, async () => {
      const f = endpointFixture({
        seed,
        conditions: { delayMs: 20, jitterMs: 400, lossRate: 0.2, duplicateRate: 0.15 },
        endpoint: { maxQueue: 30 },
      });
      const processed = new Map<string, number>();
      f.server.handle((req, reply) => {
        processed.set(req.path, (processed.get(req.path) ?? 0) + 1);
        if (req.path.endsWith("s")) {
          reply.ack();
          reply.respondLater({ code: Code.Content, payload: req.path }, { delayMs: 300 });
        } else reply.respond({ code: Code.Content, payload: req.path });
      });
      const paths = Array.from({ length: 30 }, (_, i) => `/r${i}${i % 3 === 0 ? "s" : ""}`);
      const rs = paths.map((path) => track(f.endpoint.request({ method: "POST", path })));
      await f.clock.runUntil(() => rs.every((r) => r.settled), 10_000_000);
      let answered = 0;
      rs.forEach((r, i) => {
        if (r.value !== undefined) {
          equal(text(r.value), paths[i], "matched to its own request");
          answered++;
        } else equal(kindOf(r.error), "timeout");
      });
      ok(answered >= 27, `most requests get through 20% loss: ${answered}/30`);
      for (const [path, count] of processed) equal(count, 1, `${path} processed once by the deduplicating server`);
    });
  }

  test("message IDs increment; tokens are 8 random bytes, distinct", async () => {
    const f = endpointFixture();
    f.server.handle((_req, reply) => reply.respond({ code: Code.Content }));
    for (let i = 0; i < 5; i++) await settle(f, f.endpoint.request({ method: "GET", path: "/x" }));
    const sent = f.net.sent({ ...fromClient, type: MessageType.CON }).map((d) => d.message!);
    for (let i = 1; i < sent.length; i++) equal(sent[i]!.messageId, (sent[i - 1]!.messageId + 1) & 0xffff);
    ok(sent.every((m) => m.token.length === 8));
    equal(new Set(sent.map((m) => tokenKey(m.token))).size, 5);
  });
});

async function settle<T>(f: ReturnType<typeof endpointFixture>, p: Promise<T>): Promise<T> {
  const r = track(p);
  await f.clock.runUntil(() => r.settled);
  return r.promise;
}

suite("endpoint matching and rejection", () => {
  test("a response from another address or port is dropped, never delivered", async () => {
    const f = endpointFixture({ random: new ConstantRandom(0) });
    const impostor = f.net.bind({ address: SERVER_ADDRESS.address, port: 5684 });
    f.server.handle((req) => {
      impostor.send(
        encodeMessage({
          type: MessageType.ACK,
          code: Code.Content,
          messageId: req.message.messageId,
          token: req.message.token,
          options: [],
          payload: new Uint8Array([1]),
        }),
        CLIENT_ADDRESS,
      );
    });
    const r = track(f.endpoint.request({ method: "GET", path: "/x" }));
    await f.clock.runUntil(() => r.settled);
    equal(kindOf(r.error), "timeout");
    equal(f.endpoint.stats.droppedForeign, 1, "the server acted once (its dedup), so one impostor reply");
    equal(f.server.duplicateRequests, 4);
    equal(f.net.sent({ ...fromClient, type: MessageType.RST }).length, 0, "strangers get no answer");
  });

  test("a piggybacked response with the right message ID but a foreign token is dropped", async () => {
    const f = endpointFixture({ random: new ConstantRandom(0) });
    f.server.handle((req) => {
      f.server.send(req.from, {
        type: MessageType.ACK,
        code: Code.Content,
        messageId: req.message.messageId,
        token: new Uint8Array([9, 9, 9, 9]),
        payload: "bad",
      });
    });
    const r = track(f.endpoint.request({ method: "GET", path: "/x" }));
    await f.clock.runUntil(() => r.settled);
    // The server deduplicates the retransmissions and has no cached reply to repeat.
    equal(kindOf(r.error), "timeout");
    equal(f.endpoint.stats.droppedUnmatched, 1);
    equal(f.endpoint.stats.responses, 0);
  });

  test("an ACK with an unknown message ID is dropped and counted", async () => {
    const f = endpointFixture();
    f.server.send(CLIENT_ADDRESS, { type: MessageType.ACK, code: Code.Empty, messageId: 1234 });
    await f.clock.advance(100);
    equal(f.endpoint.stats.droppedUnmatched, 1);
    equal(f.net.sent(fromClient).length, 0);
  });

  test("unexpected CON response → RST; unexpected NON → ignored; NON notification for an unknown token → RST", async () => {
    const f = endpointFixture();
    const token = new Uint8Array([1, 2, 3, 4]);
    const con = f.server.send(CLIENT_ADDRESS, { type: MessageType.CON, code: Code.Content, token, payload: "x" });
    f.server.send(CLIENT_ADDRESS, { type: MessageType.NON, code: Code.Content, token, payload: "x" });
    const notification = f.server.send(CLIENT_ADDRESS, {
      type: MessageType.NON,
      code: Code.Content,
      token,
      options: [{ number: OptionNumber.Observe, value: 5 }],
    });
    await f.clock.advance(100);
    const rsts = f.net.sent({ ...fromClient, type: MessageType.RST }).map((d) => d.message!.messageId);
    deepEqual(rsts, [con, notification]);
    equal(f.endpoint.stats.droppedUnmatched, 3);
  });

  test("a CoAP ping from the server gets a RST (§4.3); a request from the server gets a RST", async () => {
    const f = endpointFixture();
    const ping = f.server.send(CLIENT_ADDRESS, { type: MessageType.CON, code: Code.Empty });
    const get = f.server.send(CLIENT_ADDRESS, { type: MessageType.CON, code: Code.GET, token: new Uint8Array([1]) });
    f.server.send(CLIENT_ADDRESS, { type: MessageType.NON, code: Code.GET, token: new Uint8Array([1]) });
    await f.clock.advance(100);
    deepEqual(
      f.net.sent({ ...fromClient, type: MessageType.RST }).map((d) => d.message!.messageId),
      [ping, get],
    );
  });

  test("a CON with an unrecognised critical option gets a RST and is not delivered (§5.4.1)", async () => {
    const f = endpointFixture();
    let token: Uint8Array = EMPTY_BYTES;
    f.server.handle((req, reply) => {
      token = req.message.token;
      reply.ack();
    });
    const r = track(f.endpoint.request({ method: "GET", path: "/x" }));
    await f.clock.advance(100);
    const bad = f.server.send(CLIENT_ADDRESS, {
      type: MessageType.CON,
      code: Code.Content,
      token,
      options: [{ number: 9, value: "?" }],
      payload: "x",
    });
    await f.clock.advance(100);
    ok(!r.settled, "not delivered");
    deepEqual(
      f.net.sent({ ...fromClient, type: MessageType.RST }).map((d) => d.message!.messageId),
      [bad],
    );
    equal(f.endpoint.stats.rejectedCritical, 1);
    f.server.send(CLIENT_ADDRESS, { type: MessageType.CON, code: Code.Content, token, payload: "fine" });
    await f.clock.runUntil(() => r.settled);
    equal(text(r.value), "fine");
  });

  test("a piggybacked response with an unrecognised critical option is ignored (§4.2: rejecting an ACK)", async () => {
    const f = endpointFixture({ random: new ConstantRandom(0) });
    let first = true;
    f.server.handle((req, reply) => {
      if (first) {
        first = false;
        f.server.send(req.from, {
          type: MessageType.ACK,
          code: Code.Content,
          messageId: req.message.messageId,
          token: req.message.token,
          options: [{ number: 9, value: "?" }],
        });
      } else reply.respond({ code: Code.Content });
    });
    const r = track(f.endpoint.request({ method: "GET", path: "/x" }));
    await f.clock.runUntil(() => r.settled);
    equal(kindOf(r.error), "timeout", "the server's dedup has no cached reply, so nothing else comes");
    equal(f.endpoint.stats.rejectedCritical, 1);
    equal(f.endpoint.stats.retransmissions, 4, "ignoring the ACK means retransmitting on");
    equal(f.net.sent({ ...fromClient, type: MessageType.RST }).length, 0);
  });

  test("malformed datagrams are dropped and counted; a readable CON header gets a RST", async () => {
    const f = endpointFixture();
    f.server.sendRaw(new Uint8Array([0x40]), CLIENT_ADDRESS);
    f.server.sendRaw(new Uint8Array([0x80, 1, 0, 1]), CLIENT_ADDRESS);
    f.server.sendRaw(new Uint8Array([0x42, 0x45, 0x12, 0x34, 1]), CLIENT_ADDRESS);
    f.server.sendRaw(new Uint8Array([0x50, 0x45, 0x12, 0x35, 0xff]), CLIENT_ADDRESS);
    await f.clock.advance(100);
    equal(f.endpoint.stats.droppedMalformed, 4);
    deepEqual(
      f.net.sent({ ...fromClient, type: MessageType.RST }).map((d) => d.message!.messageId),
      [0x1234],
    );
  });
});

suite("endpoint resend, close, server change, ping", () => {
  test("resend(sent) repeats the very message; the deduplicating server answers without acting twice", async () => {
    const f = endpointFixture({ random: new ConstantRandom(0) });
    let acted = 0;
    f.server.handle((_req, reply) => {
      acted++;
      reply.respond({ code: Code.Created, payload: "ok" });
    });
    f.net.drop({ ...fromServer, type: MessageType.ACK }, { count: 5 });
    const r = track(f.endpoint.request({ method: "POST", path: "/w", payload: "v" }));
    await f.clock.runUntil(() => r.settled);
    const sent = (r.error as CoapRequestError).sent!;
    const again = track(f.endpoint.resend(sent));
    await f.clock.runUntil(() => again.settled);
    equal(text(again.value), "ok");
    equal(acted, 1);
    const cons = f.net.sent({ ...fromClient, type: MessageType.CON });
    deepEqual(cons[cons.length - 1]!.bytes, sent.bytes);
  });

  test("resend is refused after EXCHANGE_LIFETIME, and stops transmitting at it", async () => {
    const f = endpointFixture({ random: new ConstantRandom(0) });
    f.server.handle(() => undefined);
    const r = track(f.endpoint.request({ method: "POST", path: "/w" }));
    await f.clock.runUntil(() => r.settled);
    const sent = (r.error as CoapRequestError).sent!;
    // Resent at 62 s, 124 s, 186 s: the third one's retransmissions reach 247 s and stop there.
    for (const expected of ["timeout", "timeout", "timeout"]) {
      const again = track(f.endpoint.resend(sent));
      await f.clock.runUntil(() => again.settled);
      equal(kindOf(again.error), expected);
    }
    const last = f.net.sent({ ...fromClient, type: MessageType.CON }).pop()!;
    equal(last.sentAt, 216_000, "186 s + 2, 6, 14, 30 s; the next one would fall after 247 s");
    equal(f.clock.now(), 248_000, "the last transmission's timeout is waited out");
    const late = track(f.endpoint.resend(sent));
    await f.clock.settle();
    equal(kindOf(late.error), "expired");
  });

  test("resend of a request still pending, or of bytes that are not a request, is refused", async () => {
    const f = endpointFixture();
    f.server.handle(() => undefined);
    const c = new CancelSource();
    void f.endpoint.request({ method: "GET", path: "/x", signal: c.signal }).catch(() => undefined);
    await f.clock.advance(10);
    const pending = f.net.sent(fromClient)[0]!;
    const sent = {
      messageId: pending.message!.messageId,
      token: pending.message!.token,
      bytes: pending.bytes,
      firstSentAt: 0,
    };
    await rejects(f.endpoint.resend(sent), (e) => kindOf(e) === "bad-request");
    await rejects(f.endpoint.resend({ ...sent, bytes: new Uint8Array([1, 2]) }), (e) => kindOf(e) === "bad-request");
    await rejects(f.endpoint.resend({ ...sent, messageId: sent.messageId ^ 1 }), (e) => kindOf(e) === "bad-request");
    c.cancel();
  });

  test("close rejects pending and queued requests with cancelled, closes the port, is safe twice", async () => {
    const f = endpointFixture();
    f.server.handle(() => undefined);
    const a = track(f.endpoint.request({ method: "GET", path: "/a" }));
    const b = track(f.endpoint.request({ method: "GET", path: "/b" }));
    await f.clock.advance(100);
    f.endpoint.close();
    f.endpoint.close();
    await f.clock.settle();
    equal(kindOf(a.error), "cancelled");
    equal(kindOf(b.error), "cancelled");
    ok(f.clientPort.closed);
    await rejects(f.endpoint.request({ method: "GET", path: "/c" }), (e) => kindOf(e) === "cancelled");
    equal(f.clock.pendingTimers, 0, "no timer left behind");
  });

  test("requests that cannot be encoded fail with bad-request", async () => {
    const f = endpointFixture({ endpoint: { maxMessageSize: 64 } });
    await rejects(
      f.endpoint.request({ method: "POST", path: "/x", payload: new Uint8Array(100) }),
      (e) => kindOf(e) === "bad-request",
    );
    await rejects(f.endpoint.request({ method: "BREW" as "GET", path: "/x" }), (e) => kindOf(e) === "bad-request");
    equal(f.net.sent().length, 0);
  });

  test("setServer: retransmissions follow the new address; the old address is now foreign", async () => {
    const f = endpointFixture({ random: new ConstantRandom(0) });
    f.server.handle(() => undefined);
    const moved = { address: "192.0.2.77", port: 5683 };
    const r = track(f.endpoint.request({ method: "GET", path: "/x" }));
    await f.clock.advance(100);
    f.endpoint.setServer(moved);
    await f.clock.advance(2000);
    const cons = f.net.sent({ ...fromClient, type: MessageType.CON });
    equal(cons.length, 2);
    equal(cons[1]!.to.address, "192.0.2.77");
    f.server.send(CLIENT_ADDRESS, {
      type: MessageType.ACK,
      code: Code.Content,
      messageId: cons[0]!.message!.messageId,
      token: cons[0]!.message!.token,
    });
    await f.clock.advance(100);
    equal(f.endpoint.stats.droppedForeign, 1);
    ok(!r.settled);
    f.endpoint.close();
  });

  test("ping: empty CON answered by RST resolves with the round trip time", async () => {
    const f = endpointFixture();
    const r = track(f.endpoint.ping());
    await f.clock.runUntil(() => r.settled);
    equal(r.value, 20);
    const ping = f.net.sent(fromClient)[0]!;
    equal(ping.message!.type, MessageType.CON);
    equal(ping.message!.code, Code.Empty);
    equal(ping.bytes.length, 4);
  });

  test("idle keep-alive pings after the configured silence, and not while traffic flows", async () => {
    const f = endpointFixture({ endpoint: { keepAliveIdleMs: 30_000 } });
    f.server.handle((_req, reply) => reply.respond({ code: Code.Content }));
    await f.clock.advance(20_000);
    await settle(f, f.endpoint.request({ method: "GET", path: "/x" }));
    await f.clock.advance(29_000);
    equal(f.endpoint.stats.pings, 0);
    await f.clock.advance(2_000);
    equal(f.endpoint.stats.pings, 1);
    await f.clock.advance(30_000);
    equal(f.endpoint.stats.pings, 2);
    equal(f.net.sent({ ...fromServer, type: MessageType.RST }).length, 2);
    notEqual(f.endpoint.stats.datagramsSent, 0);
    f.endpoint.close();
    equal(f.clock.pendingTimers, 0);
  });

  test("a throwing log sink or handler never breaks the endpoint", async () => {
    const f = endpointFixture({
      endpoint: {
        log: () => {
          throw new Error("log broke");
        },
      },
    });
    f.server.handle((_req, reply) => reply.respond({ code: Code.Content, payload: "ok" }));
    f.server.sendRaw(new Uint8Array([1, 2, 3]), CLIENT_ADDRESS);
    await f.clock.advance(100);
    const r = track(f.endpoint.request({ method: "GET", path: "/x" }));
    await f.clock.runUntil(() => r.settled);
    equal(text(r.value), "ok");
  });
});
