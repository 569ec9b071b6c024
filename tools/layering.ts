// The dependency rules between the project's folders, and the check that every import follows
// them. Imports are read with the TypeScript parser (static, `export … from`, dynamic `import()`
// with a literal, `import("…")` types), never with patterns. The rule table is data: README.md
// shows the same table, and test/node/layering.test.ts keeps the two equal.
import { posix } from "node:path";
import ts from "typescript";
import type { SourceFile } from "./source-tree.js";

/** What an import names when it is not a project file. */
export type SpecifierKind = "node:*" | "npm" | "Moddable SDK";

export interface Layer {
  readonly name: string;
  /**
   * Folders ("coap/") and single files ("main.ts") the layer holds. A file belongs to the layer
   * with the longest matching entry, so "kernel/moddable/" takes its files from "kernel/".
   */
  readonly folders: readonly string[];
  /** The layers and kinds of module its files may import ("anything": no restriction). */
  readonly mayImport: readonly string[];
}

const CORE = ["kernel", "coap", "http", "thethings", "sensors", "device"] as const;
const SPECIFIER_KINDS: readonly SpecifierKind[] = ["node:*", "npm", "Moddable SDK"];
export const ANYTHING = "anything";

/** Core layers that stand beside another rather than above it: only device imports them. */
const BESIDE: ReadonlySet<string> = new Set(["http"]);

/**
 * Each core layer may import its own layer and the ones before it in CORE; http stands beside
 * coap (the kernel only), and of the layers above it only device imports it.
 */
const coreLayers: Layer[] = CORE.map((name, index) => ({
  name,
  folders: [`${name}/`],
  mayImport: BESIDE.has(name)
    ? ["kernel", name]
    : CORE.slice(0, index + 1).filter((below) => !BESIDE.has(below) || name === "device"),
}));

export const LAYERS: readonly Layer[] = Object.freeze([
  ...coreLayers,
  { name: "kernel adapters", folders: ["kernel/moddable/"], mayImport: ["kernel", "kernel adapters", "Moddable SDK"] },
  {
    name: "coap adapters",
    folders: ["coap/moddable/"],
    mayImport: ["kernel", "coap", "kernel adapters", "coap adapters", "Moddable SDK"],
  },
  {
    name: "http adapters",
    folders: ["http/moddable/"],
    mayImport: ["kernel", "http", "kernel adapters", "http adapters", "Moddable SDK"],
  },
  {
    name: "Moddable app",
    folders: ["moddable/", "main.ts"],
    mayImport: [...CORE, "kernel adapters", "coap adapters", "http adapters", "Moddable app", "Moddable SDK"],
  },
  {
    name: "examples",
    folders: ["examples/"],
    mayImport: ["kernel", "coap", "kernel adapters", "coap adapters", "examples", "Moddable SDK"],
  },
  { name: "emulator", folders: ["emulator/"], mayImport: ["emulator", "node:*", "npm"] },
  { name: "host", folders: ["host/"], mayImport: [...CORE, "emulator", "host", "node:*", "npm"] },
  {
    name: "portable tests",
    folders: ["test/core/", "test/core-fakes/", "test/fuzz/", "test/portable/", "test/sim/", "test/xs/"],
    mayImport: [...CORE, "portable tests"],
  },
  {
    name: "Node tests and tools",
    folders: ["test/", "test/fuzz/run.ts", "bench/", "tools/"],
    mayImport: [ANYTHING],
  },
]);

export interface Finding {
  readonly file: string;
  readonly line: number;
  readonly specifier: string;
  readonly rule: "layering" | "module-kind" | "js-suffix" | "no-layer" | "outside-tree";
  readonly message: string;
}

/** The layer that holds `path`, by its longest matching folder entry. */
export function layerOf(path: string, layers: readonly Layer[] = LAYERS): Layer | undefined {
  let best: Layer | undefined;
  let bestLength = -1;
  for (const layer of layers) {
    for (const entry of layer.folders) {
      const matches = entry.endsWith("/") ? path.startsWith(entry) : path === entry;
      if (matches && entry.length > bestLength) {
        best = layer;
        bestLength = entry.length;
      }
    }
  }
  return best;
}

/** Every module specifier written in `file`, with its line. */
export function importsOf(file: SourceFile): { specifier: string; line: number }[] {
  const source = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.ES2022, true);
  const found: { specifier: string; line: number }[] = [];
  const add = (literal: ts.Node): void => {
    if (!ts.isStringLiteralLike(literal)) return;
    found.push({ specifier: literal.text, line: source.getLineAndCharacterOfPosition(literal.getStart()).line + 1 });
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined) {
      add(node.moduleSpecifier);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument !== undefined) add(argument);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** npm package names: the first segment of a bare specifier, or two for a scoped one. */
