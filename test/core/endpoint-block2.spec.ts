// Block-wise responses (RFC 7959): the reassembly rules, and whole transfers over a simulated
// network with loss, size negotiation, ETag changes, limits and failures.
import { Block2Assembly, type Block2Step } from "../../coap/block2.js";
import { CancelSource } from "../../coap/cancel.js";
import { CoapRequestError } from "../../coap/client-api.js";
import { Code, MessageType } from "../../coap/codes.js";
import { type BlockValue, OptionNumber } from "../../coap/options.js";
import { decodeUtf8 } from "../../kernel/utf8.js";
import { deepEqual, equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { CLIENT_ADDRESS, endpointFixture, type Fixture, track } from "../sim/endpoint-fixture.js";
import { ConstantRandom } from "../sim/seeded-random.js";

const kindOf = (e: unknown): string =>
  e instanceof CoapRequestError ? e.kind : `not a CoapRequestError: ${String(e)}`;
const block = (num: number, more: boolean, szx: number): BlockValue => ({ num, more, szx });
const bytes = (n: number, fill = 0x61): Uint8Array => new Uint8Array(n).fill(fill);
const etag = (n: number): Uint8Array => new Uint8Array([n]);

function body(n: number): string {
  let s = "";
  for (let i = 0; s.length < n; i++) s += `<${i}>`;
  return s.slice(0, n);
}

function next(step: Block2Step): BlockValue {
  if (step.kind !== "next") throw new Error(`expected next, got ${JSON.stringify(step)}`);
  return step.block;
}

async function get(
  f: Fixture,
  path: string,
  signal?: CancelSource,
): Promise<{ value: string | undefined; error: unknown }> {
  const r = track(f.endpoint.request({ method: "GET", path, signal: signal?.signal }));
  await f.clock.runUntil(() => r.settled, 10_000_000);
  return { value: r.value === undefined ? undefined : decodeUtf8(r.value.payload), error: r.error };
}

suite("Block2 reassembly", () => {
  test("blocks in order make the body; the next block is computed from the bytes received", () => {
    const a = new Block2Assembly({ maxBodySize: 1000, preferredSzx: undefined });
    deepEqual(next(a.accept(block(0, true, 2), bytes(64, 1), undefined, 150)), block(1, false, 2));
    deepEqual(next(a.accept(block(1, true, 2), bytes(64, 2), undefined, undefined)), block(2, false, 2));
    const done = a.accept(block(2, false, 2), bytes(22, 3), undefined, undefined);
    equal(done.kind, "complete");
    if (done.kind === "complete") {
      equal(done.body.length, 150);
      deepEqual([done.body[0], done.body[64], done.body[149]], [1, 2, 3]);
    }
  });

  test("a smaller preferred size: the client asks smaller blocks from the next request on (§2.4)", () => {
    const a = new Block2Assembly({ maxBodySize: 5000, preferredSzx: 2 });
    deepEqual(next(a.accept(block(0, true, 6), bytes(1024), undefined, undefined)), block(16, false, 2));
  });

  test("the server may switch to smaller blocks mid-transfer", () => {
    const a = new Block2Assembly({ maxBodySize: 5000, preferredSzx: undefined });
    next(a.accept(block(0, true, 6), bytes(1024), undefined, undefined));
    deepEqual(next(a.accept(block(2, true, 5), bytes(512), undefined, undefined)), block(3, false, 5));
    equal(a.received, 1536);
  });

  test("an ETag change restarts the transfer from block 0, a few times at most", () => {
    const a = new Block2Assembly({ maxBodySize: 5000, preferredSzx: undefined, maxRestarts: 1 });
    next(a.accept(block(0, true, 4), bytes(256), etag(1), undefined));
    deepEqual(next(a.accept(block(1, true, 4), bytes(256), etag(2), undefined)), block(0, false, 4));
    equal(a.received, 0);
    next(a.accept(block(0, true, 4), bytes(256), etag(2), undefined));
    const broken = a.accept(block(1, true, 4), bytes(256), etag(3), undefined);
    equal(broken.kind, "failed");
    if (broken.kind === "failed") equal(broken.error, "block-transfer");
  });

  test("the size limit: by Size2 at once, or by the bytes received", () => {
    const a = new Block2Assembly({ maxBodySize: 300, preferredSzx: undefined });
    const announced = a.accept(block(0, true, 4), bytes(256), undefined, 301);
    equal(announced.kind === "failed" && announced.error, "too-large");
    const b = new Block2Assembly({ maxBodySize: 300, preferredSzx: undefined });
    next(b.accept(block(0, true, 4), bytes(256), undefined, undefined));
    const over = b.accept(block(1, true, 4), bytes(256), undefined, undefined);
    equal(over.kind === "failed" && over.error, "too-large");
  });

  test("inconsistent blocks break the transfer", () => {
    const cases: Array<[BlockValue | undefined, number]> = [
      [block(2, true, 4), 256], // skips a block
      [block(1, true, 4), 100], // short block with more set (§2.2)
      [block(1, false, 4), 300], // longer than the block size
      [block(1, true, 7), 1024], // SZX 7 is reserved over UDP
      [undefined, 10], // no Block2 in the middle of a transfer
    ];
    for (const [value, length] of cases) {
      const a = new Block2Assembly({ maxBodySize: 5000, preferredSzx: undefined });
      next(a.accept(block(0, true, 4), bytes(256), undefined, undefined));
      const step = a.accept(value, bytes(length), undefined, undefined);
      equal(step.kind === "failed" && step.error, "block-transfer", JSON.stringify(value));
    }
  });

  test("payloads are copied: the datagram may be reused", () => {
    const a = new Block2Assembly({ maxBodySize: 5000, preferredSzx: undefined });
    const datagram = bytes(16, 7);
    next(a.accept(block(0, true, 0), datagram, undefined, undefined));
    datagram.fill(0);
    const done = a.accept(block(1, false, 0), bytes(1, 9), undefined, undefined);
    ok(done.kind === "complete" && done.body[0] === 7);
  });
});

suite("endpoint Block2", () => {
  test("a 5000-byte body: block 0 then four follow-ups with new tokens, delivered once, without Block2", async () => {
    const f = endpointFixture();
    const text = body(5000);
    f.server.content("/big", text, { contentFormat: 0, etag: etag(7) });
    const r = track(f.endpoint.request({ method: "GET", path: "/big" }));
    await f.clock.runUntil(() => r.settled);
    equal(decodeUtf8(r.value!.payload), text);
    ok(!r.value!.options.some((o) => o.number === OptionNumber.Block2));
    ok(r.value!.options.some((o) => o.number === OptionNumber.ContentFormat));
    const asked = f.server.requests.map((q) => q.block2?.num ?? -1);
    deepEqual(asked, [-1, 1, 2, 3, 4]);
    equal(new Set(f.server.requests.map((q) => q.tokenKey)).size, 5);
    equal(f.endpoint.stats.blockRequests, 4);
  });

  test("a server that answers with a smaller SZX than asked: the client follows its size", async () => {
    const f = endpointFixture({ endpoint: { preferredBlockSzx: 6 }, server: { maxBlockSzx: 4 } });
    f.server.content("/big", body(1000));
    const r = await get(f, "/big");
    equal(r.value, body(1000));
    deepEqual(
      f.server.requests.map((q) => [q.block2!.num, q.block2!.szx]),
      [
        [0, 6],
        [1, 4],
        [2, 4],
        [3, 4],
      ],
    );
  });

  test("a preferred block size is asked from the first request on (early negotiation, §2.4)", async () => {
    const f = endpointFixture({ endpoint: { preferredBlockSzx: 1 } });
    f.server.content("/big", body(100));
    const r = await get(f, "/big");
    equal(r.value, body(100));
    deepEqual(
      f.server.requests.map((q) => [q.block2!.num, q.block2!.szx]),
      [
        [0, 1],
        [1, 1],
        [2, 1],
        [3, 1],
      ],
    );
  });

  for (const seed of [11, 12, 13, 14]) {
    test(`Block2 over a lossy, duplicating, reordering link (seed ${seed})`, async () => {
      const f = endpointFixture({
        seed,
        conditions: { delayMs: 10, jitterMs: 200, lossRate: 0.25, duplicateRate: 0.2 },
        server: { maxBlockSzx: 4 },
      });
      const text = body(4000);
      f.server.content("/big", text);
      const r = await get(f, "/big");
      equal(r.value, text);
      ok(f.endpoint.stats.retransmissions > 0, "loss happened and was repaired");
    });
  }

  test("each block lost once, request and response alternately: repaired by retransmission", async () => {
    const f = endpointFixture({ random: new ConstantRandom(0), server: { maxBlockSzx: 4 } });
    f.server.content("/big", body(1000));
    for (let i = 1; i <= 4; i++) {
      if (i % 2 === 0)
        f.net.drop(
          {
            from: CLIENT_ADDRESS,
            type: MessageType.CON,
            where: (d) => d.message!.options.some((o) => o.number === OptionNumber.Block2),
          },
          { nth: 1 },
        );
      else f.net.drop({ to: CLIENT_ADDRESS, type: MessageType.ACK }, { nth: i === 1 ? 1 : 2 });
    }
    const r = await get(f, "/big");
    equal(r.value, body(1000));
    ok(f.endpoint.stats.retransmissions >= 3);
  });

  test("an ETag change mid-transfer restarts from block 0; the new body is delivered whole", async () => {
    const f = endpointFixture({ server: { maxBlockSzx: 4 } });
    const first = "A".repeat(800);
    const second = "B".repeat(700);
    f.server.content("/big", first, { etag: etag(1) });
    const r = track(f.endpoint.request({ method: "GET", path: "/big" }));
    // Blocks 0 and 1 come from the first body; block 2 from the second.
    await f.clock.runUntil(() => f.server.requests.length >= 2);
    f.server.update("/big", second, { etag: etag(2) });
    await f.clock.runUntil(() => r.settled);
    equal(decodeUtf8(r.value!.payload), second);
    ok(
      f.server.requests.some((q, i) => i > 1 && q.block2?.num === 0),
      "block 0 asked again",
    );
  });

  test("maxBodySize: too-large from Size2 before fetching more, and from the bytes without Size2", async () => {
    const f = endpointFixture({ endpoint: { maxBodySize: 2000 } });
    f.server.content("/big", body(5000));
    const a = await get(f, "/big");
    equal(kindOf(a.error), "too-large");
    equal(f.server.requests.length, 1, "no follow-up after Size2 said too much");
    f.server.route("/nosize", (req, reply) => {
      const num = req.block2?.num ?? 0;
      reply.respond({
        code: Code.Content,
        payload: bytes(1024),
        options: [{ number: OptionNumber.Block2, value: num * 16 + 8 + 6 }],
      });
    });
    const b = await get(f, "/nosize");
    equal(kindOf(b.error), "too-large");
  });

  test("maxBodySize applies to a single-datagram body too", async () => {
    const f = endpointFixture({ endpoint: { maxBodySize: 10 } });
    f.server.route("/x", (_req, reply) => reply.respond({ code: Code.Content, payload: bytes(11) }));
    equal(kindOf((await get(f, "/x")).error), "too-large");
  });

  test("a server that stops answering follow-ups: block-transfer error, no hang", async () => {
    const f = endpointFixture({ server: { maxBlockSzx: 4 } });
    f.server.content("/big", body(1000));
    f.server.route("/big", (req, reply) => {
      if (req.block2 === undefined)
        reply.respond({
          code: Code.Content,
          payload: bytes(256),
          options: [{ number: OptionNumber.Block2, value: 8 + 4 }],
        });
    });
    const r = await get(f, "/big");
    equal(kindOf(r.error), "block-transfer");
    ok(f.clock.now() <= 93_100);
  });

  test("a follow-up answered with an error code: block-transfer", async () => {
    const f = endpointFixture();
    f.server.route("/big", (req, reply) => {
      if (req.block2 === undefined)
        reply.respond({
          code: Code.Content,
          payload: bytes(1024),
          options: [{ number: OptionNumber.Block2, value: 8 + 6 }],
        });
      else reply.respond({ code: Code.RequestEntityIncomplete });
    });
    const r = await get(f, "/big");
    equal(kindOf(r.error), "block-transfer");
    ok(String((r.error as Error).message).includes("4.08"));
  });

  test("a block-wise response to POST: follow-ups repeat the method without the body (§2.4)", async () => {
    const f = endpointFixture({ server: { maxBlockSzx: 4 } });
    const reply = body(600);
    f.server.route("/rpc", (_req, r) => r.respond({ code: Code.Changed, payload: reply }));
    const r = track(f.endpoint.request({ method: "POST", path: "/rpc", payload: "request body", contentFormat: 0 }));
    await f.clock.runUntil(() => r.settled);
    equal(decodeUtf8(r.value!.payload), reply);
    const [firstReq, ...followUps] = f.server.requests;
    equal(decodeUtf8(firstReq!.payload), "request body");
    equal(followUps.length, 2);
    ok(
      followUps.every(
        (q) =>
          q.method === Code.POST &&
          q.payload.length === 0 &&
          !q.message.options.some((o) => o.number === OptionNumber.ContentFormat),
      ),
    );
  });

  test("cancel mid-transfer: rejected cancelled, no further block requests", async () => {
    const f = endpointFixture({ server: { maxBlockSzx: 0 } });
    f.server.content("/big", body(1000));
    const c = new CancelSource();
    const r = track(f.endpoint.request({ method: "GET", path: "/big", signal: c.signal }));
    await f.clock.runUntil(() => f.server.requests.length >= 5);
    c.cancel();
    await f.clock.advance(100_000);
    equal(kindOf(r.error), "cancelled");
    ok(f.server.requests.length <= 6);
  });

  test("NSTART: the follow-ups of a transfer go before requests queued behind it", async () => {
    const f = endpointFixture({ server: { maxBlockSzx: 4 } });
    f.server.content("/big", body(1000));
    f.server.route("/small", (_req, reply) => reply.respond({ code: Code.Content, payload: "s" }));
    const big = track(f.endpoint.request({ method: "GET", path: "/big" }));
    const small = track(f.endpoint.request({ method: "GET", path: "/small" }));
    await f.clock.runUntil(() => big.settled && small.settled);
    deepEqual(
      f.server.requests.map((q) => q.path + (q.block2 === undefined ? "" : `#${q.block2.num}`)),
      ["/big", "/big#1", "/big#2", "/big#3", "/small"],
    );
  });

  test("FETCH follow-ups keep the body that selects what is fetched", async () => {
    const f = endpointFixture({ server: { maxBlockSzx: 4 } });
    const reply = body(300);
    f.server.route("/q", (_req, r) => r.respond({ code: Code.Content, payload: reply }));
    const r = track(f.endpoint.request({ method: "FETCH", path: "/q", payload: "select", contentFormat: 0 }));
    await f.clock.runUntil(() => r.settled);
    equal(decodeUtf8(r.value!.payload), reply);
    equal(f.server.requests.length, 2);
    ok(f.server.requests.every((q) => decodeUtf8(q.payload) === "select"));
  });
});
