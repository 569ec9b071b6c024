// `npm test` after typecheck and build, in parts: lint (Biome, then the source checks of
// test/node/layering.test.ts and xs-rules.test.ts) first, and only when it passes the Node test
// files and the portable specs on XS, side by side. Prints per part how many tests ran, passed,
// failed, were skipped or todo, with the part's duration, then a total line; exits non-zero on
// any failure, on a part that ran no test, and on a test file that crashed or ran no test.
//
// `node build/tools/run-tests.js NAME…` runs only the Node test files whose name contains a NAME,
// the XS part when a NAME is "xs", and the lint part when one is "lint". `--keep-going` goes on
// past a failed lint part (the counts of every part, for a tree that is not formatted yet).
//
// Scheduling, on a machine of two cores: a few files wait on real time (retransmissions, outages,
// platform restarts) with almost no CPU. The longest of them, with generous deadlines, starts at
// once (BESIDE_THE_REST). Everything else runs at most `cpuSlots` at a time: first the files that
// keep a CPU busy (CPU_HEAVY, the XS part among them, longest first), then the light ones; the
// files whose assertions measure recovery times (ON_A_QUIET_CPU) start with the light ones, so
// they never wait long for a CPU, and end about when the first does.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, join } from "node:path";
import { run } from "node:test";
import { inspect } from "node:util";
import { BUILD_ROOT, nodeTestFiles, SOURCE_ROOT } from "./test-files.js";

/** Waits on the real clock for most of its run, with almost no CPU, and deadlines of seconds. */
const BESIDE_THE_REST: ReadonlySet<string> = new Set([
  "device-e2e.test", // ≈110 s: platform restarts, a 60 s outage, keep-alives (≈5 s CPU)
]);

/**
 * Wait on the real clock too, but assert how fast the device recovers, to a few hundred ms: run
 * beside the CPU-heavy files, chaos-run once saw the subscription back 10.3 s after the restart
 * against its 10 s bound (keepAlive + grace).
 */
const ON_A_QUIET_CPU: ReadonlySet<string> = new Set([
  "chaos-run.test", // ≈60 s: two 12 s outages and a restart through a lossy proxy (≈2 s CPU)
  "activation-loss.test", // ≈25 s: activation through 60 % loss, real retransmissions (≈1 s CPU)
  "dashboard-browser.test", // ≈10 s: Chromium and the PC device; a click must reach the device within 1 s
  "power-cut.test", // ≈35 s: the PC runner killed 6 times; values checked against persistAfter (≈4 s CPU)
]);

/** The files that keep a CPU busy for most of their run, longest first. */
const CPU_HEAVY: readonly string[] = [
  "xs",
  "endpoint-hostile.test",
  "xs-memory.test",
  "core.test",
  "device-xs-e2e.test",
  "endpoint-peers.test",
  "emulator-load.test",
  "codec-fuzz.test",
];

/**
 * A file still running after this fails, and its process is ended: a socket left open keeps a
 * test file's process alive after its tests, and would hold the whole run (device-e2e, the
 * longest, takes about 110 s).
 */
const FILE_LIMIT_MS = 300_000;

/** The lint part's test files: they read the sources, not the build. */
const SOURCE_CHECKS: readonly string[] = ["layering.test", "xs-rules.test"];

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  todo: number;
}

interface Part extends Counts {
  readonly name: string;
  startedAt: number;
  endedAt: number;
}

function newPart(name: string): Part {
  return { name, passed: 0, failed: 0, skipped: 0, todo: 0, startedAt: 0, endedAt: 0 };
}

const RUN_STARTED = Date.now();
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const ran = (c: Counts): number => c.passed + c.failed + c.skipped + c.todo;

function describeCounts(c: Counts): string {
  const extra = [c.skipped > 0 ? `, ${c.skipped} skipped` : "", c.todo > 0 ? `, ${c.todo} todo` : ""].join("");
  return `${ran(c)} ran, ${c.passed} passed, ${c.failed} failed${extra}`;
}

function add(part: Part, c: Counts): void {
  part.passed += c.passed;
  part.failed += c.failed;
  part.skipped += c.skipped;
  part.todo += c.todo;
}

interface TestEventData {
  name: string;
  nesting: number;
  file?: string;
  skip?: boolean | string;
  todo?: boolean | string;
  details: { type?: string; error?: unknown };
}

/**
 * One test file in its own process. A file that crashes before it reports, or outlives
 * FILE_LIMIT_MS, is one failed test (node:test reports the file itself); one that registers no
 * test counts as failed too.
 */
