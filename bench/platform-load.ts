// `npm run load -- [--things 200] [--seconds 20] [--db FILE]`: the full load run on the local
// platform, its store in memory or in a SQLite file.
// Prints the result as JSON and exits non-zero if any acknowledged value was lost or doubled.
import { parseArgs } from "node:util";
import { runLoad } from "./platform-load-driver.js";

const { values } = parseArgs({
  options: {
    things: { type: "string", default: "200" },
    seconds: { type: "string", default: "20" },
    db: { type: "string" },
  },
});
const things = Number(values.things);
const seconds = Number(values.seconds);
if (!Number.isInteger(things) || things < 1 || !(seconds > 0)) {
  console.error("usage: npm run load -- [--things N] [--seconds S] [--db FILE]");
  process.exit(2);
}
console.log(`${things} things writing for ${seconds} s over loopback, store ${values.db ?? "in memory"}...`);
const result = await runLoad({ things, seconds, ...(values.db === undefined ? {} : { dbPath: values.db }) });
console.log(JSON.stringify(result, null, 2));
console.log(`${result.writesPerSecond} writes/s`);
const intact = result.missing === 0 && result.duplicated === 0 && result.unexpected === 0 && result.failed === 0;
if (!intact) console.error("some values were lost, doubled, unexpected or refused");
process.exitCode = intact ? 0 : 1;
