// The local platform against libcoap's coap-client-notls: the guide's operations, real Uri-Query
// reads with paging, a 100-value read over Block2, subscriptions, the error cases, and IPv6
// loopback. coap-client-notls prints a success payload on stdout and "CODE payload" on stderr for
// 4.xx/5.xx, exiting 0 either way.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, test } from "node:test";
import { activate, type Running, running } from "./emulator/fixtures.js";
import { finished, Lines, run, until } from "./emulator/tools.js";

const CLIENT = "coap-client-notls";
let r: Running;
let base: string;
before(async () => {
  r = await running({ activationCodes: ["LIBCOAP-CODE"] });
  base = `coap://127.0.0.1:${r.platform.port}`;
});
after(() => r.stop());

/** coap-client-notls with a 5 s ceiling (-B); its output as payload text and error line. */
async function client(args: string[]) {
  const out = await run(CLIENT, ["-B", "5", ...args]);
  const error = /^(\d\.\d\d) (.*)$/m.exec(out.stderr);
  return {
    stdout: out.stdout.trim(),
    errorCode: error?.[1],
    errorBody: error?.[2] === undefined ? undefined : (JSON.parse(error[2]) as unknown),
  };
}
const post = (path: string, payload: string) => client(["-m", "post", "-e", payload, `${base}${path}`]);
const get = (pathAndQuery: string) => client(["-m", "get", `${base}${pathAndQuery}`]);
const valuesOf = (stdout: string) => (JSON.parse(stdout) as { value: unknown }[]).map((v) => v.value);

test("libcoap: activate; a used or unknown code gets the documented error", async () => {
  const ok = await post("/v2/things/", '{"activationCode":"LIBCOAP-CODE"}');
  assert.equal(ok.errorCode, undefined);
  const body = JSON.parse(ok.stdout) as { status: string; thingToken: string };
  assert.equal(body.status, "created");
  assert.match(body.thingToken, /^[A-Za-z0-9_-]{43}$/);
  for (const code of ["LIBCOAP-CODE", "NO-SUCH-CODE"]) {
    const refused = await post("/v2/things/", `{"activationCode":"${code}"}`);
    assert.equal(refused.errorCode, "4.00");
    assert.deepEqual(refused.errorBody, { status: "error", message: "Error creating thing" });
  }
});

test("libcoap: write, then read with a real ?limit=10 (and with the query in the path)", async () => {
  const token = await activate(r);
  const w = await post(`/v2/things/${token}`, '{"values":[{"key":"fun","value":"9000"}]}');
  assert.deepEqual(JSON.parse(w.stdout), { status: "Success", message: "Created" });
  await post(`/v2/things/${token}`, '{"values":[{"key":"fun","value":"9001"},{"key":"fun","value":"9002"}]}');
  const read = await get(`/v2/things/${token}/resources/fun?limit=10`);
  // Newest first; 9001 and 9002 share their arrival time, and the later-written comes first.
  assert.deepEqual(valuesOf(read.stdout), ["9002", "9001", "9000"]);
  const items = JSON.parse(read.stdout) as { key: string; value: string; datetime: string }[];
  assert.equal(items.length, 3);
  assert.ok(items.every((i) => i.key === "fun" && /Z$/.test(i.datetime)));
  assert.ok(
    items[0]?.datetime !== undefined && items[2]?.datetime !== undefined && items[0].datetime >= items[2].datetime,
    "newest first",
  );
  // libcoap percent-encodes a '?' inside a segment: %3F puts it in the Uri-Path option.
  const embedded = await get(`/v2/things/${token}/resources/fun%3Flimit=2`);
  assert.equal((JSON.parse(embedded.stdout) as unknown[]).length, 2);
});

test("libcoap: paging with startDate/endDate in both date forms", async () => {
  const token = await activate(r);
  for (let batch = 0; batch < 3; batch++) {
    const values = Array.from({ length: 10 }, (_, i) => ({
      key: "p",
      value: batch * 10 + i,
      datetime: `201501301535${String(batch * 10 + i).padStart(2, "0")}`,
    }));
    assert.equal(JSON.parse((await post(`/v2/things/${token}`, JSON.stringify({ values }))).stdout).status, "Success");
  }
  const window = await get(
    `/v2/things/${token}/resources/p?limit=100&startDate=20150130153510&endDate=2015-01-30T15:35:14.000Z`,
  );
  assert.deepEqual(valuesOf(window.stdout), [14, 13, 12, 11, 10]);
  const newest = await get(`/v2/things/${token}/resources/p?limit=10`);
  const oldestShown = (JSON.parse(newest.stdout) as { datetime: string }[]).at(-1)?.datetime;
  assert.equal(oldestShown, "2015-01-30T15:35:20.000Z");
  const older = await get(`/v2/things/${token}/resources/p?limit=10&endDate=20150130153519`);
  assert.deepEqual(valuesOf(older.stdout), [19, 18, 17, 16, 15, 14, 13, 12, 11, 10]);
});

