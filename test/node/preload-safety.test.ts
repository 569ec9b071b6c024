// What Moddable's preload needs from the modules it runs at build time (the manifests' "preload"):
// every module of the device is listed by name, because mcconfig's wildcard preload patterns
// only match .js files, so "coap/*" silently preloaded none of the TypeScript modules, which
// were then loaded into RAM at run time (228 KB of slots and 16 KB of chunks in the simulator,
// against 6 KB with them preloaded). And no preloaded module may keep a RegExp or mutable
// bindings at module level: XS crashes (SIGSEGV in fx_RegExp_prototype_exec) running a RegExp
// that was stored in flash, and a module's top-level bindings are frozen there.
// The preload lists live in one manifest per folder (kernel/, coap/, … device/, moddable/), which
// the app's manifest.json includes; the checks read the app's manifest with its includes.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { builtModules, listOf, manifestTree, resolveManifest } from "./manifest-tree.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const PRELOADED_FOLDERS = [
  "kernel",
  "kernel/moddable",
  "coap",
  "coap/moddable",
  "http",
  "http/moddable",
  "thethings",
  "sensors",
  "device",
  "moddable",
  "moddable/esp32",
] as const;
const TARGETS = ["esp32", "lin", "mac", "win"] as const;

/** The manifest maps these files to a target-independent specifier (see moddable/manifest_*.json). */
const SPECIFIER_OF: Readonly<Record<string, string | undefined>> = {
  "moddable/board-io-esp32": "moddable/board-io",
  "moddable/board-io-sim": "moddable/board-io",
  "moddable/network-esp32": "moddable/network",
  "moddable/network-sim": "moddable/network",
  "moddable/esp32/setup-network": "setup/network",
};

/** The target-specific adapters: built only where the target's manifest maps them. */
const BUILT_ONLY_ON: Readonly<Record<string, readonly string[] | undefined>> = {
  "moddable/board-io-esp32": ["esp32"],
  "moddable/network-esp32": ["esp32"],
  "moddable/esp32/analog-input": ["esp32"],
  "moddable/esp32/clock-sync": ["esp32"],
  "moddable/esp32/digital-output": ["esp32"],
  "moddable/esp32/pwm-output": ["esp32"],
  "moddable/esp32/reset-reason": ["esp32"],
  "moddable/esp32/setup-network": ["esp32"],
  "moddable/esp32/setup-button": ["esp32"],
  "moddable/board-io-sim": ["lin", "mac", "win"],
  "moddable/network-sim": ["lin", "mac", "win"],
};

function moduleFiles(): string[] {
  const files: string[] = [];
  for (const folder of PRELOADED_FOLDERS) {
    for (const name of readdirSync(join(root, folder)).sort()) {
      if (name.endsWith(".ts") && !name.endsWith(".d.ts")) files.push(`${folder}/${name.slice(0, -3)}`);
    }
  }
  return files;
}

/** The app's manifest merged with its local includes, per target. */
const resolved = Object.fromEntries(TARGETS.map((target) => [target, resolveManifest(root, "manifest.json", target)]));
/** What each target builds from those manifests: specifier → file. */
const built = Object.fromEntries(TARGETS.map((target) => [target, builtModules(root, resolved[target]!.modules)]));

/**
 * Preloading a module runs its imports at build time too. The Linux simulator's Preference is a
 * JavaScript class that reads its file into a static field when it is defined, which the SDK
 * never preloads: preloaded, it read nothing at build time and then wrote an empty
 * /tmp/modpreferences.json, so the thing token was lost. The board's and the other simulators'
 * Preference is native and preloaded by the SDK itself.
 */
const PRELOADED_WHERE_PREFERENCE_IS: Readonly<Record<string, readonly string[]>> = {
  "moddable/preference-store": ["esp32", "mac", "win"],
  "moddable/preference-page-store": ["esp32", "mac", "win"],
};

