// `npm start` (host/demo.ts) as a process: the dashboard's address comes first, the device runs
// with a led and a fan output, the scripted led writes pause while a dashboard page is open and
// resume when it closes, and with --seconds 0 it runs until SIGINT.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { http, LiveStream } from "./emulator/http-client.js";
import { finished, Lines, REPO } from "./emulator/tools.js";

const DEMO = `${REPO}build/host/demo.js`;

test("npm start: dashboard address first, led and fan, scripted led writes only while no page is open", async () => {
  const child = spawn(process.execPath, [DEMO, "--seconds", "0", "--http-port", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exit = finished(child, 60_000);
  const lines = new Lines(child);
  let stream: LiveStream | undefined;
  try {
    const first = await lines.waitFor(() => true);
    const match = /dashboard: (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(first);
    assert.ok(match, `the first line names the dashboard: ${first}`);
    const port = Number(match[2]);
    await lines.waitFor((l) => l.includes("running until Ctrl-C"));

    // The device declares both outputs in its device.boot (it rides with the first batch).
    await lines.waitFor((l) => l.includes("batch of"), 15_000);
    const keys = (await http(port, { path: "/api/things/1/keys" })).json as { outputs: unknown[] };
    assert.deepEqual(keys.outputs, [
      { key: "led", kind: "digital" },
      { key: "fan", kind: "pwm" },
    ]);

    // A page open at the 7 s tick: no scripted write, and the pause is said.
    stream = await LiveStream.open(port, "/api/events?thing=1");
    assert.equal(stream.status, 200);
    await lines.waitFor((l) => l.includes("scripted led writes paused"), 10_000);
    stream.close();
    stream = undefined;
    await lines.waitFor((l) => l.includes("scripted led writes resume"), 10_000);
    const from = lines.all.findIndex((l) => l.includes("scripted led writes paused"));
    const to = lines.all.findIndex((l) => l.includes("scripted led writes resume"));
    assert.ok(
      !lines.all.slice(from, to).some((l) => l.includes("another client writes")),
      "no scripted write while the page was open",
    );
    await lines.waitFor((l) => /another client writes led=\d/.test(l), 2_000);
    await lines.waitFor((l) => /actuator led ← \d: LED is (ON|OFF)/.test(l), 3_000);
  } finally {
    stream?.close();
    child.kill("SIGINT");
  }
  const done = await exit;
  assert.equal(done.code, 0, done.stderr);
  assert.ok(
    lines.all.some((l) => /done: sampled \d+, .*commands written [1-9]/.test(l)),
    "it stops cleanly on SIGINT",
  );
});
