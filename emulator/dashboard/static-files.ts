// The page's files, read once when the dashboard starts and served from memory by exact name:
// no path from a request ever reaches the file system. The HTML and CSS come from the source tree,
// the scripts from tsc's output beside this module, uPlot from node_modules.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export interface StaticFile {
  readonly type: string;
  readonly body: Buffer;
}

/** The page's source folder: emulator/dashboard/page/, from build/emulator/dashboard/. */
const SOURCE = new URL("../../../emulator/dashboard/page/", import.meta.url);
/** The page's scripts as tsc emitted them. */
const BUILT = new URL("./page/", import.meta.url);

const TYPES: Readonly<Record<string, string>> = Object.freeze({
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  svg: "image/svg+xml",
});

/** Every file the dashboard serves, by URL path. */
export function loadStaticFiles(): ReadonlyMap<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const add = (path: string, file: URL | string): void => {
    const name = String(file);
    const extension = name.slice(name.lastIndexOf(".") + 1);
    files.set(path, { type: TYPES[extension] ?? "application/octet-stream", body: readFileSync(file) });
  };
  add("/", new URL("index.html", SOURCE));
  add("/style.css", new URL("style.css", SOURCE));
  add("/icon.svg", new URL("icon.svg", SOURCE));
  for (const name of readdirSync(fileURLToPath(BUILT))) {
    if (/^[a-z-]+\.js$/.test(name)) add(`/app/${name}`, new URL(name, BUILT));
  }
  const require = createRequire(import.meta.url);
  add("/vendor/uPlot.iife.min.js", require.resolve("uplot/dist/uPlot.iife.min.js"));
  add("/vendor/uPlot.min.css", require.resolve("uplot/dist/uPlot.min.css"));
  return files;
}
