// `npm test` after typecheck and build: every Node test file (one at a time: several start real
// servers and time real retransmissions), then the portable core specs on the XS engine. Prints
// one closing line with both counts and exits non-zero if anything failed.
// `node build/tools/run-tests.js NAME…` runs only the Node test files whose name contains NAME
// (and the XS run only when one NAME is "xs").
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { run } from "node:test";
import { spec } from "node:test/reporters";
import { fileURLToPath } from "node:url";

const buildRoot = fileURLToPath(new URL("../", import.meta.url));
const nodeTestDir = join(buildRoot, "test", "node");
const files = readdirSync(nodeTestDir)
  .filter((f) => f.endsWith(".test.js"))
  .sort()
  .map((f) => join(nodeTestDir, f));

const only = process.argv.slice(2);
const selected = only.length === 0 ? files : files.filter((f) => only.some((o) => f.includes(o)));

let passed = 0;
let failed = 0;
const stream = run({ files: selected, concurrency: 1 });
stream.on("test:pass", (event) => {
  if (event.details.type !== "suite") passed++;
});
stream.on("test:fail", (event) => {
  if (event.details.type !== "suite") failed++;
});
await new Promise<void>((resolve) => {
  stream.compose(new spec()).on("data", (chunk: string | Uint8Array) => process.stdout.write(chunk)).on("end", resolve);
});

let xsPassed = 0;
let xsFailed = 0;
if (only.length === 0 || only.includes("xs")) {
  const xs = spawnSync(process.execPath, [join(buildRoot, "tools", "xs-tests.js")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  process.stdout.write(xs.stdout);
  const counts = /xs: (\d+) passed, (\d+) failed/.exec(xs.stdout);
  xsPassed = counts === null ? 0 : Number(counts[1]);
  xsFailed = counts === null ? 1 : Number(counts[2]);
  if (xs.status !== 0 && xsFailed === 0) xsFailed = 1;
}

console.log(`node ${passed} passed, ${failed} failed; xs ${xsPassed} passed, ${xsFailed} failed`);
console.log(`total: ${passed + xsPassed} passed, ${failed + xsFailed} failed`);
process.exitCode = failed + xsFailed === 0 && passed + xsPassed > 0 ? 0 : 1;
