// The dashboard's HTTP API on a running platform: things, keys, history paging and
// downsampling, CSV, writes through the platform's write path, the live stream, its caps, the
// token, and hostile requests answered 4xx without effect.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { startPlatform } from "../../emulator/server.js";
import { activate, type Running, readKey, running, writeValues } from "./emulator/fixtures.js";
import { http, LiveStream, rawHttp } from "./emulator/http-client.js";
import { RawClient } from "./emulator/raw-client.js";
import { until } from "./emulator/tools.js";

// A clock the tests move; values written without a datetime get its time.
const START = Date.UTC(2024, 4, 1, 12, 0, 0);
let clock = START;
let r: Running;
let port: number;

before(async () => {
  r = await running({ now: () => clock, dashboard: { port: 0, maxClients: 3, flushMs: 50 } });
  port = r.platform.dashboard?.port ?? 0;
});
after(() => r.stop());

interface Thing {
  id: number;
  token: string;
  activatedAt: number;
  lastHeardAt: number | null;
  online: boolean;
  subscriptions: number;
  values: number;
}

async function things(): Promise<Thing[]> {
  const reply = await http(port, { path: "/api/things" });
  assert.equal(reply.status, 200);
  return (reply.json as { things: Thing[] }).things;
}

async function thingOf(token: string): Promise<Thing> {
  const found = (await things()).find((t) => t.token === token.slice(0, 4));
  assert.ok(found !== undefined, `thing ${token.slice(0, 4)} is listed`);
  return found;
}

async function subscribe(client: RawClient, token: string, keepAliveMs: number) {
  const observeToken = randomBytes(4);
  const first = await client.request({
    method: "GET",
    path: ["v2", "things", token],
    query: [`keepAlive=${keepAliveMs}`],
    observe: 0,
    token: observeToken,
  });
  assert.equal(first.code, "2.05");
  return observeToken;
}

/** Writes `count` values of `key`, one millisecond apart ending at `lastMs`, 15 per CoAP write. */
async function writeSeries(token: string, key: string, count: number, lastMs: number, value = (i: number) => i) {
  for (let from = 0; from < count; from += 15) {
    const items = [];
    for (let i = from; i < Math.min(count, from + 15); i++) {
      items.push({ key, value: value(i), datetime: new Date(lastMs - (count - 1 - i)).toISOString() });
    }
    const reply = await writeValues(r, token, items);
    assert.equal(reply.code, "2.01");
  }
}

test("dashboard: the platform prints its address; the page and its scripts are served", async () => {
  const url = r.platform.dashboard?.url;
  assert.equal(url, `http://127.0.0.1:${port}/`);
  assert.ok(r.events.some((e) => e.event === "dashboard" && e.url === url));
  const page = await http(port, { path: "/" });
  assert.equal(page.status, 200);
  assert.match(String(page.headers["content-type"]), /^text\/html/);
  assert.match(page.text, /<script type="module" src="\/app\/app.js">/);
  assert.match(String(page.headers["content-security-policy"]), /default-src 'self'/);
  for (const path of ["/app/app.js", "/style.css", "/vendor/uPlot.iife.min.js", "/vendor/uPlot.min.css"]) {
    const file = await http(port, { path });
    assert.equal(file.status, 200, path);
    assert.ok(file.text.length > 100, `${path} has content`);
  }
});

test("things: id, the token's first 4 characters only, activation and last-heard times, value count, online", async () => {
  clock = START;
  const token = await activate(r);
  let thing = await thingOf(token);
  assert.equal(thing.token, token.slice(0, 4));
  assert.equal(thing.activatedAt, START);
  assert.equal(thing.lastHeardAt, null, "activation names no token: not heard from yet");
  assert.equal(thing.values, 0);
  assert.equal(thing.online, false);
  assert.equal(thing.subscriptions, 0);

  clock = START + 1000;
  await writeValues(r, token, [
    { key: "temperature", value: 21.5 },
    { key: "humidity", value: 40 },
  ]);
  thing = await thingOf(token);
  assert.equal(thing.values, 2);
  assert.equal(thing.lastHeardAt, START + 1000);

  const raw = JSON.stringify(await http(port, { path: "/api/things" }));
  assert.ok(!raw.includes(token), "the token never leaves the platform whole");
  assert.ok(!raw.includes(token.slice(0, 5)), "not even its first five characters");
});

