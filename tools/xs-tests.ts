// Runs the portable core specs on the XS engine (npm @agoric/xsnap): bundles them with esbuild
// into one script, evaluates it in an xsnap worker, and counts the results reported back through
// issueCommand. A bundle that fails to load, or stops before its "done" report, fails the run:
// xsnap itself would hide such errors.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { specFiles } from "./test-files.js";
import { bundleForXs, spawnXsWorker } from "./xs-bridge.js";

const buildRoot = fileURLToPath(new URL("../", import.meta.url));

async function bundle(): Promise<string> {
  const dir = await mkdtemp(join(os.tmpdir(), "xs-tests-"));
  try {
    const entry = join(dir, "entry.js");
    const imports = specFiles()
      .map((f) => `import ${JSON.stringify(f)};`)
      .join("\n");
    await writeFile(
      entry,
      `${imports}
import { runRegistered } from ${JSON.stringify(join(buildRoot, "test", "xs", "run-registered.js"))};
const encoder = new TextEncoder();
const report = (line) => issueCommand(encoder.encode(JSON.stringify(line)).buffer);
runRegistered(report).catch((error) => report({ kind: "crash", error: String(error && error.stack || error) }));
`,
    );
    return await bundleForXs(entry);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Line {
  kind: string;
  suite?: string;
  name?: string;
  ok?: boolean;
  error?: string;
  count?: number;
}

async function main(): Promise<number> {
  const code = await bundle();
  const decoder = new TextDecoder();
  let passed = 0;
  let failed = 0;
  let done = false;
  let current = "";
  const worker = await spawnXsWorker("xs-tests", async (message: Uint8Array) => {
    const line = JSON.parse(decoder.decode(message)) as Line;
    if (line.kind === "start") current = line.name ?? "";
    else if (line.kind === "result") {
      const title = `${line.suite} › ${line.name}`;
      if (line.ok) {
        passed++;
        if (process.env.XS_VERBOSE) console.log(`ok   [xs] ${title}`);
      } else {
        failed++;
        console.log(`FAIL [xs] ${title}\n${line.error}`);
      }
    } else if (line.kind === "done") done = true;
    else if (line.kind === "crash") {
      failed++;
      console.log(`CRASH [xs] ${line.error}`);
    }
    return new Uint8Array(0);
  });
  try {
    await worker.evaluate(code);
  } catch (error) {
    console.log(`[xs] the bundle threw while loading or running: ${String(error)}`);
    failed++;
  } finally {
    await worker.close().catch(() => undefined);
  }
  if (!done) {
    failed++;
    console.log(
      `[xs] the run stopped before its end (last test started: ${current || "none"}); a promise never settled`,
    );
  }
  console.log(`xs: ${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

process.exitCode = await main();
