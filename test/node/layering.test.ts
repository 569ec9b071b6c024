// Every import of the project follows the layering table (tools/layering.ts), and README.md shows
// that same table. The self-tests feed the check small in-memory sources with one violation of
// each kind, so a check that silently stopped finding things would fail here.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  checkImports,
  type Finding,
  formatFinding,
  importsOf,
  knownImportNames,
  LAYERS,
  layerOf,
  parseLayeringTable,
} from "../../tools/layering.js";
import { isTypeScript, readTree } from "../../tools/source-tree.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));

function npmPackages(): Set<string> {
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  return new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.devDependencies ?? {})]);
}

test("every import of the project follows the layering table", () => {
  const files = readTree(root, isTypeScript);
  assert.ok(files.length > 100, `read ${files.length} files`);
  const findings = checkImports(files, { npmPackages: npmPackages() });
  assert.ok(findings.length === 0, `${findings.length} findings:\n${findings.map(formatFinding).join("\n")}`);
});

test("README.md shows the table the check uses", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const shown = parseLayeringTable(readme);
  assert.ok(shown !== undefined, "README.md has a table headed | layer | folders | may import |");
  assert.deepEqual(
    shown,
    LAYERS.map((l) => ({ name: l.name, folders: [...l.folders], mayImport: [...l.mayImport] })),
  );
  const known = knownImportNames();
  for (const layer of LAYERS) for (const name of layer.mayImport) assert.ok(known.has(name), `${layer.name}: ${name}`);
});

const NPM = new Set(["coap", "typescript", "@agoric/xsnap"]);

function check(files: Record<string, string>): Finding[] {
  return checkImports(
    Object.entries(files).map(([path, text]) => ({ path, text })),
    { npmPackages: NPM },
  );
}

function rules(findings: readonly Finding[]): string[] {
  return findings.map((f) => `${f.file}:${f.line} ${f.specifier} ${f.rule}`);
}

test("self-test: a core file importing a higher layer, or an adapter or host file", () => {
  const findings = check({
    "coap/a.ts": 'import { K } from "../kernel/k.js";\nimport { T } from "../thethings/t.js";\n',
    "kernel/b.ts": 'import { D } from "../device/d.js";\nexport { C } from "../coap/c.js";\n',
    "thethings/c.ts": 'import { M } from "../kernel/moddable/m.js";\nimport { H } from "../host/h.js";\n',
    "device/d.ts": 'import type { S } from "../sensors/s.js";\nconst x: import("../moddable/app.js").X = 1;\n',
  });
  assert.deepEqual(rules(findings), [
    "coap/a.ts:2 ../thethings/t.js layering",
    "kernel/b.ts:1 ../device/d.js layering",
    "kernel/b.ts:2 ../coap/c.js layering",
    "thethings/c.ts:1 ../kernel/moddable/m.js layering",
    "thethings/c.ts:2 ../host/h.js layering",
    "device/d.ts:2 ../moddable/app.js layering",
  ]);
  assert.match(findings[0]!.message, /coap may import kernel, coap/);
});

test("self-test: a core or portable-test file importing node:*, npm or a Moddable module", () => {
  const findings = check({
    "sensors/a.ts": 'import { x } from "node:fs";\nimport { y } from "coap";\nimport Timer from "timer";\n',
    "device/b.ts": 'import { UDP } from "embedded:io/socket/udp";\nconst m = await import("node:os");\n',
    "test/core/c.spec.ts": 'import { x } from "node:assert";\nimport { y } from "@agoric/xsnap";\n',
    "test/fuzz/run.ts": 'import { x } from "node:fs";\n',
    "test/node/d.test.ts": 'import { x } from "node:fs";\nimport ts from "typescript";\n',
  });
  assert.deepEqual(rules(findings), [
    "sensors/a.ts:1 node:fs module-kind",
    "sensors/a.ts:2 coap module-kind",
    "sensors/a.ts:3 timer module-kind",
    "device/b.ts:1 embedded:io/socket/udp module-kind",
    "device/b.ts:2 node:os module-kind",
    "test/core/c.spec.ts:1 node:assert module-kind",
    "test/core/c.spec.ts:2 @agoric/xsnap module-kind",
  ]);
});

test("self-test: the kernel's and coap's Moddable adapters, the app and the emulator", () => {
  const findings = check({
    "kernel/moddable/a.ts":
      'import Timer from "timer";\nimport { K } from "../clock.js";\nimport { C } from "../../coap/c.js";\n',
    "coap/moddable/b.ts":
      'import { K } from "../../kernel/moddable/k.js";\nimport { C } from "../c.js";\nimport { T } from "../../thethings/t.js";\n',
    "moddable/c.ts": 'import { D } from "../device/d.js";\nimport { x } from "node:dgram";\n',
    "main.ts": 'import { x } from "node:process";\nimport { B } from "moddable/board-io";\n',
    "emulator/d.ts":
      'import { C } from "../coap/codes.js";\nimport { x } from "node:dgram";\nimport * as coap from "coap";\n',
  });
  assert.deepEqual(rules(findings), [
    "kernel/moddable/a.ts:3 ../../coap/c.js layering",
    "coap/moddable/b.ts:3 ../../thethings/t.js layering",
    "moddable/c.ts:2 node:dgram module-kind",
    "main.ts:1 node:process module-kind",
    "emulator/d.ts:1 ../coap/codes.js layering",
  ]);
});

test("self-test: a Moddable app's module names of our folders are checked as the files they map to", () => {
  const findings = check({
    "coap/endpoint.ts": "export const E = 1;\n",
    "device/app.ts": "export const A = 1;\n",
    "examples/app/main.ts":
      'import { E } from "coap/endpoint";\nimport { A } from "device/app";\nimport Timer from "timer";\n',
  });
  assert.deepEqual(rules(findings), ["examples/app/main.ts:2 device/app layering"]);
});

test("self-test: a relative import without .js, a file in no layer, an import leaving the tree", () => {
  const findings = check({
    "coap/a.ts": 'import { B } from "./b";\nimport { C } from "./c.ts";\nexport * from "./d.js";\n',
    "host/b.ts": 'import { X } from "../../elsewhere/x.js";\n',
    "scripts/c.ts": "export const c = 1;\n",
  });
  assert.deepEqual(rules(findings), [
    "coap/a.ts:1 ./b js-suffix",
    "coap/a.ts:2 ./c.ts js-suffix",
    "host/b.ts:1 ../../elsewhere/x.js outside-tree",
    "scripts/c.ts:1  no-layer",
  ]);
});

test("self-test: imports are read from the syntax tree, not from text that looks like one", () => {
  const text = [
    '// import { x } from "node:fs";',
    'const s = "import { y } from \\"node:os\\"";',
    'import type { A } from "./a.js";',
    'export { b } from "./b.js";',
    'import c = require("./c.js");',
    'const d = import("./d.js");',
    'declare module "ambient" {}',
  ].join("\n");
  assert.deepEqual(importsOf({ path: "tools/x.ts", text }), [
    { specifier: "./a.js", line: 3 },
    { specifier: "./b.js", line: 4 },
    { specifier: "./c.js", line: 5 },
    { specifier: "./d.js", line: 6 },
  ]);
  assert.equal(layerOf("test/fuzz/run.ts")?.name, "Node tests and tools", "the longest entry wins");
  assert.equal(layerOf("test/fuzz/hostile-peer.ts")?.name, "portable tests");
  assert.equal(layerOf("kernel/moddable/timer-clock.ts")?.name, "kernel adapters");
});
