// `npm run platform` as a process: it prints where it listens and what happens (one JSON object
// per line with --json), keeps things and values in the --db file across a restart, makes and
// prints an activation code when given none, and stops cleanly on SIGTERM and SIGINT.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { type Finished, finished, Lines, PLATFORM_CLI, run } from "./emulator/tools.js";

const dir = mkdtempSync(join(tmpdir(), "platform-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Cli {
  child: ChildProcess;
  lines: Lines;
  port: number;
  listening: { activationCodes: string[]; host: string; db: string };
  exit: Promise<Finished>;
}

async function startCli(args: string[]): Promise<Cli> {
  const child = spawn(process.execPath, [PLATFORM_CLI, "--port", "0", "--http-port", "0", "--json", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exit = finished(child, 30_000);
  const lines = new Lines(child);
  const listening = JSON.parse(await lines.waitFor((l) => l.includes('"listening"'))) as Cli["listening"] & {
    port: number;
  };
  return { child, lines, port: listening.port, listening, exit };
}

async function coap(args: string[]) {
  const out = await run("coap-client-notls", ["-B", "5", ...args]);
  return { stdout: out.stdout.trim(), stderr: out.stderr.trim() };
}

test("cli: --db keeps things and values across a restart; --json prints one event per line; SIGTERM stops it", async () => {
  const db = join(dir, "platform.sqlite");
  const first = await startCli(["--db", db, "--activation-code", "PERSIST-CODE"]);
  assert.equal(first.listening.host, "127.0.0.1", "loopback unless told otherwise");
  assert.equal(first.listening.db, db);
  assert.deepEqual(first.listening.activationCodes, ["PERSIST-CODE"]);
  const base = `coap://127.0.0.1:${first.port}`;
  const activated = JSON.parse(
    (await coap(["-m", "post", "-e", '{"activationCode":"PERSIST-CODE"}', `${base}/v2/things/`])).stdout,
  ) as { thingToken: string };
  const token = activated.thingToken;
  await coap([
    "-m",
    "post",
    "-e",
    '{"values":[{"key":"fun","value":"9000","datetime":"20150130153533"}]}',
    `${base}/v2/things/${token}`,
  ]);
  await first.lines.waitFor((l) => l.includes('"write"'));
  first.child.kill("SIGTERM");
  const firstExit = await first.exit;
  assert.equal(firstExit.code, 0, firstExit.stderr);
  assert.ok(first.lines.all.some((l) => l.includes('"stopped"')));

  // Every line is a JSON object with an event; none holds the whole token.
  const events = first.lines.all.map((l) => JSON.parse(l) as { event: string; time: string; thing?: string });
  assert.deepEqual(
    events.map((e) => e.event),
    ["dashboard", "listening", "activated", "write", "stopped"],
  );
  assert.ok(events.every((e) => !Number.isNaN(Date.parse(e.time))));
  assert.equal(events[2]?.thing, `${token.slice(0, 4)}…(43)`);
  assert.ok(!first.lines.all.join("\n").includes(token), "the token is never printed whole");

  const second = await startCli(["--db", db, "--activation-code", "PERSIST-CODE"]);
  try {
    const base2 = `coap://127.0.0.1:${second.port}`;
    const read = await coap(["-m", "get", `${base2}/v2/things/${token}/resources/fun?limit=10`]);
    assert.deepEqual(JSON.parse(read.stdout), [{ key: "fun", value: "9000", datetime: "2015-01-30T15:35:33.000Z" }]);
    const reused = await coap(["-m", "post", "-e", '{"activationCode":"PERSIST-CODE"}', `${base2}/v2/things/`]);
    assert.match(
      reused.stderr,
      /^4\.00 \{"status":"error","message":"Error creating thing"\}/,
      "the code stays used after the restart",
    );
  } finally {
    second.child.kill("SIGINT");
    assert.equal((await second.exit).code, 0, "SIGINT stops it cleanly too");
  }
});

test("cli: with no code it makes one and prints it; text output names activations, writes and subscriptions", async () => {
  const child = spawn(process.execPath, [PLATFORM_CLI, "--port", "0", "--http-port", "0", "--keep-alive", "500"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exit = finished(child, 30_000);
  const lines = new Lines(child);
  try {
    assert.match(
      await lines.waitFor(() => true),
      /^\S+ dashboard on http:\/\/127\.0\.0\.1:\d+\/$/,
      "the address first",
    );
    const listening = await lines.waitFor((l) => l.includes("listening on"));
    const match = /coap:\/\/127\.0\.0\.1:(\d+) .*activation codes: ([A-Za-z0-9]{34})$/.exec(listening);
    assert.ok(match, listening);
    const [, port, code] = match;
    const base = `coap://127.0.0.1:${port}`;
    const { thingToken } = JSON.parse(
      (await coap(["-m", "post", "-e", `{"activationCode":"${code}"}`, `${base}/v2/things/`])).stdout,
    ) as { thingToken: string };
    await lines.waitFor((l) => /activated thing .{4}…\(43\)/.test(l));
    const observer = coap(["-s", "2", "-m", "get", `${base}/v2/things/${thingToken}`]);
    await lines.waitFor((l) => /subscription to .{4}…\(43\) from 127\.0\.0\.1:\d+ \(CON, keepAlive 500 ms\)/.test(l));
    await coap(["-m", "post", "-e", '{"values":[{"key":"fun","value":1}]}', `${base}/v2/things/${thingToken}`]);
    await lines.waitFor((l) => /write to .{4}…\(43\) from 127\.0\.0\.1:\d+: 1 value\(s\), keys fun/.test(l));
    assert.match((await observer).stdout, /\[\{"key":"fun","value":1,/);
  } finally {
    child.kill("SIGTERM");
  }
  assert.equal((await exit).code, 0);
});

test("cli: --keep-alive takes the device's duration grammar: a unit, or a bare number of milliseconds", async () => {
  const cli = await startCli(["--keep-alive", "1.5s", "--activation-code", "KEEPALIVE-UNIT-CODE"]);
  try {
    const base = `coap://127.0.0.1:${cli.port}`;
    const { thingToken } = JSON.parse(
      (await coap(["-m", "post", "-e", '{"activationCode":"KEEPALIVE-UNIT-CODE"}', `${base}/v2/things/`])).stdout,
    ) as { thingToken: string };
    const observer = coap(["-s", "2", "-m", "get", `${base}/v2/things/${thingToken}`]);
    const subscribed = JSON.parse(await cli.lines.waitFor((l) => l.includes('"subscribed"'))) as {
      keepAliveMs: number;
    };
    assert.equal(subscribed.keepAliveMs, 1_500, "1.5s is 1500 ms");
    await observer;
  } finally {
    cli.child.kill("SIGTERM");
  }
  assert.equal((await cli.exit).code, 0);
  const help = await run(process.execPath, [PLATFORM_CLI, "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--keep-alive DURATION/);
  assert.match(help.stdout, /a bare\s+number is milliseconds/);
});

test("cli: bad arguments are refused with usage and exit code 2", async () => {
  const out = await run(process.execPath, [PLATFORM_CLI, "--port", "70000"]);
  assert.equal(out.code, 2);
  assert.match(out.stderr, /--port must be a whole number/);
  assert.match(out.stderr, /usage: npm run platform/);
  for (const keepAlive of ["10sec", "2d", "1.5", "1e3", "25h"]) {
    const bad = await run(process.execPath, [PLATFORM_CLI, "--keep-alive", keepAlive]);
    assert.equal(bad.code, 2, keepAlive);
    assert.match(
      bad.stderr,
      /--keep-alive must be a duration from 0 to 86400000 ms \(e\.g\. 500ms, 10s, 2m, 1h; a bare number is milliseconds\)/,
      keepAlive,
    );
  }
  const unknown = await run(process.execPath, [PLATFORM_CLI, "--frobnicate"]);
  assert.equal(unknown.code, 2);
});

test("cli: the dashboard's address comes first; --http-host off loopback needs --dashboard-token", async () => {
  const cli = await startCli(["--activation-code", "DASHBOARD-CLI-CODE"]);
  try {
    const first = JSON.parse(cli.lines.all[0] ?? "") as { event: string; url: string };
    assert.equal(first.event, "dashboard");
    assert.match(first.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const codes = (await (await fetch(`${first.url}api/codes`)).json()) as { codes: { code: string }[] };
    assert.deepEqual(
      codes.codes.map((c) => c.code),
      ["DASHBOARD-CLI-CODE"],
    );
  } finally {
    cli.child.kill("SIGTERM");
  }
  assert.equal((await cli.exit).code, 0);

  const exposed = await run(process.execPath, [PLATFORM_CLI, "--port", "0", "--http-host", "0.0.0.0"]);
  assert.equal(exposed.code, 2);
  assert.match(exposed.stderr, /--http-host 0\.0\.0\.0 is not loopback: the dashboard there needs --dashboard-token/);
  const weak = await run(process.execPath, [PLATFORM_CLI, "--port", "0", "--dashboard-token", "abc"]);
  assert.equal(weak.code, 2);
  assert.match(weak.stderr, /--dashboard-token must be 16 to 256/);
  const badPort = await run(process.execPath, [PLATFORM_CLI, "--http-port", "-1"]);
  assert.equal(badPort.code, 2);
  const help = await run(process.execPath, [PLATFORM_CLI, "--help"]);
  assert.match(help.stdout, /--http-port +TCP port of the web dashboard, 0 for any free one \(default 8088\)/);
});