async function runFile(file: string): Promise<{ counts: Counts; report: string[] }> {
  const counts: Counts = { passed: 0, failed: 0, skipped: 0, todo: 0 };
  const report: string[] = [];
  const output: string[] = [];
  let fileLevel: "pass" | "fail" | undefined;
  const stream = run({ files: [file], timeout: FILE_LIMIT_MS });
  stream.on("test:pass", (data: TestEventData) => {
    if (data.details.type === "suite") return;
    if (data.nesting === 0 && data.name === file) fileLevel = "pass";
    else if (data.skip !== undefined && data.skip !== false) counts.skipped++;
    else if (data.todo !== undefined && data.todo !== false) counts.todo++;
    else counts.passed++;
  });
  stream.on("test:fail", (data: TestEventData) => {
    if (data.details.type === "suite") return;
    if (data.todo !== undefined && data.todo !== false) {
      counts.todo++;
      return;
    }
    counts.failed++;
    if (data.nesting === 0 && data.name === file) fileLevel = "fail";
    report.push(`  ✖ ${data.name}`, ...describeError(data.details.error).map((l) => `      ${l}`));
  });
  const keep = (data: { message: string }): void => {
    if (output.length < 200) output.push(data.message.replace(/\n$/, ""));
  };
  stream.on("test:stdout", keep);
  stream.on("test:stderr", keep);
  // Draining the stream is what drives the run.
  for await (const _ of stream);
  if (fileLevel === "pass") {
    counts.failed++;
    report.push("  ✖ the file ran no test");
  }
  if (fileLevel !== undefined && output.length > 0) report.push("  its output:", ...output.map((l) => `    ${l}`));
  return { counts, report };
}

/** A failure's message and where it was thrown: the first frames of its stack, at most 40 lines. */
function describeError(error: unknown): string[] {
  const cause = (error as { cause?: unknown } | undefined)?.cause ?? error;
  const lines = cause instanceof Error && cause.stack !== undefined ? cause.stack.split("\n") : undefined;
  if (lines === undefined) return inspect(cause, { depth: 4 }).split("\n").slice(0, 40);
  const frames = lines.findIndex((l) => /^\s+at /.test(l));
  return (frames < 0 ? lines : lines.slice(0, frames + 3)).slice(0, 40);
}

/** A child process's exit, with its output. */
function runProcess(command: string, args: string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: SOURCE_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.on("error", (error) => resolve({ status: null, output: `${output}${String(error)}\n` }));
    child.on("close", (status) => resolve({ status, output }));
  });
}

/** Biome's check of formatting, lint rules and import order, as one test of the lint part. */
async function biome(part: Part): Promise<void> {
  const bin = join(SOURCE_ROOT, "node_modules", ".bin", "biome");
  const started = Date.now();
  const { status, output } = await runProcess(bin, ["check", "--error-on-warnings", "--reporter=summary", "."]);
  const checked = /Checked (\d+) files?/.exec(output);
  const ok = status === 0 && checked !== null && Number(checked[1]) > 0;
  if (ok) part.passed++;
  else part.failed++;
  const what = checked === null ? "no file checked" : `${checked[1]} files`;
  console.log(`${ok ? "  ok  " : "  FAIL"} biome check (${what})  ${seconds(Date.now() - started)}`);
  if (!ok) process.stdout.write(`${output.trimEnd().replace(/^/gm, "    ")}\n`);
}

/** The portable specs on XS (tools/xs-tests.ts), which prints "xs: N passed, M failed". */
async function xs(part: Part): Promise<void> {
  const started = Date.now();
  const { status, output } = await runProcess(process.execPath, [join(BUILD_ROOT, "tools", "xs-tests.js")]);
  const counts = /xs: (\d+) passed, (\d+) failed/.exec(output);
  part.passed += counts === null ? 0 : Number(counts[1]);
  part.failed += counts === null ? 1 : Number(counts[2]);
  if (status !== 0 && counts !== null && Number(counts[2]) === 0) part.failed++;
  const failed = status !== 0 || counts === null || Number(counts[2]) > 0;
  console.log(
    `${failed ? "  FAIL" : "  ok  "} xs-tests (${counts?.[0] ?? "no counts"})  ${seconds(Date.now() - started)}, ended at +${seconds(Date.now() - RUN_STARTED)}`,
  );
  if (failed) process.stdout.write(`${output.trimEnd().replace(/^/gm, "    ")}\n`);
}

