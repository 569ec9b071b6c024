// The PC runner's setup flags: --setup opens the page at once on loopback, --setup-port 0 picks a
// free port, --json prints {"event":"setup","url":…} and plain output a line; --no-setup never
// opens it; a bad --setup-port stops with the configuration's message.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { finished, Lines, REPO, run } from "./emulator/tools.js";

const DEVICE_CLI = `${REPO}build/host/device-cli.js`;
const stateDir = mkdtempSync(join(tmpdir(), "setup-cli-"));
after(() => rmSync(stateDir, { recursive: true, force: true }));

function device(flags: string[]) {
  const child = spawn(
    process.execPath,
    [DEVICE_CLI, "--server", "coap://127.0.0.1:9", "--state", stateDir, "--sensors", "", ...flags],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  return { child, lines: new Lines(child) };
}

test("--setup --json prints the page's loopback address; the page answers there", async () => {
  const { child, lines } = device(["--setup", "--setup-port", "0", "--json", "--activation-code", "CODE-1"]);
  try {
    const event = JSON.parse(await lines.waitFor((line) => line.includes('"setup"'))) as Record<string, string>;
    assert.deepEqual(Object.keys(event), ["event", "url"]);
    assert.match(event.url!, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(event.url!);
    assert.equal(page.status, 200);
  } finally {
    child.kill("SIGTERM");
    await finished(child, 10_000);
  }
});

test("plain output says where the page is; --no-setup opens none even without a code", async () => {
  const plain = device(["--setup", "--setup-port", "0"]);
  try {
    const line = await plain.lines.waitFor((text) => text.startsWith("setup page: "));
    assert.match(line, /^setup page: http:\/\/127\.0\.0\.1:\d+\/ \(open it in a browser\)$/);
  } finally {
    plain.child.kill("SIGTERM");
    await finished(plain.child, 10_000);
  }
  const quiet = device(["--no-setup", "--json"]);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  quiet.child.kill("SIGTERM");
  await finished(quiet.child, 10_000);
  assert.ok(!quiet.lines.all.some((line) => line.includes('"setup"')), quiet.lines.all.join("\n"));
});

test("a bad --setup-port stops with the configuration's message", async () => {
  const result = await run(process.execPath, [DEVICE_CLI, "--setup-port", "70000", "--state", stateDir]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /config setupPort: "70000" is outside 0–65535/);
});
