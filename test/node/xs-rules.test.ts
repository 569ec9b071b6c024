// The XS rules the type checker cannot see (tools/xs-rules.ts) hold on every file that runs on
// XS, and every hand-written line fits in 120 characters. Each self-test gives a check a small
// source with what it looks for, and one without, so a check that stopped finding fails here.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { isTypeScript, readTree } from "../../tools/source-tree.js";
import {
  ALLOWED,
  applyAllowed,
  checkLineLength,
  checkXsRules,
  type Finding,
  formatFinding,
  lineChecked,
  MAX_LINE,
  runsOnXs,
} from "../../tools/xs-rules.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const SHOWN = 60;

/** Fails listing the first SHOWN findings, one a line, and a count of the rest (the line check can find hundreds). */
function assertNone(findings: readonly Finding[]): void {
  const lines = findings.slice(0, SHOWN).map(formatFinding);
  if (findings.length > SHOWN) lines.push(`… and ${findings.length - SHOWN} more`);
  assert.ok(findings.length === 0, `${findings.length} findings:\n${lines.join("\n")}`);
}

test("the XS rules hold on every file that runs on XS", () => {
  const files = readTree(root, isTypeScript);
  assert.ok(files.filter((f) => runsOnXs(f.path)).length > 100);
  const { findings, unused } = applyAllowed(checkXsRules(files), ALLOWED);
  assertNone(findings);
  assert.deepEqual(unused, [], "every allowed exception still matches a finding");
  for (const allowed of ALLOWED) assert.ok(allowed.reason.length > 10, `a reason for ${allowed.file}`);
});

test(`every hand-written line fits in ${MAX_LINE} characters, but for strings and URLs that cannot`, () => {
  const files = readTree(root, lineChecked);
  assert.ok(files.some((f) => f.path === "README.md"));
  assertNone(checkLineLength(files));
});

function xs(path: string, text: string): string[] {
  return checkXsRules([{ path, text }]).map((f) => `${f.line} ${f.rule}`);
}

test("self-test: Error subclasses declare their name as a field, directly or through another subclass", () => {
  const text = [
    "export class A extends Error {}",
    'export class B extends Error { override readonly name = "B"; }',
    "export class C extends B {}",
    'export class D extends TypeError { readonly name = "D"; }',
    "export class E extends RangeError { constructor() { super(); this.name = 'E'; } }",
    "export class F extends Map {}",
    "export class G { name = 'G'; }",
  ].join("\n");
  assert.deepEqual(xs("coap/errors.ts", text), [
    "1 error-name-field",
    "3 error-name-field",
    "5 error-name-field",
    "5 this-name",
  ]);
  assert.deepEqual(
    xs("coap/other.ts", "export class X extends C {}\n"),
    [],
    "a base class it cannot see is not an error",
  );
  assert.deepEqual(
    checkXsRules([
      { path: "coap/a.ts", text: 'export class Base extends Error { override readonly name = "Base"; }' },
      { path: "device/b.ts", text: "export class Sub extends Base {}" },
    ]).map((f) => `${f.file}:${f.line} ${f.rule}`),
    ["device/b.ts:1 error-name-field"],
    "across files",
  );
});

test("self-test: every promise started with void ends in .catch or a two-handler .then", () => {
  const text = [
    "void start();",
    "void start().catch(() => undefined);",
    "void start().then(done, failed);",
    "void start().then(done);",
    "void (async () => {})();",
    "void (async () => {})().catch(report);",
    "void (x = 1);",
    "void 0;",
    "const f = () => void list.push(1);",
  ].join("\n");
  assert.deepEqual(xs("sensors/a.ts", text), ["1 void-catch", "4 void-catch", "5 void-catch", "9 void-catch"]);
});