test("the manifests preload every device module by name, with no wildcard (mcconfig matches wildcards against .js files only)", () => {
  const sections = manifestTree(root, "manifest.json").flatMap(({ manifest }) => [
    manifest,
    ...Object.values(manifest.platforms ?? {}),
  ]);
  const everyEntry = sections.flatMap((section) => listOf(section.preload));
  assert.ok(everyEntry.length > 0);
  for (const entry of everyEntry) assert.ok(!entry.includes("*"), `preload entry ${entry} is a wildcard`);
  const expected = new Set(moduleFiles().map((file) => SPECIFIER_OF[file] ?? file));
  for (const file of moduleFiles()) {
    const specifier = SPECIFIER_OF[file] ?? file;
    const builtOn = BUILT_ONLY_ON[file] ?? TARGETS;
    for (const target of TARGETS) {
      assert.equal(
        built[target]!.get(specifier) === file,
        builtOn.includes(target),
        `${file} built as ${specifier} on ${target}`,
      );
    }
    const platforms = PRELOADED_WHERE_PREFERENCE_IS[specifier];
    for (const target of builtOn) {
      const listed = resolved[target]!.preload.includes(specifier);
      if (platforms === undefined) assert.ok(listed, `${specifier} is not preloaded on ${target}`);
      else assert.equal(listed, platforms.includes(target), `${specifier} preloaded on ${target}`);
    }
  }
  for (const entry of everyEntry) assert.ok(expected.has(entry), `preload entry ${entry} names no module`);
  for (const target of TARGETS) {
    const preload = resolved[target]!.preload;
    assert.equal(new Set(preload).size, preload.length, `no entry twice on ${target}`);
  }
});

interface Finding {
  readonly file: string;
  readonly line: number;
  readonly what: string;
}

/** Whether `node` runs when the module is evaluated (not later, inside a function or an instance). */
function runsAtModuleEvaluation(node: ts.Node): boolean {
  for (let parent = node.parent; parent !== undefined; parent = parent.parent) {
    if (ts.isFunctionLike(parent)) return false;
    if (ts.isPropertyDeclaration(parent) && !(ts.getCombinedModifierFlags(parent) & ts.ModifierFlags.Static))
      return false;
  }
  return true;
}

function moduleLevelHazards(file: string): Finding[] {
  const path = join(root, `${file}.ts`);
  const source = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.ES2022, true);
  const findings: Finding[] = [];
  const report = (node: ts.Node, what: string): void => {
    findings.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, what });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isRegularExpressionLiteral(node) && runsAtModuleEvaluation(node))
      report(node, "a RegExp literal evaluated at module level");
    if (
      (ts.isNewExpression(node) || ts.isCallExpression(node)) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === "RegExp" &&
      runsAtModuleEvaluation(node)
    ) {
      report(node, "a RegExp made at module level");
    }
    ts.forEachChild(node, visit);
  };
  for (const statement of source.statements) {
    if (ts.isVariableStatement(statement) && !(statement.declarationList.flags & ts.NodeFlags.Const))
      report(statement, "a mutable module-level binding");
    visit(statement);
  }
  return findings;
}

test("no preloaded module keeps a RegExp or a mutable binding at module level", () => {
  const findings = moduleFiles().flatMap(moduleLevelHazards);
  assert.deepEqual(findings, []);
});

test("the hazard scan finds what it looks for", () => {
  const probe = ts.createSourceFile(
    "probe.ts",
    "const A = /x/;\nlet b = 1;\nfunction f() { return /y/; }\nclass C { static s = /z/; i = /w/; }\n",
    ts.ScriptTarget.ES2022,
    true,
  );
  const kinds: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isRegularExpressionLiteral(node))
      kinds.push(`${node.text}:${runsAtModuleEvaluation(node) ? "module" : "later"}`);
    ts.forEachChild(node, visit);
  };
  visit(probe);
  assert.deepEqual(kinds, ["/x/:module", "/y/:later", "/z/:module", "/w/:later"]);
});
