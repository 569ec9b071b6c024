// Runs every portable core spec (test/core/*.spec.ts) under node:test. The same specs run on
// the XS engine through tools/xs-tests.ts.
import { readdirSync } from "node:fs";
import { test } from "node:test";
import { registeredTests } from "../portable/harness.js";

const specDir = new URL("../core/", import.meta.url);
for (const file of readdirSync(specDir).filter((f) => f.endsWith(".spec.js")).sort()) {
  await import(new URL(file, specDir).href);
}

for (const t of registeredTests()) {
  test(t.suite === "" ? t.name : `${t.suite} › ${t.name}`, async () => {
    await t.body();
  });
}
