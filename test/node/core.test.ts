// Runs every portable core spec (test/core/*.spec.ts) under node:test. The same specs run on
// the XS engine through tools/xs-tests.ts. The specs are listed from the sources, so a spec
// deleted since the last build is not run from its stale output in build/.
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { specFiles } from "../../tools/test-files.js";
import { registeredTests } from "../portable/harness.js";

for (const file of specFiles()) await import(pathToFileURL(file).href);

for (const t of registeredTests()) {
  test(t.suite === "" ? t.name : `${t.suite} › ${t.name}`, async () => {
    await t.body();
  });
}
