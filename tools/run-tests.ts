// `npm test` after typecheck and build: the Node test files, then the portable core specs on the
// XS engine. Exits non-zero if either fails.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const buildRoot = fileURLToPath(new URL("../", import.meta.url));
const nodeTestDir = join(buildRoot, "test", "node");
const files = readdirSync(nodeTestDir)
  .filter((f) => f.endsWith(".test.js"))
  .sort()
  .map((f) => join(nodeTestDir, f));

const only = process.argv.slice(2);
const selected = only.length === 0 ? files : files.filter((f) => only.some((o) => f.includes(o)));

const nodeRun = spawnSync(process.execPath, ["--test", "--test-concurrency=1", ...selected], { stdio: "inherit" });
const xsRun = only.length === 0 || only.includes("xs")
  ? spawnSync(process.execPath, [join(buildRoot, "tools", "xs-tests.js")], { stdio: "inherit" })
  : { status: 0 };
process.exitCode = nodeRun.status === 0 && xsRun.status === 0 ? 0 : 1;
