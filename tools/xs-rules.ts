// Rules learned on XS that the type checker cannot see, checked on every file that runs there
// (the core, the Moddable adapters and the portable tests), and the line-length limit checked on
// every file the project writes by hand. Read with the TypeScript parser, never with patterns.
import ts from "typescript";
import { layerOf } from "./layering.js";
import type { SourceFile } from "./source-tree.js";

export type XsRule = "error-name-field" | "this-name" | "void-catch" | "charCodeAt-loop" | "line-length";

export interface Finding {
  readonly file: string;
  readonly line: number;
  readonly rule: XsRule;
  readonly message: string;
  /** The line as written, trimmed: what an allowed exception is matched against. */
  readonly text: string;
}

export interface AllowedFinding {
  readonly file: string;
  readonly rule: XsRule;
  /** A part of the line's text, so the exception follows the line when lines above it move. */
  readonly includes: string;
  readonly reason: string;
}

export const MAX_LINE = 120;

/** The findings the project accepts, each with its reason. */
export const ALLOWED: readonly AllowedFinding[] = Object.freeze([
  {
    file: "thethings/values.ts",
    rule: "charCodeAt-loop",
    includes: "character.charCodeAt(0)",
    reason: "index 0 of the one-character string for…of yields: constant time, not a walk along the key",
  },
]);

/** Layers whose files run on XS. */
const XS_LAYERS: ReadonlySet<string> = new Set([
  "kernel",
  "coap",
  "http",
  "thethings",
  "sensors",
  "device",
  "kernel adapters",
  "coap adapters",
  "http adapters",
  "Moddable app",
  "portable tests",
]);

export function runsOnXs(path: string): boolean {
  const layer = layerOf(path);
  return path.endsWith(".ts") && !path.endsWith(".d.ts") && layer !== undefined && XS_LAYERS.has(layer.name);
}

/** The built-in errors a class may extend; classes extending these (or each other) are errors. */
const BUILT_IN_ERRORS: readonly string[] = [
  "Error",
  "AggregateError",
  "EvalError",
  "RangeError",
  "ReferenceError",
  "SyntaxError",
  "TypeError",
  "URIError",
];

function isLoop(node: ts.Node): node is ts.IterationStatement {
  return (
    ts.isForStatement(node) ||
    ts.isForOfStatement(node) ||
    ts.isForInStatement(node) ||
    ts.isWhileStatement(node) ||
    ts.isDoStatement(node)
  );
}

/** Whether `node` runs once per turn of an enclosing loop (its body, condition or step). */
function insideLoop(node: ts.Node): boolean {
  let child = node;
  for (let parent = node.parent; parent !== undefined; child = parent, parent = parent.parent) {
    if (!isLoop(parent)) continue;
    if (ts.isForStatement(parent) && child === parent.initializer) continue;
    if ((ts.isForOfStatement(parent) || ts.isForInStatement(parent)) && child === parent.expression) continue;
    return true;
  }
  return false;
}

function unparenthesised(node: ts.Expression): ts.Expression {
  let inner = node;
  while (ts.isParenthesizedExpression(inner)) inner = inner.expression;
  return inner;
}

/** `p.catch(…)`, or `p.then(onFulfilled, onRejected)`: a call whose rejection is handled. */
function handlesRejection(call: ts.CallExpression): boolean {
  if (!ts.isPropertyAccessExpression(call.expression)) return false;
  const method = call.expression.name.text;
  return (method === "catch" && call.arguments.length >= 1) || (method === "then" && call.arguments.length >= 2);
}

function heritageName(node: ts.ClassLikeDeclaration): string | undefined {
  for (const clause of node.heritageClauses ?? []) {
    if (clause.token !== ts.SyntaxKind.ExtendsKeyword) continue;
    const base = clause.types[0]?.expression;
    if (base !== undefined && ts.isIdentifier(base)) return base.text;
    if (base !== undefined && ts.isPropertyAccessExpression(base)) return base.name.text;
  }
  return undefined;
}

