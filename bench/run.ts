// `npm run bench [-- NAME... --flags]`: runs every bench module, build/bench/*.bench.js, one after
// another, each in its own Node process so one's JIT state and heap do not colour the next. A
// module is added by creating bench/<name>.bench.ts: there is no list to edit. Words select
// modules by name; flags (--record, ...) are passed to each module.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const benchDir = fileURLToPath(new URL(".", import.meta.url));
const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith("-"));
const flags = args.filter((a) => a.startsWith("-"));
const modules = readdirSync(benchDir)
  .filter((f) => f.endsWith(".bench.js"))
  .filter((f) => names.length === 0 || names.some((n) => f.includes(n)))
  .sort();

if (modules.length === 0) {
  console.error(`no bench module${names.length > 0 ? ` matching ${names.join(", ")}` : ""} in ${benchDir}`);
  process.exit(1);
}

const failed: string[] = [];
for (const file of modules) {
  console.log(`\n=== ${file.replace(/\.bench\.js$/, "")} ===`);
  const run = spawnSync(process.execPath, [join(benchDir, file), ...flags], { stdio: "inherit" });
  if (run.status !== 0) failed.push(file);
}
console.log(
  `\nbench: ${modules.length - failed.length} of ${modules.length} modules ran${failed.length > 0 ? `; failed: ${failed.join(", ")}` : ""}`,
);
process.exitCode = failed.length === 0 ? 0 : 1;
