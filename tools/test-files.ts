// Which test files exist, read from the source tree and mapped to their emitted files in build/:
// `tsc -b` never deletes what it emitted for a source that is gone, so listing build/ would run
// a stale test or spec of a file deleted since.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** build/, where this file runs from (build/tools/test-files.js). */
export const BUILD_ROOT = fileURLToPath(new URL("../", import.meta.url));
/** The project root, beside build/. */
export const SOURCE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The emitted .js files of the sources in `folder` whose names end in `suffix` (".test.ts"), sorted. */
export function emitted(folder: string, suffix: string): string[] {
  return readdirSync(join(SOURCE_ROOT, folder))
    .filter((name) => name.endsWith(suffix) && !name.endsWith(".d.ts"))
    .sort()
    .map((name) => join(BUILD_ROOT, folder, `${name.slice(0, -".ts".length)}.js`));
}

/** Every Node test file (test/node/*.test.ts). */
export function nodeTestFiles(): string[] {
  return emitted("test/node", ".test.ts");
}

/** Every portable spec (test/core/*.spec.ts), run by test/node/core.test.ts and on XS. */
export function specFiles(): string[] {
  return emitted("test/core", ".spec.ts");
}
