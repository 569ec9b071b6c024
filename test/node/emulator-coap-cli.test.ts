// The platform guide's own commands, run with the tool it teaches (coap-cli 0.7.1) against the
// local platform, give the documented answers. coap-cli prints the payload on stdout and the
// response code on stderr, and exits 0 on 4.xx: the tests read both streams.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, test } from "node:test";
import { activate, type Running, readKey, running, writeValues } from "./emulator/fixtures.js";
import { COAP_CLI, coapCliCodes, finished, Lines, run } from "./emulator/tools.js";

let r: Running;
let base: string;
before(async () => {
  r = await running({ activationCodes: ["ACTIVATION-CODE-FROM-THE-GUIDE"] });
  base = `coap://127.0.0.1:${r.platform.port}`;
});
after(() => r.stop());

test("coap-cli: activate, then the same code again", async () => {
  const ok = await run(COAP_CLI, [
    "post",
    `${base}/v2/things/`,
    "-p",
    '{"activationCode" : "ACTIVATION-CODE-FROM-THE-GUIDE"}',
  ]);
  assert.deepEqual(coapCliCodes(ok.stderr), ["2.01"]);
  const body = JSON.parse(ok.stdout) as { status: string; thingToken: string };
  assert.equal(body.status, "created");
  assert.match(body.thingToken, /^[A-Za-z0-9_-]{43}$/);

  const used = await run(COAP_CLI, [
    "post",
    `${base}/v2/things/`,
    "-p",
    '{"activationCode" : "ACTIVATION-CODE-FROM-THE-GUIDE"}',
  ]);
  assert.deepEqual(coapCliCodes(used.stderr), ["4.00"]);
  assert.deepEqual(JSON.parse(used.stdout), { status: "error", message: "Error creating thing" });
});

test("coap-cli: write, as in the guide", async () => {
  const token = await activate(r);
  const w = await run(COAP_CLI, [
    "post",
    `${base}/v2/things/${token}`,
    "-p",
    '{"values":[{"key":"fun","value":"9000"}]}',
  ]);
  assert.deepEqual(coapCliCodes(w.stderr), ["2.01"]);
  assert.deepEqual(JSON.parse(w.stdout), { status: "Success", message: "Created" });
  const stored = await readKey(r, token, "fun");
  assert.deepEqual(
    (stored.json as { value: unknown }[]).map((v) => v.value),
    ["9000"],
  );
});

test("coap-cli: read with ?limit=10 — coap-cli 0.7.1 drops the query, so the platform's default limit of 1 applies", async () => {
  const token = await activate(r);
  await writeValues(
    r,
    token,
    [1, 2, 3].map((n) => ({ key: "fun", value: String(9000 + n), datetime: `2015-01-30T15:35:3${n}Z` })),
  );
  const read = await run(COAP_CLI, ["get", `${base}/v2/things/${token}/resources/fun?limit=10`]);
  assert.deepEqual(coapCliCodes(read.stderr), ["2.05"]);
  // Three values exist; a query that arrived would have returned all three.
  assert.deepEqual(JSON.parse(read.stdout), [{ key: "fun", value: "9003", datetime: "2015-01-30T15:35:33.000Z" }]);
});

test("coap-cli: get -o receives a notification when another client writes", async () => {
  const token = await activate(r);
  const observer = spawn(COAP_CLI, ["get", "-o", `${base}/v2/things/${token}`], { stdio: ["ignore", "pipe", "pipe"] });
  const done = finished(observer, 20_000);
  try {
    const lines = new Lines(observer);
    assert.deepEqual(JSON.parse(await lines.waitFor((l) => l.includes("subscribed"))), {
      status: "success",
      message: "subscribed",
    });
    const w = await run(COAP_CLI, [
      "post",
      `${base}/v2/things/${token}`,
      "-p",
      '{"values":[{"key":"fun","value":"9000"}]}',
    ]);
    assert.deepEqual(coapCliCodes(w.stderr), ["2.01"]);
    const pushed = JSON.parse(await lines.waitFor((l) => l.startsWith("["))) as {
      key: string;
      value: unknown;
      datetime: string;
    }[];
    assert.equal(pushed.length, 1);
    assert.equal(pushed[0]?.key, "fun");
    assert.equal(pushed[0]?.value, "9000");
    assert.match(pushed[0]?.datetime ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  } finally {
    observer.kill("SIGTERM");
    await done;
  }
});