test("online: a subscription acknowledged within keepAlive + 5 s; an ACK to a keep-alive counts", async () => {
  clock = START;
  const token = await activate(r);
  const device = await RawClient.open(r.platform.host, r.platform.port);
  try {
    await subscribe(device, token, 200);
    let thing = await thingOf(token);
    assert.equal(thing.online, true, "just registered");
    assert.equal(thing.subscriptions, 1);

    // The clock moves past keepAlive + 5 s; the next keep-alive's ACK makes it online again.
    clock += 10_000;
    assert.ok(
      await untilAsync(async () => (await thingOf(token)).online, 3000),
      "an ACK to a keep-alive counts as acknowledged",
    );
    thing = await thingOf(token);
    assert.equal(thing.lastHeardAt, clock, "the ACK is hearing from it");

    // Silence: keep-alives go unanswered while the clock moves on.
    device.answerCon = false;
    await new Promise((resolve) => setTimeout(resolve, 300));
    clock += 5_201;
    assert.equal((await thingOf(token)).online, false, "no ACK within keepAlive + 5 s: offline");
    assert.equal((await thingOf(token)).subscriptions, 1, "the subscription itself is still open");
  } finally {
    device.close();
  }
});

async function untilAsync(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    if (await condition()) return true;
  }
  return condition();
}

test("keys: every key with its count and latest value; outputs from the latest device.boot", async () => {
  clock = START;
  const token = await activate(r);
  const { id } = await thingOf(token);
  await writeValues(r, token, [
    { key: "temperature", value: 20, datetime: "2024-05-01T11:59:00Z" },
    { key: "temperature", value: 21, datetime: "2024-05-01T11:59:30Z" },
    { key: "note", value: "hello" },
    { key: "device.boot", value: { firmware: "0.1.0", reset: "unknown", outputs: "led:digital,fan:pwm,bad,x:servo" } },
  ]);
  const reply = await http(port, { path: `/api/things/${id}/keys` });
  assert.equal(reply.status, 200);
  const body = reply.json as {
    keys: { key: string; count: number; latest: { value: unknown; datetime: number } }[];
    outputs: unknown[];
    more: boolean;
  };
  assert.deepEqual(
    body.keys.map((k) => [k.key, k.count]),
    [
      ["device.boot", 1],
      ["note", 1],
      ["temperature", 2],
    ],
  );
  assert.deepEqual(body.keys[2]?.latest, { value: 21, datetime: Date.parse("2024-05-01T11:59:30Z") });
  assert.deepEqual(body.keys[1]?.latest, { value: "hello", datetime: START });
  assert.deepEqual(body.outputs, [
    { key: "led", kind: "digital" },
    { key: "fan", kind: "pwm" },
  ]);
  assert.equal(body.more, false);
});

