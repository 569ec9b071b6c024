// The local platform's device API, in process, through a message-level client: activation,
// writes, reads and every refusal, checked to the CoAP code, the JSON body and what got stored.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { describeEvent } from "../../emulator/events.js";
import { activate, type Running, readKey, running, writeValues } from "./emulator/fixtures.js";
import { RawClient } from "./emulator/raw-client.js";

// A clock the tests move: values written without a datetime get its time.
let clock = Date.UTC(2024, 4, 1, 12, 0, 0);
let r: Running;

before(async () => {
  r = await running({ activationCodes: ["CODE-ONE", "CODE-TWO"], now: () => clock });
});
after(() => r.stop());

const ERROR = (message: string | RegExp) => (body: unknown) => {
  const b = body as { status?: unknown; message?: unknown };
  return (
    b.status === "error" &&
    typeof b.message === "string" &&
    (typeof message === "string" ? b.message === message : message.test(b.message))
  );
};

test("library: port 0 gives a real bound port; given codes are kept", () => {
  assert.ok(r.platform.port > 0 && r.platform.port < 65536);
  assert.deepEqual(r.platform.activationCodes, ["CODE-ONE", "CODE-TWO"]);
  assert.deepEqual(r.events[0], {
    event: "listening",
    host: "127.0.0.1",
    port: r.platform.port,
    db: ":memory:",
    activationCodes: ["CODE-ONE", "CODE-TWO"],
  });
});