function declaresNameField(node: ts.ClassLikeDeclaration): boolean {
  return node.members.some(
    (m) =>
      ts.isPropertyDeclaration(m) &&
      m.initializer !== undefined &&
      ((ts.isIdentifier(m.name) && m.name.text === "name") || (ts.isStringLiteral(m.name) && m.name.text === "name")),
  );
}

/** The XS rules on the files that run there. */
export function checkXsRules(files: readonly SourceFile[]): Finding[] {
  const parsed = files.filter((f) => runsOnXs(f.path)).map((f) => ({ file: f, source: parse(f) }));
  // Error subclasses are found across files by class name, so a subclass of a subclass counts.
  const bases = new Map<string, string>();
  for (const { source } of parsed) {
    walk(source, (node) => {
      if (!ts.isClassDeclaration(node) && !ts.isClassExpression(node)) return;
      const base = heritageName(node);
      if (node.name !== undefined && base !== undefined) bases.set(node.name.text, base);
    });
  }
  const isError = (name: string | undefined): boolean => {
    for (let seen = 0; name !== undefined && seen < 50; seen++) {
      if (BUILT_IN_ERRORS.includes(name)) return true;
      name = bases.get(name);
    }
    return false;
  };
  const findings: Finding[] = [];
  for (const { file, source } of parsed) {
    const lines = file.text.split("\n");
    const report = (node: ts.Node, rule: XsRule, message: string): void => {
      const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      findings.push({ file: file.path, line, rule, message, text: (lines[line - 1] ?? "").trim() });
    };
    walk(source, (node) => {
      if ((ts.isClassDeclaration(node) || ts.isClassExpression(node)) && isError(heritageName(node))) {
        if (!declaresNameField(node)) {
          const what = node.name?.text ?? "an anonymous class";
          report(
            node,
            "error-name-field",
            `${what} extends an Error: declare \`override readonly name = "…"\` as a field`,
          );
        }
      }
      if (
        ts.isBinaryExpression(node) &&
        node.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
        ts.isPropertyAccessExpression(node.left) &&
        node.left.expression.kind === ts.SyntaxKind.ThisKeyword &&
        node.left.name.text === "name"
      ) {
        report(node, "this-name", "`this.name =` fails on XS, where built-ins are frozen after preload: use a field");
      }
      if (ts.isVoidExpression(node)) {
        const operand = unparenthesised(node.expression);
        if (ts.isCallExpression(operand) && !handlesRejection(operand)) {
          report(node, "void-catch", "a promise started with `void` must end in .catch(…) (a rejection aborts XS)");
        }
      }
      if (
        ts.isCallExpression(node) &&
        ts.isPropertyAccessExpression(node.expression) &&
        node.expression.name.text === "charCodeAt" &&
        insideLoop(node)
      ) {
        report(
          node,
          "charCodeAt-loop",
          "charCodeAt in a loop walks the string from its start each time on XS: use for…of",
        );
      }
    });
  }
  return findings;
}

/** The length of the longest unbreakable token on each line: a URL, or a string, template or regex literal. */
function unbreakableLengths(file: SourceFile): Map<number, number> {
  const longest = new Map<number, number>();
  const note = (line: number, length: number): void => {
    longest.set(line, Math.max(longest.get(line) ?? 0, length));
  };
  file.text.split("\n").forEach((line, index) => {
    for (const url of line.match(/https?:\/\/\S+/g) ?? []) note(index + 1, url.length);
    if (file.path.endsWith(".json")) {
      for (const string of line.match(/"(?:[^"\\]|\\.)*"/g) ?? []) note(index + 1, string.length);
    }
  });
  if (!file.path.endsWith(".ts")) return longest;
  const source = parse(file);
  walk(source, (node) => {
    // The formatter keeps `test("name", async () => {` on one line however long the name: a
    // name that does not fit beside the callback's head cannot be wrapped either.
    if (ts.isCallExpression(node) && isTestCall(node)) {
      const name = node.arguments[0]!;
      note(source.getLineAndCharacterOfPosition(name.getStart()).line + 1, Number.POSITIVE_INFINITY);
    }
    if (
      !ts.isStringLiteral(node) &&
      !ts.isNoSubstitutionTemplateLiteral(node) &&
      !ts.isTemplateExpression(node) &&
      !ts.isRegularExpressionLiteral(node)
    ) {
      return;
    }
    const start = source.getLineAndCharacterOfPosition(node.getStart());
    const end = source.getLineAndCharacterOfPosition(node.getEnd());
    if (start.line === end.line) note(start.line + 1, end.character - start.character);
  });
  return longest;
}