test("libcoap: a 100-value read comes whole over Block2 (-B waits for every block)", async () => {
  const token = await activate(r);
  for (let batch = 0; batch < 12; batch++) {
    const values = Array.from({ length: 10 }, (_, i) => ({
      key: "big",
      value: `v${batch * 10 + i}`,
      datetime: new Date(Date.UTC(2024, 0, 1) + (batch * 10 + i) * 1000).toISOString(),
    }));
    await post(`/v2/things/${token}`, JSON.stringify({ values }));
  }
  const url = `${base}/v2/things/${token}/resources/big?limit=100`;
  const body = JSON.parse((await run(CLIENT, ["-B", "10", "-m", "get", url])).stdout) as { value: string }[];
  assert.equal(body.length, 100);
  assert.equal(body[0]?.value, "v119");
  assert.equal(body[99]?.value, "v20");
  assert.ok(JSON.stringify(body).length > 1024, "the body is larger than one block");
  const verbose = await run(CLIENT, ["-v", "6", "-B", "10", "-m", "get", url]);
  assert.match(verbose.stdout, /t:ACK c:2\.05 .*Block2:1\//, "a second block was asked for and received");
});

test("libcoap: subscribe (-s) and receive a write made by another client", async () => {
  const token = await activate(r);
  const observer = spawn(
    CLIENT,
    ["-w", "-s", "4", "-B", "6", "-m", "get", `${base}/v2/things/${token}?keepAlive=1000`],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const done = finished(observer, 10_000);
  const lines = new Lines(observer);
  await lines.waitFor((l) => l.includes('"subscribed"'));
  await post(`/v2/things/${token}`, '{"values":[{"key":"fun","value":"9000"}]}');
  const pushed = JSON.parse(await lines.waitFor((l) => l.startsWith("["))) as { key: string; value: string }[];
  assert.deepEqual(
    pushed.map((p) => [p.key, p.value]),
    [["fun", "9000"]],
  );
  await lines.waitFor((l) => l === "{}", 3000);
  const end = await done;
  assert.equal(end.code, 0);
  // When -s runs out, libcoap deregisters (GET with Observe 1) and exits without waiting for the
  // reply; the platform lets go as soon as that request is in.
  assert.ok(await until(() => r.platform.subscriberCount() === 0), "deregistered");
  assert.ok(r.events.some((e) => e.event === "unsubscribed" && e.reason === "deregistered"));
});

test("libcoap: every error case gets its code and a JSON error body, and stores nothing", async () => {
  const token = await activate(r);
  // What the platform saw, for the failure message: which client port got which answer.
  const since = r.events.length;
  const fake = "Z".repeat(43);
  const big = JSON.stringify({ values: Array.from({ length: 40 }, (_, i) => ({ key: "fun", value: `value-${i}` })) });
  const cases: [Promise<Awaited<ReturnType<typeof client>>>, string, RegExp][] = [
    [post(`/v2/things/${fake}`, '{"values":[{"key":"fun","value":1}]}'), "4.04", /Thing not found/],
    [get(`/v2/things/${fake}/resources/fun`), "4.04", /Thing not found/],
    [post(`/v2/things/${token}`, "{values:"), "4.00", /Malformed JSON/],
    [post(`/v2/things/${token}`, '{"values":[]}'), "4.00", /empty/],
    [post(`/v2/things/${token}`, '{"values":[{"key":"no spaces","value":1}]}'), "4.00", /key/],
    [post(`/v2/things/${token}`, '{"values":[{"key":"fun","value":1,"datetime":"yesterday"}]}'), "4.00", /datetime/],
    [post(`/v2/things/${token}`, big), "4.13", /larger than 1024/],
    [get("/v2/nothing/here"), "4.04", /Not found/],
    [get(`/v2/things/${token}/resources/fun?limit=-3`), "4.04", /Resource not found/],
  ];
  for (const [pending, code, message] of cases) {
    const reply = await pending;
    assert.equal(reply.errorCode, code, `${JSON.stringify(reply)}; platform: ${JSON.stringify(r.events.slice(since))}`);
    assert.equal((reply.errorBody as { status: string }).status, "error");
    assert.match((reply.errorBody as { message: string }).message, message);
  }
  const read = await get(`/v2/things/${token}/resources/fun?limit=100`);
  assert.equal(read.errorCode, "4.04", "none of the refused writes stored anything");
});

test("libcoap: the platform serves on IPv6 loopback too", async () => {
  const v6 = await running({ host: "::1" });
  try {
    const code = v6.platform.addActivationCode();
    const out = await run(CLIENT, [
      "-B",
      "5",
      "-m",
      "post",
      "-e",
      `{"activationCode":"${code}"}`,
      `coap://[::1]:${v6.platform.port}/v2/things/`,
    ]);
    assert.equal((JSON.parse(out.stdout) as { status: string }).status, "created");
    assert.ok(v6.events.some((e) => e.event === "activated" && e.from.startsWith("[::1]:")));
  } finally {
    await v6.stop();
  }
});