test("activate: 2.01 with a 43-character token; the code then is used up; unknown codes refused", async () => {
  const first = await r.client.request({
    method: "POST",
    path: ["v2", "things", ""],
    payload: '{"activationCode":"CODE-ONE"}',
  });
  assert.equal(first.code, "2.01");
  const body = first.json as { status: string; thingToken: string };
  assert.equal(body.status, "created");
  assert.match(body.thingToken, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(first.option("Content-Format")?.readUInt8(0), 50);

  const again = await r.client.request({
    method: "POST",
    path: ["v2", "things"],
    payload: '{"activationCode":"CODE-ONE"}',
  });
  assert.equal(again.code, "4.00");
  assert.deepEqual(again.json, { status: "error", message: "Error creating thing" });

  const unknown = await r.client.request({
    method: "POST",
    path: ["v2", "things"],
    payload: '{"activationCode":"NOPE"}',
  });
  assert.equal(unknown.code, "4.00");
  assert.deepEqual(unknown.json, { status: "error", message: "Error creating thing" });

  const withProduct = await r.client.request({
    method: "POST",
    path: ["v2", "things"],
    payload: '{"activationCode":"CODE-TWO","productId":"P1"}',
  });
  assert.equal(withProduct.code, "2.01");
  assert.notEqual((withProduct.json as { thingToken: string }).thingToken, body.thingToken);

  const logged = r.events.filter((e) => e.event === "activated");
  assert.equal(logged.length, 2);
  for (const e of logged)
    assert.match((e as { thing: string }).thing, /^[A-Za-z0-9_-]{4}…\(43\)$/, "tokens are logged redacted");
  assert.ok(!JSON.stringify(r.events).includes(body.thingToken), "no event carries a whole token");
});

test("write: 2.01, Content-Format 50, the documented body; values come back newest first", async () => {
  const token = await activate(r);
  clock = Date.UTC(2024, 4, 1, 12, 0, 0);
  const w = await writeValues(r, token, [{ key: "fun", value: "9000" }]);
  assert.equal(w.code, "2.01");
  assert.equal(w.option("Content-Format")?.readUInt8(0), 50);
  assert.deepEqual(w.json, { status: "Success", message: "Created" });

  clock += 1000;
  await writeValues(r, token, [
    { key: "fun", value: 9001 },
    { key: "fun", value: [1, 2], datetime: "20240101000000" },
    { key: "fun", value: { on: true }, datetime: "2024-05-01T12:00:00.500Z", geo: { lat: 41.41, long: 2.21 } },
  ]);
  const all = await readKey(r, token, "fun", ["limit=10"]);
  assert.equal(all.code, "2.05");
  assert.equal(all.option("Content-Format")?.readUInt8(0), 50);
  assert.deepEqual(all.json, [
    { key: "fun", value: 9001, datetime: "2024-05-01T12:00:01.000Z" },
    { key: "fun", value: { on: true }, datetime: "2024-05-01T12:00:00.500Z", geo: { lat: 41.41, long: 2.21 } },
    { key: "fun", value: "9000", datetime: "2024-05-01T12:00:00.000Z" },
    { key: "fun", value: [1, 2], datetime: "2024-01-01T00:00:00.000Z" },
  ]);
  const one = await readKey(r, token, "fun");
  assert.deepEqual(
    one.json,
    [{ key: "fun", value: 9001, datetime: "2024-05-01T12:00:01.000Z" }],
    "limit defaults to 1",
  );
});

test("read: startDate/endDate in both forms, inclusive; paging backwards with endDate", async () => {
  const token = await activate(r);
  const values = Array.from({ length: 30 }, (_, i) => ({
    key: "t",
    value: i,
    datetime: `2024-02-01T00:00:${String(i).padStart(2, "0")}Z`,
  }));
  // Written in shuffled batches of 10 (a batch need not be sorted; 30 would not fit 1024 bytes).
  const shuffled = [...values].sort((a, b) => ((a.value * 7) % 30) - ((b.value * 7) % 30));
  for (let i = 0; i < 30; i += 10) assert.equal((await writeValues(r, token, shuffled.slice(i, i + 10))).code, "2.01");

  const window = await readKey(r, token, "t", [
    "limit=100",
    "startDate=20240201000005",
    "endDate=2024-02-01T00:00:09Z",
  ]);
  assert.deepEqual(
    (window.json as { value: number }[]).map((v) => v.value),
    [9, 8, 7, 6, 5],
  );

  // Page back 10 at a time; endDate is inclusive, so each page after the first repeats the
  // previous page's oldest value, which the reader skips.
  const seen: number[] = [];
  let query = ["limit=10"];
  for (let page = 0; page < 5; page++) {
    const items = (await readKey(r, token, "t", query)).json as { value: number; datetime: string }[];
    const fresh = items.filter((i) => !seen.includes(i.value));
    if (fresh.length === 0) break;
    seen.push(...fresh.map((i) => i.value));
    query = ["limit=10", `endDate=${(items.at(-1) as { datetime: string }).datetime}`];
  }
  assert.deepEqual(
    seen,
    Array.from({ length: 30 }, (_, i) => 29 - i),
  );

  const empty = await readKey(r, token, "t", ["startDate=20300101000000"]);
  assert.equal(empty.code, "2.05");
  assert.deepEqual(empty.json, [], "a known key with nothing in range is an empty array");
});

test("read: the query inside the last Uri-Path segment (the old library's form) works", async () => {
  const token = await activate(r);
  await writeValues(
    r,
    token,
    [1, 2, 3, 4].map((n) => ({ key: "fun", value: n, datetime: `2024-03-01T00:00:0${n}Z` })),
  );
  const embedded = await r.client.request({ method: "GET", path: ["v2", "things", token, "resources", "fun?limit=3"] });
  assert.equal(embedded.code, "2.05");
  assert.deepEqual(
    (embedded.json as { value: number }[]).map((v) => v.value),
    [4, 3, 2],
  );
});

test("read: a limit above 100 is capped at 100", async () => {
  const token = await activate(r);
  for (let batch = 0; batch < 11; batch++) {
    const values = Array.from({ length: 10 }, (_, i) => ({
      key: "n",
      value: batch * 10 + i,
      datetime: new Date(Date.UTC(2024, 0, 1) + (batch * 10 + i) * 1000).toISOString(),
    }));
    assert.equal((await writeValues(r, token, values)).code, "2.01");
  }
  const reply = await readKey(r, token, "n", ["limit=500"]);
  // 100 items are well over one datagram: the first block comes with Block2 (the rest is the
  // block-wise transfer libcoap's test fetches whole).
  assert.equal(reply.code, "2.05");
  assert.ok(reply.option("Block2") !== undefined, "a long read goes block-wise");
  const size2 = await r.client.request({
    method: "GET",
    path: ["v2", "things", token, "resources", "n"],
    query: ["limit=500"],
    options: [{ name: "Size2", value: Buffer.alloc(0) }],
  });
  const total = size2.option("Size2");
  assert.ok(total !== undefined);
  const length = total.reduce((n, b) => n * 256 + b, 0);
  assert.ok(length > 100 * 50 && length < 100 * 80, `Size2 ${length} is 100 items of ~65 bytes`);
});

test("errors: unknown token, unknown key, unknown path, wrong method, each with a JSON error", async () => {
  const token = await activate(r);
  const fake = "A".repeat(43);
  const cases: [Promise<import("./emulator/raw-client.js").Reply>, string, RegExp | string][] = [
    [writeValues(r, fake, [{ key: "k", value: 1 }]), "4.04", "Thing not found"],
    [readKey(r, fake, "k"), "4.04", "Thing not found"],
    [r.client.request({ method: "GET", path: ["v2", "things", fake], observe: 0 }), "4.04", "Thing not found"],
    [readKey(r, token, "never-written"), "4.04", "Resource not found"],
    [r.client.request({ method: "GET", path: ["v2", "devices", token] }), "4.04", "Not found"],
    [r.client.request({ method: "GET", path: [] }), "4.04", "Not found"],
    [r.client.request({ method: "PUT", path: ["v2", "things", token], payload: "{}" }), "4.05", /PUT/],
    [r.client.request({ method: "DELETE", path: ["v2", "things", token, "resources", "k"] }), "4.05", /DELETE/],
    [r.client.request({ method: "GET", path: ["v2", "things"] }), "4.05", /GET/],
    [r.client.request({ method: "GET", path: ["v2", "things", token] }), "4.00", /Observe/],
    [readKey(r, token, "k", ["limit=zero"]), "4.04", "Resource not found"],
  ];
  for (const [pending, code, message] of cases) {
    const reply = await pending;
    assert.equal(reply.code, code, reply.text);
    assert.ok(ERROR(message)(reply.json), reply.text);
    assert.equal(reply.option("Observe"), undefined, "an error reply carries no Observe option (RFC 7641 §4.2)");
  }
  // The log names the key a refusal was about, never the thing token in the path.
  const notFound = r.events.find((e) => e.event === "refused" && e.key === "never-written");
  assert.ok(notFound !== undefined, "the refusal of never-written names its key");
  assert.ok(!describeEvent(notFound).includes(token), describeEvent(notFound));
  assert.match(describeEvent(notFound), /^refused GET of never-written from .*: 4\.04 Resource not found$/);
  await writeValues(r, token, [{ key: "k", value: 1 }]);
  const badQuery = await readKey(r, token, "k", ["limit=zero"]);
  assert.equal(badQuery.code, "4.00");
  assert.ok(ERROR(/limit/)(badQuery.json));
});

test("errors: bad writes are refused whole and store nothing", async () => {
  const token = await activate(r);
  const post = (payload: string | Buffer) =>
    r.client.request({ method: "POST", path: ["v2", "things", token], payload });
  const cases: [string | Buffer, string, RegExp][] = [
    ["{not json", "4.00", /Malformed JSON/],
    ["", "4.00", /Malformed JSON/],
    ['["x"]', "4.00", /JSON object/],
    ['{"values":[]}', "4.00", /empty/],
    ['{"values":"fun"}', "4.00", /array/],
    ['{"vals":[{"key":"fun","value":1}]}', "4.00", /array/],
    ['{"values":[{"key":"fun","value":1},{"key":"b a d","value":2}]}', "4.00", /values\[1\]\.key/],
    ['{"values":[{"key":"fun","value":1},{"key":"fun","value":null}]}', "4.00", /values\[1\]\.value/],
    ['{"values":[{"key":"fun","value":1},{"key":"fun","value":2,"datetime":"31/12/2024"}]}', "4.00", /datetime/],
    ['{"values":[{"key":"fun","value":1,"geo":{"lat":"north"}}]}', "4.00", /geo/],
    [JSON.stringify({ values: [{ key: "fun", value: "x".repeat(1100) }] }), "4.13", /larger than 1024/],
    [JSON.stringify({ values: [{ key: "fun", value: 1 }], pad: "x".repeat(2000) }), "4.13", /larger than 1024/],
  ];
  for (const [payload, code, message] of cases) {
    const reply = await post(payload);
    assert.equal(reply.code, code, `${String(payload).slice(0, 60)} → ${reply.text}`);
    assert.ok(ERROR(message)(reply.json), reply.text);
  }
  const tooBig = await post(JSON.stringify({ values: [{ key: "fun", value: 1 }], pad: "x".repeat(2000) }));
  assert.equal(tooBig.option("Size1")?.readUInt16BE(0), 1024, "4.13 tells the largest body taken");

  // A value that alone cannot fit in one notification: 4.13 though the body is within limits.
  const smallLimit = await running({ maxPayloadBytes: 4096 });
  try {
    const t = await activate(smallLimit);
    const reply = await writeValues(smallLimit, t, [
      { key: "ok", value: 1 },
      { key: "huge", value: "y".repeat(1500) },
    ]);
    assert.equal(reply.code, "4.13");
    assert.ok(ERROR(/one notification/)(reply.json), reply.text);
    assert.equal(
      (await readKey(smallLimit, t, "ok")).code,
      "4.04",
      "the small value of the refused write was not stored either",
    );
  } finally {
    await smallLimit.stop();
  }

  const read = await readKey(r, token, "fun", ["limit=100"]);
  assert.equal(read.code, "4.04", `nothing was stored: ${read.text}`);
});

test("errors: a body sent block-wise (Block1) gets 4.13 with Size1, nothing stored", async () => {
  const token = await activate(r);
  // Block1 0/M/1024 (RFC 7959 §2.2): NUM 0, M 1, SZX 6.
  const reply = await r.client.request({
    method: "POST",
    path: ["v2", "things", token],
    payload: "x".repeat(1024),
    options: [{ name: "Block1", value: Buffer.from([0x0e]) }],
  });
  assert.equal(reply.code, "4.13");
  assert.equal(reply.packet.ack, true, "piggybacked on the ACK of the CON request");
  assert.equal(reply.option("Size1")?.readUInt16BE(0), 1024);
  assert.ok(ERROR(/Block1/)(reply.json));
  assert.ok(r.events.some((e) => e.event === "refused" && e.code === "4.13" && e.method === "POST"));
});

test("NON requests get NON replies echoing the token; duplicates of a CON write are stored once", async () => {
  const token = await activate(r);
  const non = await r.client.request({
    method: "POST",
    path: ["v2", "things", token],
    payload: '{"values":[{"key":"non","value":1}]}',
    confirmable: false,
    token: Buffer.from("0123456789abcdef", "hex"),
  });
  assert.equal(non.code, "2.01");
  assert.equal(non.packet.confirmable, false);
  assert.equal(non.packet.ack, false, "a NON reply, not an ACK");
  assert.equal(non.packet.token.toString("hex"), "0123456789abcdef");

  // The same CON message three times (a retransmission the platform did not need): one value.
  const { generate } = await import("coap-packet");
  const other = await RawClient.open(r.platform.host, r.platform.port);
  try {
    const datagram = generate({
      messageId: 4242,
      token: Buffer.from([7]),
      code: "0.02",
      confirmable: true,
      options: ["v2", "things", token].map((p) => ({ name: "Uri-Path", value: Buffer.from(p) })),
      payload: Buffer.from('{"values":[{"key":"dup","value":1}]}'),
    });
    for (let i = 0; i < 3; i++) other.sendRaw(datagram);
    const replies = [];
    for (let i = 0; i < 3; i++) replies.push(await other.waitFor((p) => p.messageId === 4242));
    assert.ok(
      replies.every((p) => p.code === "2.01"),
      "each copy is answered",
    );
  } finally {
    other.close();
  }
  const read = await readKey(r, token, "dup", ["limit=10"]);
  assert.equal((read.json as unknown[]).length, 1, "stored once");
});

test("robustness: garbage datagrams and stray responses are survived; Observe on a POST is ignored", async () => {
  const token = await activate(r);
  r.client.sendRaw(Buffer.from([0xff, 0x00, 0x01]));
  r.client.sendRaw(Buffer.from("not coap at all"));
  const { generate } = await import("coap-packet");
  r.client.sendRaw(
    generate({ messageId: 1, code: "2.05", confirmable: true, payload: Buffer.from("a stray response") }),
  );
  const write = await r.client.request({
    method: "POST",
    path: ["v2", "things", token],
    observe: 0,
    payload: '{"values":[{"key":"obs","value":1}]}',
  });
  assert.equal(write.code, "2.01", write.text);
  assert.equal(write.option("Observe"), undefined);
  assert.deepEqual(
    ((await readKey(r, token, "obs")).json as { value: number }[]).map((v) => v.value),
    [1],
    "the platform still serves",
  );
});