test("history: read in pages of 100 through the read path, past 100, equal datetimes across a page edge once", async () => {
  clock = START;
  const token = await activate(r);
  const { id } = await thingOf(token);
  // 250 values a millisecond apart, then 30 more sharing one millisecond that a page edge cuts.
  await writeSeries(token, "level", 250, START - 60_000);
  const tied = Array.from({ length: 30 }, (_, i) => ({
    key: "level",
    value: 1000 + i,
    datetime: new Date(START - 120_000).toISOString(),
  }));
  await writeValues(r, token, tied.slice(0, 15));
  await writeValues(r, token, tied.slice(15));
  await writeSeries(token, "level", 85, START - 130_000, (i) => 2000 + i);
  const reply = await http(port, { path: `/api/things/${id}/history?key=level&window=5m` });
  assert.equal(reply.status, 200);
  const h = reply.json as { t: number[]; v: number[]; read: number; downsampled: boolean; truncated: boolean };
  assert.equal(h.read, 365, "every value of the window read once");
  assert.equal(h.downsampled, false);
  assert.equal(h.truncated, false);
  assert.equal(new Set(h.v).size, 365, "none twice");
  assert.ok(
    h.t.every((t, i) => i === 0 || t >= (h.t[i - 1] as number)),
    "ascending in time",
  );
  assert.equal(h.v.at(-1), 249, "the newest last");

  const hour = (await http(port, { path: `/api/things/${id}/history?key=level&window=1h` })).json as { read: number };
  assert.equal(hour.read, 365);
  clock = START + 10 * 60_000;
  const later = (await http(port, { path: `/api/things/${id}/history?key=level&window=5m` })).json as { read: number };
  assert.equal(later.read, 0, "nothing in the last 5 minutes ten minutes on");
});

test("history: more than 2,000 values come as min and max per bucket, so a spike stays", async () => {
  clock = START;
  const token = await activate(r);
  const { id } = await thingOf(token);
  // 3,000 values over the last 100 s; one spike of 999 among them.
  await writeSeries(token, "noisy", 3000, START - 1, (i) => (i === 1234 ? 999 : i % 7));
  const h = (await http(port, { path: `/api/things/${id}/history?key=noisy&window=5m` })).json as {
    t: number[];
    v: number[];
    read: number;
    downsampled: boolean;
  };
  assert.equal(h.read, 3000);
  assert.equal(h.downsampled, true);
  assert.ok(h.t.length <= 2000, `${h.t.length} points`);
  assert.equal(Math.max(...h.v), 999, "the spike is kept");
  assert.equal(Math.min(...h.v), 0);
});

test("csv: the key's history newest first; strings as text, JSON values JSON-encoded, formula-looking text defused", async () => {
  clock = START;
  const token = await activate(r);
  const { id } = await thingOf(token);
  await writeValues(r, token, [
    { key: "mixed", value: 1.5, datetime: "2024-05-01T11:00:00Z" },
    { key: "mixed", value: 'a, "quoted" text', datetime: "2024-05-01T11:00:01Z" },
    { key: "mixed", value: { on: true, list: [1, 2] }, datetime: "2024-05-01T11:00:02Z" },
    { key: "mixed", value: "=HYPERLINK(1)", datetime: "2024-05-01T11:00:03Z", geo: { lat: 41.4, long: 2.17 } },
  ]);
  const reply = await http(port, { path: `/api/things/${id}/csv?key=mixed` });
  assert.equal(reply.status, 200);
  assert.match(String(reply.headers["content-type"]), /^text\/csv/);
  assert.match(String(reply.headers["content-disposition"]), /attachment; filename="thing-\d+-mixed-all.csv"/);
  assert.equal(
    reply.text,
    [
      "datetime,value,lat,long",
      "2024-05-01T11:00:03.000Z,'=HYPERLINK(1),41.4,2.17",
      '2024-05-01T11:00:02.000Z,"{""on"":true,""list"":[1,2]}",,',
      '2024-05-01T11:00:01.000Z,"a, ""quoted"" text",,',
      "2024-05-01T11:00:00.000Z,1.5,,",
      "",
    ].join("\r\n"),
  );
  const window = await http(port, { path: `/api/things/${id}/csv?key=mixed&window=5m` });
  assert.equal(window.text, "datetime,value,lat,long\r\n", "nothing in the last 5 minutes");
});