test("self-test: charCodeAt inside any loop, but not in a for's initialiser or what a for…of walks", () => {
  const text = [
    "for (let i = 0; i < s.length; i++) s.charCodeAt(i);",
    "for (const c of s) c.charCodeAt(0);",
    "while (i < n) { i += s.charCodeAt(i); }",
    "do { s.charCodeAt(i++); } while (i < 3);",
    "for (let i = s.charCodeAt(0); i < 3; i++) {}",
    "for (const c of s.charCodeAt(0).toString()) {}",
    "const first = s.charCodeAt(0);",
    "for (const k in o) { [1].map(() => s.charCodeAt(k)); }",
    "for (;;) { if (s.charCodeAt(i) === 0) break; }",
  ].join("\n");
  assert.deepEqual(xs("kernel/a.ts", text), [
    "1 charCodeAt-loop",
    "2 charCodeAt-loop",
    "3 charCodeAt-loop",
    "4 charCodeAt-loop",
    "8 charCodeAt-loop",
    "9 charCodeAt-loop",
  ]);
});

test("self-test: the XS rules look only at files that run on XS", () => {
  const text = "class A extends Error {}\nvoid start();\nfor (;;) s.charCodeAt(0);\n";
  for (const path of ["kernel/moddable/a.ts", "moddable/a.ts", "main.ts", "test/core/a.spec.ts", "test/sim/a.ts"]) {
    assert.equal(xs(path, text).length, 3, path);
  }
  for (const path of ["host/a.ts", "emulator/a.ts", "test/node/a.test.ts", "tools/a.ts", "test/fuzz/run.ts"]) {
    assert.deepEqual(xs(path, text), [], path);
  }
});

test("self-test: the line limit, and the strings, URLs and table rows that may pass it", () => {
  const long = "x".repeat(MAX_LINE);
  const string = `"${"s".repeat(MAX_LINE)}"`;
  const text = [
    `const a = ${long};`,
    `const b = ${string};`,
    `    fail(1, 2, "${"m".repeat(110)}");`,
    `// https://example.com/${"p".repeat(MAX_LINE)}`,
    `// ${"words ".repeat(25)}`,
    `/** ${"words ".repeat(25)} it's */`,
    `const c = \`${"t".repeat(MAX_LINE)}\${x}\`;`,
    `const ok = ${"y".repeat(MAX_LINE - 12)};`,
    `// ${"😀".repeat(MAX_LINE - 10)}`,
    `test("${"n".repeat(MAX_LINE - 20)}", async () => {});`,
    `describe.skip(\`${"n".repeat(MAX_LINE - 20)}\`, () => {});`,
    `run("${"n".repeat(MAX_LINE - 20)}", async () => {});`,
  ].join("\n");
  const lines = (path: string, source: string): number[] =>
    checkLineLength([{ path, text: source }]).map((f) => f.line);
  assert.deepEqual(lines("coap/a.ts", text), [1, 3, 5, 6, 12], "characters are counted, not UTF-16 units");
  const markdown = [`| ${long} | cell |`, `A paragraph ${long}`, `See <https://example.com/${long}>`].join("\n");
  assert.deepEqual(lines("README.md", markdown), [2]);
  assert.deepEqual(lines("package.json", `{\n  "k": ${string},\n  "n": [${long}]\n}`), [3]);
  assert.deepEqual(lines("coap/a.js", `${long}${long}`), [], "only the project's own kinds of file");
});

test("self-test: an allowed exception removes its finding and nothing else, and an unused one is reported", () => {
  const findings = checkXsRules([{ path: "coap/a.ts", text: "void a();\nvoid b();\n" }]);
  const { findings: kept, unused } = applyAllowed(findings, [
    { file: "coap/a.ts", rule: "void-catch", includes: "a()", reason: "test" },
    { file: "coap/a.ts", rule: "void-catch", includes: "c()", reason: "test" },
  ]);
  assert.deepEqual(
    kept.map((f) => f.text),
    ["void b();"],
  );
  assert.deepEqual(
    unused.map((a) => a.includes),
    ["c()"],
  );
});