const TEST_FUNCTIONS: ReadonlySet<string> = new Set(["test", "it", "describe", "suite"]);

/** `test("name", …)`, `describe.skip("name", …)`: a test call with its name written as a literal. */
function isTestCall(call: ts.CallExpression): boolean {
  const callee = ts.isPropertyAccessExpression(call.expression) ? call.expression.expression : call.expression;
  const name = call.arguments[0];
  return (
    ts.isIdentifier(callee) &&
    TEST_FUNCTIONS.has(callee.text) &&
    name !== undefined &&
    (ts.isStringLiteral(name) || ts.isNoSubstitutionTemplateLiteral(name) || ts.isTemplateExpression(name))
  );
}

/**
 * A line longer than MAX_LINE is allowed only when it holds a token that cannot be wrapped (a
 * string, a URL) and that would not fit even on a line of its own one level deeper (two more
 * spaces of indentation, and a closing comma), or that is the name of a test call. A markdown table
 * row cannot be wrapped at all.
 */
export function unwrappable(line: string, path: string, longestToken: number): boolean {
  if (path.endsWith(".md") && line.trimStart().startsWith("|")) return true;
  const indent = line.length - line.trimStart().length;
  return longestToken > 0 && indent + 2 + longestToken + 1 > MAX_LINE;
}

/** Files held to the line limit: the project's sources, configuration and documentation. */
export function lineChecked(path: string): boolean {
  return /\.(ts|json|md)$/.test(path) || path === ".ci/run";
}

export function checkLineLength(files: readonly SourceFile[]): Finding[] {
  const findings: Finding[] = [];
  for (const file of files) {
    if (!lineChecked(file.path)) continue;
    const lines = file.text.split("\n");
    if (lines.every((line) => line.length <= MAX_LINE)) continue;
    const longest = unbreakableLengths(file);
    lines.forEach((line, index) => {
      const length = [...line].length;
      if (length <= MAX_LINE || unwrappable(line, file.path, longest.get(index + 1) ?? 0)) return;
      const message = `${length} characters (limit ${MAX_LINE}; only a string or URL that cannot fit alone may pass)`;
      findings.push({ file: file.path, line: index + 1, rule: "line-length", message, text: line.trim() });
    });
  }
  return findings;
}

/** `findings` less the allowed ones, and the allowed exceptions that no longer match anything. */
export function applyAllowed(
  findings: readonly Finding[],
  allowed: readonly AllowedFinding[],
): { findings: Finding[]; unused: AllowedFinding[] } {
  const used = new Set<AllowedFinding>();
  const kept = findings.filter((f) => {
    const match = allowed.find((a) => a.file === f.file && a.rule === f.rule && f.text.includes(a.includes));
    if (match !== undefined) used.add(match);
    return match === undefined;
  });
  return { findings: kept, unused: allowed.filter((a) => !used.has(a)) };
}

export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line}: [${f.rule}] ${f.message}`;
}

function parse(file: SourceFile): ts.SourceFile {
  return ts.createSourceFile(file.path, file.text, ts.ScriptTarget.ES2022, true);
}

function walk(node: ts.Node, visit: (node: ts.Node) => void): void {
  visit(node);
  ts.forEachChild(node, (child) => walk(child, visit));
}