test("write: through the platform's write path, to the thing's CoAP subscribers like any write", async () => {
  clock = START;
  const token = await activate(r);
  const { id } = await thingOf(token);
  const device = await RawClient.open(r.platform.host, r.platform.port);
  try {
    const observeToken = await subscribe(device, token, 60_000);
    const reply = await http(port, {
      method: "POST",
      path: `/api/things/${id}/values`,
      body: JSON.stringify({ values: [{ key: "led", value: 1 }] }),
    });
    assert.equal(reply.status, 201);
    assert.deepEqual(reply.json, { status: "Success", message: "Created" });
    const pushed = await device.waitFor((p) => p.token.equals(observeToken) && p.code === "2.05");
    assert.deepEqual(JSON.parse(pushed.payload.toString()), [
      { key: "led", value: 1, datetime: new Date(START).toISOString() },
    ]);
    const read = await readKey(r, token, "led");
    assert.deepEqual(read.json, [{ key: "led", value: 1, datetime: new Date(START).toISOString() }]);
    const logged = [...r.events].reverse().find((e) => e.event === "write");
    assert.ok(logged !== undefined && logged.event === "write");
    assert.match(logged.from, /^dashboard 127\.0\.0\.1:\d+$/);
    assert.equal(logged.thing, `${token.slice(0, 4)}…(43)`);
  } finally {
    device.close();
  }
});

test("live: the lists on connect, the watched thing's values as they are stored, codes when made", async () => {
  clock = START;
  const token = await activate(r);
  const { id } = await thingOf(token);
  const other = await activate(r);
  const stream = await LiveStream.open(port, `/api/events?thing=${id}`);
  try {
    assert.equal(stream.status, 200);
    const listed = await stream.waitFor((e) => e.event === "things");
    assert.ok((listed.data as { things: Thing[] }).things.some((t) => t.id === id));
    await stream.waitFor((e) => e.event === "codes");

    await writeValues(r, other, [{ key: "elsewhere", value: 1 }]);
    await writeValues(r, token, [{ key: "temperature", value: 22.25, datetime: "2024-05-01T12:00:00Z" }]);
    const values = await stream.waitFor((e) => e.event === "values");
    assert.deepEqual(values.data, {
      thing: id,
      items: [{ key: "temperature", value: 22.25, datetime: Date.parse("2024-05-01T12:00:00Z") }],
      overflow: false,
    });
    assert.ok(
      !stream.events.some((e) => e.event === "values" && (e.data as { thing: number }).thing !== id),
      "only the watched thing's values",
    );

    const made = await http(port, { method: "POST", path: "/api/codes", body: "{}" });
    assert.equal(made.status, 201);
    const code = (made.json as { code: string }).code;
    assert.match(code, /^[A-Za-z0-9]{34}$/);
    const codes = await stream.waitFor(
      (e) => e.event === "codes" && (e.data as { codes: { code: string }[] }).codes.some((c) => c.code === code),
    );
    assert.ok(
      (codes.data as { codes: { code: string; used: boolean }[] }).codes.find((c) => c.code === code)?.used === false,
    );
    const list = (await http(port, { path: "/api/codes" })).json as { codes: { code: string; used: boolean }[] };
    assert.ok(
      list.codes.some((c) => c.used),
      "used codes are listed as used",
    );
    assert.ok(list.codes.some((c) => c.code === code && !c.used));
  } finally {
    stream.close();
  }
  assert.ok(await until(() => r.platform.dashboard?.clientCount() === 0), "a closed page is forgotten");
});

test("caps: live pages beyond the limit get 503; a window beyond 24 h is refused", async () => {
  const streams = await Promise.all([1, 2, 3].map(() => LiveStream.open(port, "/api/events")));
  try {
    assert.deepEqual(
      streams.map((s) => s.status),
      [200, 200, 200],
    );
    const fourth = await http(port, { path: "/api/events" });
    assert.equal(fourth.status, 503);
    assert.equal(r.platform.dashboard?.stats().refused, 1);
  } finally {
    for (const s of streams) s.close();
  }
  assert.ok(await until(() => r.platform.dashboard?.clientCount() === 0));
  const again = await LiveStream.open(port, "/api/events");
  assert.equal(again.status, 200, "room again once pages close");
  again.close();

  const token = await activate(r);
  const { id } = await thingOf(token);
  await writeValues(r, token, [{ key: "t", value: 1 }]);
  const week = await http(port, { path: `/api/things/${id}/history?key=t&window=7d` });
  assert.equal(week.status, 400);
});