function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

/**
 * What a bare specifier names: Node's built-ins are written with "node:", npm packages are the
 * ones package.json lists; anything else resolves only in a Moddable build ("timer",
 * "embedded:io/digital", the manifest's "moddable/board-io").
 */
export function specifierKind(specifier: string, npmPackages: ReadonlySet<string>): SpecifierKind {
  if (specifier.startsWith("node:")) return "node:*";
  return npmPackages.has(packageName(specifier)) ? "npm" : "Moddable SDK";
}

export interface CheckOptions {
  readonly layers?: readonly Layer[];
  /** Names listed in package.json's dependencies and devDependencies. */
  readonly npmPackages: ReadonlySet<string>;
}

/** Every import in `files` that breaks a rule of the layer its file belongs to. */
export function checkImports(files: readonly SourceFile[], options: CheckOptions): Finding[] {
  const layers = options.layers ?? LAYERS;
  const findings: Finding[] = [];
  for (const file of files) {
    const layer = layerOf(file.path, layers);
    if (layer === undefined) {
      const message = `${file.path} is in no layer of the table: add its folder to LAYERS and README.md`;
      findings.push({ file: file.path, line: 1, specifier: "", rule: "no-layer", message });
      continue;
    }
    const anything = layer.mayImport.includes(ANYTHING);
    const may = `${layer.name} may import ${layer.mayImport.join(", ")}`;
    for (const { specifier, line } of importsOf(file)) {
      const report = (rule: Finding["rule"], message: string): void => {
        findings.push({ file: file.path, line, specifier, rule, message });
      };
      if (specifier.startsWith("./") || specifier.startsWith("../")) {
        if (!specifier.endsWith(".js")) report("js-suffix", "a relative import names the emitted file: end it in .js");
        const target = posix.normalize(posix.join(posix.dirname(file.path), specifier));
        if (target.startsWith("../")) {
          report("outside-tree", "the import leaves the project");
          continue;
        }
        const targetLayer = layerOf(target.replace(/\.js$/, ".ts"), layers);
        if (targetLayer === undefined) report("no-layer", `${target} is in no layer of the table`);
        else if (!anything && !layer.mayImport.includes(targetLayer.name)) {
          report("layering", `${targetLayer.name} (${target}) is not allowed here: ${may}`);
        }
        continue;
      }
      // A Moddable build maps our folders to module names ("coap/endpoint" through
      // coap/manifest.json): on the Moddable side such a name is checked as the file it maps to.
      const mapped = layer.mayImport.includes("Moddable SDK") ? layerOf(`${specifier}.ts`, layers) : undefined;
      if (
        mapped !== undefined &&
        ((CORE as readonly string[]).includes(mapped.name) || mapped.name.endsWith(" adapters"))
      ) {
        if (!anything && !layer.mayImport.includes(mapped.name)) {
          report("layering", `${mapped.name} (${specifier}) is not allowed here: ${may}`);
        }
        continue;
      }
      const kind = specifierKind(specifier, options.npmPackages);
      if (!anything && !layer.mayImport.includes(kind))
        report("module-kind", `a ${kind} module is not allowed here: ${may}`);
    }
  }
  return findings;
}

export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line}: import "${f.specifier}" [${f.rule}] ${f.message}`;
}

/** The table as README.md writes it: one row per layer, folders in backticks. */
export function layeringTable(layers: readonly Layer[] = LAYERS): string {
  const rows = layers.map(
    (l) => `| ${l.name} | ${l.folders.map((f) => `\`${f}\``).join(", ")} | ${l.mayImport.join(", ")} |`,
  );
  return ["| layer | folders | may import |", "|---|---|---|", ...rows].join("\n");
}

/** Reads the table back from markdown (the first one whose header is "layer | folders | may import"). */
export function parseLayeringTable(markdown: string): Layer[] | undefined {
  const lines = markdown.split("\n");
  const start = lines.findIndex((l) => /^\|\s*layer\s*\|\s*folders\s*\|\s*may import\s*\|\s*$/.test(l));
  if (start < 0) return undefined;
  const layers: Layer[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    const cells = line
      .split("|")
      .slice(1, -1)
      .map((c) => c.trim());
    const [name = "", folders = "", mayImport = ""] = cells;
    layers.push({
      name,
      folders: folders.split(",").map((f) => f.trim().replace(/^`|`$/g, "")),
      mayImport: mayImport.split(",").map((m) => m.trim()),
    });
  }
  return layers;
}

/** Names that may appear in a "may import" cell: layers, module kinds, or "anything". */
export function knownImportNames(layers: readonly Layer[] = LAYERS): Set<string> {
  return new Set([...layers.map((l) => l.name), ...SPECIFIER_KINDS, ANYTHING]);
}