async function nodeFile(part: Part, file: string): Promise<void> {
  const started = Date.now();
  if (part.startedAt === 0) part.startedAt = started;
  if (!existsSync(file)) {
    part.failed++;
    part.endedAt = Date.now();
    console.log(`  FAIL ${basename(file)}: not built (run tsc -b)`);
    return;
  }
  const { counts, report } = await runFile(file);
  part.endedAt = Date.now();
  add(part, counts);
  const failed = counts.failed > 0 || ran(counts) === 0;
  if (ran(counts) === 0) part.failed++;
  const label = `${part.name === "lint" ? "" : "node "}${basename(file, ".js")}`;
  const took = `${seconds(Date.now() - started)}, ended at +${seconds(Date.now() - RUN_STARTED)}`;
  console.log(`${failed ? "  FAIL" : "  ok  "} ${label} (${describeCounts(counts)})  ${took}`);
  for (const line of report) console.log(line);
}

/** Runs `jobs` with at most `slots` at a time, in the order given. */
async function pool(jobs: readonly (() => Promise<void>)[], slots: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) await jobs[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(slots, jobs.length) }, worker));
}

function rank(name: string): number {
  const index = CPU_HEAVY.indexOf(name);
  return index < 0 ? CPU_HEAVY.length : index;
}

async function timed(part: Part, body: (part: Part) => Promise<void>): Promise<void> {
  part.startedAt = Date.now();
  await body(part);
  part.endedAt = Date.now();
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const keepGoing = args.includes("--keep-going");
  const names = args.filter((a) => !a.startsWith("--"));
  const wanted = (name: string): boolean => names.length === 0 || names.some((n) => name.includes(n));
  const cpuSlots = Math.max(2, availableParallelism());
  const all = nodeTestFiles();
  const checks = all.filter((f) => SOURCE_CHECKS.includes(basename(f, ".js")));
  // Named, a source check runs as a Node test file; unnamed, it runs in the lint part only.
  const tests = all.filter((f) => wanted(basename(f, ".js")) && (names.length > 0 || !checks.includes(f)));
  const parts: Part[] = [];
  const started = Date.now();

  if (names.length === 0 || names.includes("lint")) {
    const lint = newPart("lint");
    parts.push(lint);
    console.log("lint");
    await timed(lint, (part) =>
      Promise.all([biome(part), ...checks.map((f) => nodeFile(part, f))]).then(() => undefined),
    );
    if ((lint.failed > 0 || ran(lint) === 0) && !keepGoing) {
      console.log("lint failed: the tests did not run (--keep-going runs them anyway)");
      return summary(parts, started);
    }
  }

  const node = newPart("node");
  const xsPart = newPart("xs");
  const withXs = names.length === 0 || names.includes("xs");
  if (tests.length > 0) parts.push(node);
  if (withXs) parts.push(xsPart);
  if (tests.length === 0 && !withXs) {
    if (parts.length === 0) console.log(`no test file matches ${names.join(", ")}`);
    return summary(parts, started);
  }
  console.log(`node${withXs ? " and xs" : ""} (${tests.length} test files, ${cpuSlots} at a time)`);
  const byName = (f: string): string => basename(f, ".js");
  const beside = tests.filter((f) => BESIDE_THE_REST.has(byName(f)));
  const quiet = tests.filter((f) => ON_A_QUIET_CPU.has(byName(f)));
  const cpuJobs: { name: string; job: () => Promise<void> }[] = tests
    .filter((f) => !beside.includes(f) && !quiet.includes(f))
    .map((f) => ({ name: byName(f), job: () => nodeFile(node, f) }));
  if (withXs) cpuJobs.push({ name: "xs", job: () => timed(xsPart, xs) });
  cpuJobs.sort((a, b) => rank(a.name) - rank(b.name));
  const heavy = cpuJobs.filter((j) => CPU_HEAVY.includes(j.name)).map((j) => j.job);
  const light = cpuJobs.filter((j) => !CPU_HEAVY.includes(j.name)).map((j) => j.job);
  const rest = async (): Promise<void> => {
    await pool(heavy, cpuSlots);
    await Promise.all([pool(light, cpuSlots), ...quiet.map((f) => nodeFile(node, f))]);
  };
  await Promise.all([...beside.map((f) => nodeFile(node, f)), rest()]);
  return summary(parts, started);
}

function summary(parts: readonly Part[], started: number): number {
  const total = newPart("total");
  console.log("");
  for (const part of parts) {
    add(total, part);
    const empty = ran(part) === 0 ? " — no test ran" : "";
    console.log(`${part.name}: ${describeCounts(part)}${empty} in ${seconds(part.endedAt - part.startedAt)}`);
  }
  console.log(`total: ${describeCounts(total)} in ${seconds(Date.now() - started)}`);
  const ok = parts.length > 0 && parts.every((p) => p.failed === 0 && ran(p) > 0);
  return ok ? 0 : 1;
}

process.exitCode = await main();