test("hostile requests: 4xx, nothing stored, nothing made", async () => {
  clock = START;
  const token = await activate(r);
  const { id } = await thingOf(token);
  await writeValues(r, token, [{ key: "t", value: 1 }]);
  const codesBefore = ((await http(port, { path: "/api/codes" })).json as { codes: unknown[] }).codes.length;
  const post = (body: string | Buffer, headers: Record<string, string> = {}, path = `/api/things/${id}/values`) =>
    http(port, { method: "POST", path, body, headers });

  const cases: [string, Promise<{ status: number }>, number][] = [
    ["bad JSON", post("{nope"), 400],
    ["not UTF-8", post(Buffer.from([0x7b, 0xff, 0x7d])), 400],
    ["an array body", post("[]"), 400],
    ["a huge body", post(JSON.stringify({ values: [{ key: "t", value: "x".repeat(5000) }] })), 413],
    ["a value too big to notify", post(JSON.stringify({ values: [{ key: "t", value: "x".repeat(1000) }] })), 413],
    ["an unknown member", post(JSON.stringify({ values: [{ key: "t", value: 2 }], extra: 1 })), 400],
    ["an unknown item member", post(JSON.stringify({ values: [{ key: "t", value: 2, unit: "C" }] })), 400],
    ["a bad key", post(JSON.stringify({ values: [{ key: "t/../x", value: 2 }] })), 400],
    ["a boolean value", post(JSON.stringify({ values: [{ key: "t", value: true }] })), 400],
    ["no values", post(JSON.stringify({ values: [] })), 400],
    ["a form post", post("values=1", { "Content-Type": "application/x-www-form-urlencoded" }), 415],
    [
      "another origin",
      post(JSON.stringify({ values: [{ key: "t", value: 2 }] }), { Origin: "http://evil.example" }),
      403,
    ],
    ["another Host", post(JSON.stringify({ values: [{ key: "t", value: 2 }] }), { Host: "evil.example" }), 421],
    ["a code with a body", post('{"code":"MINE"}', {}, "/api/codes"), 400],
    ["a code as a form", post("", { "Content-Type": "text/plain" }, "/api/codes"), 415],
    [
      "an unknown thing",
      post(JSON.stringify({ values: [{ key: "t", value: 2 }] }), {}, "/api/things/99999/values"),
      404,
    ],
    ["a GET write", http(port, { path: `/api/things/${id}/values` }), 405],
    ["an unknown key's history", http(port, { path: `/api/things/${id}/history?key=never&window=5m` }), 404],
    ["a bad key's history", http(port, { path: `/api/things/${id}/history?key=a%2Fb` }), 400],
    ["an unknown parameter", http(port, { path: `/api/things/${id}/history?key=t&limit=5` }), 400],
    ["a parameter twice", http(port, { path: `/api/things/${id}/history?key=t&key=u` }), 400],
    ["a malformed escape", http(port, { path: `/api/things/${id}/history?key=%E0%A4%A` }), 400],
    ["a leading zero id", http(port, { path: "/api/things/01/keys" }), 404],
    ["a hex id", http(port, { path: "/api/things/0x1/keys" }), 404],
    ["an escaped id", http(port, { path: "/api/things/%31/keys" }), 404],
    ["dot segments", http(port, { path: `/api/things/${id}/../../codes` }), 404],
    ["dot segments to a file", http(port, { path: "/app/../../package.json" }), 404],
    ["escaped dot segments", http(port, { path: "/vendor/%2e%2e/%2e%2e/package.json" }), 404],
    ["a double slash", http(port, { path: "//api/things" }), 404],
    ["a file with a query", http(port, { path: "/style.css?x=1" }), 400],
    ["a long target", http(port, { path: `/api/things?${"a".repeat(3000)}` }), 414],
    ["a token when none is set", http(port, { path: "/api/things?token=abc" }), 200],
  ];
  for (const [name, reply, status] of cases) assert.equal((await reply).status, status, name);

  const absolute = await rawHttp(
    port,
    `GET http://127.0.0.1:${port}/api/things HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`,
  );
  assert.match(absolute, /^HTTP\/1\.1 400 /, "an absolute-form target");
  const declaredHuge = await rawHttp(
    port,
    `POST /api/things/${id}/values HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
      "Content-Length: 10000000\r\n\r\n{",
  );
  assert.match(declaredHuge, /^HTTP\/1\.1 413 /, "a body declared huge is refused before it is read");

  const read = await readKey(r, token, "t", ["limit=100"]);
  assert.deepEqual(
    (read.json as { value: unknown }[]).map((v) => v.value),
    [1],
    "nothing was stored",
  );
  assert.equal((await thingOf(token)).values, 1);
  const codesAfter = ((await http(port, { path: "/api/codes" })).json as { codes: unknown[] }).codes.length;
  assert.equal(codesAfter, codesBefore, "no code was made");
});

test("token: required on every request when set, as Bearer, cookie or ?token= (which sets the cookie)", async () => {
  const token = "s3cret-dashboard-token-0123";
  const platform = await startPlatform({ port: 0, dashboard: { port: 0, token } });
  try {
    const p = platform.dashboard?.port ?? 0;
    assert.equal((await http(p, { path: "/api/things" })).status, 401);
    assert.equal((await http(p, { path: "/" })).status, 401, "the page too");
    assert.equal((await http(p, { path: "/api/events" })).status, 401, "the live stream too");
    assert.equal(
      (await http(p, { path: "/api/things", headers: { Authorization: "Bearer wrong-token-0000000000" } })).status,
      401,
    );
    assert.equal((await http(p, { path: "/api/things", headers: { Authorization: `Bearer ${token}` } })).status, 200);
    const viaQuery = await http(p, { path: `/?token=${token}` });
    assert.equal(viaQuery.status, 200);
    const cookie = String(viaQuery.headers["set-cookie"]);
    assert.match(cookie, /^dashboard-token=s3cret-dashboard-token-0123; HttpOnly; SameSite=Strict; Path=\//);
    assert.equal(
      (await http(p, { path: "/api/things", headers: { Cookie: cookie.split(";")[0] as string } })).status,
      200,
    );
    const made = await http(p, { method: "POST", path: "/api/codes", body: "{}" });
    assert.equal(made.status, 401, "no code made without the token");
    assert.equal(platform.activationCodes.length, 1);
    // With a token, the Host may be any name the machine is reached by.
    const byName = await http(p, {
      path: "/api/things",
      headers: { Host: "my-pc.local:8088", Authorization: `Bearer ${token}` },
    });
    assert.equal(byName.status, 200);
  } finally {
    await platform.stop();
  }
});

test("start: another address than loopback needs a token; a weak token or a port in use is refused", async () => {
  await assert.rejects(startPlatform({ port: 0, dashboard: { host: "0.0.0.0", port: 0 } }), /needs --dashboard-token/);
  await assert.rejects(startPlatform({ port: 0, dashboard: { port: 0, token: "short" } }), /16 to 256/);
  await assert.rejects(
    startPlatform({ port: 0, dashboard: { port } }),
    /the dashboard's port \d+ on 127\.0\.0\.1 is in use \(--http-port 0 picks a free one\)/,
  );
});
