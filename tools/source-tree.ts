// The project's own source files, as the source checks (tools/layering.ts, tools/xs-rules.ts)
// read them: everything under the root except what the project does not own or generates.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface SourceFile {
  /** Path from the project root with "/" separators, e.g. "coap/endpoint.ts". */
  readonly path: string;
  readonly text: string;
}

/** Folders never read: installed packages, the build output, git's own. */
const SKIPPED_FOLDERS: ReadonlySet<string> = new Set(["node_modules", "build", ".git"]);

/** Files the project keeps but does not write by hand (npm's lock, recorded benchmark output). */
export function generated(path: string): boolean {
  return path === "package-lock.json" || /^bench\/RESULTS-.*\.md$/.test(path) || path.endsWith(".tsbuildinfo");
}

/** Every file under `root` whose name passes `wanted`, sorted by path. */
export function readTree(root: string, wanted: (path: string) => boolean): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(join(root, folder), { withFileTypes: true })) {
      const path = folder === "" ? entry.name : `${folder}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!SKIPPED_FOLDERS.has(entry.name)) walk(path);
      } else if (entry.isFile() && !generated(path) && wanted(path)) {
        files.push({ path, text: readFileSync(join(root, path), "utf8") });
      }
    }
  };
  walk("");
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The TypeScript sources (declaration files included: their imports count too). */
export function isTypeScript(path: string): boolean {
  return path.endsWith(".ts");
}
