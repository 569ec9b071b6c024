// Reads a Moddable manifest with the manifests it includes, the way mcconfig merges them
// (tools/mcmanifest.js in the SDK), for the tests that check the manifests against the code.
// Like mcconfig: an include and a local module path resolve against the directory of the
// manifest that names them; included manifests merge before the one that includes them, in
// include order, each once; a manifest's matching platform section (its exact name, else "...")
// merges right after its base and its includes join the manifest's own. Unlike mcconfig, SDK
// manifests ("$(MODDABLE)/…") are only recorded, not read: the tests run without the SDK.
import { readdirSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";

export type ModuleMap = Readonly<Record<string, string | readonly string[]>>;

/** A manifest's base or one of its platform sections. */
export interface ManifestSection {
  readonly include?: string | readonly string[];
  readonly config?: Readonly<Record<string, unknown>>;
  readonly modules?: ModuleMap;
  readonly preload?: string | readonly string[];
  readonly error?: string;
}

export interface Manifest extends ManifestSection {
  readonly platforms?: Readonly<Record<string, ManifestSection>>;
}

/** One local manifest as read: its repository-relative path and its JSON. */
export interface ManifestFile {
  readonly path: string;
  readonly manifest: Manifest;
}

/** The merge of a manifest and its local includes for one target (or for none: bases only). */
export interface ResolvedManifest {
  /** The local manifests in merge order, repository-relative ("kernel/manifest.json"). */
  readonly files: readonly string[];
  /** SDK manifests named by any of them, in order, each once. */
  readonly sdkIncludes: readonly string[];
  readonly config: Record<string, unknown>;
  /** Local paths repository-relative ("./coap/*", "./moddable/board-io-sim"); SDK paths as written. */
  readonly modules: Record<string, string[]>;
  readonly preload: readonly string[];
  readonly errors: readonly string[];
}

export function listOf(value: string | readonly string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  return typeof value === "string" ? [value] : value;
}

export function isSdkPath(path: string): boolean {
  return path.startsWith("$(");
}

export function readManifest(root: string, path: string): Manifest {
  return JSON.parse(readFileSync(join(root, path), "utf8")) as Manifest;
}

/** `path` (as written in the manifest at `manifestPath`) made repository-relative: "./kernel/*". */
export function fromManifest(manifestPath: string, path: string): string {
  if (isSdkPath(path)) return path;
  return `./${posix.normalize(posix.join(posix.dirname(manifestPath), path))}`;
}

function matchPlatform(manifest: Manifest, target: string | undefined): ManifestSection | undefined {
  if (target === undefined || manifest.platforms === undefined) return undefined;
  return manifest.platforms[target] ?? manifest.platforms["..."];
}

export function resolveManifest(root: string, path: string, target?: string): ResolvedManifest {
  const files: string[] = [];
  const sdkIncludes: string[] = [];
  const config: Record<string, unknown> = {};
  const modules: Record<string, string[]> = {};
  const preload: string[] = [];
  const errors: string[] = [];
  const merge = (manifestPath: string, section: ManifestSection): void => {
    Object.assign(config, section.config ?? {});
    for (const [specifier, value] of Object.entries(section.modules ?? {})) {
      (modules[specifier] ??= []).push(...listOf(value).map((entry) => fromManifest(manifestPath, entry)));
    }
    preload.push(...listOf(section.preload));
    if (section.error !== undefined) errors.push(section.error);
  };
  const seen = new Set<string>();
  const visit = (manifestPath: string): void => {
    // Like mcconfig, a manifest counts as read from the moment it is opened (cycles end there).
    if (seen.has(manifestPath)) return;
    seen.add(manifestPath);
    const manifest = readManifest(root, manifestPath);
    const platform = matchPlatform(manifest, target);
    for (const include of [...listOf(manifest.include), ...listOf(platform?.include)]) {
      if (isSdkPath(include)) {
        if (!sdkIncludes.includes(include)) sdkIncludes.push(include);
      } else {
        visit(fromManifest(manifestPath, include).slice(2));
      }
    }
    files.push(manifestPath);
    merge(manifestPath, manifest);
    if (platform !== undefined) merge(manifestPath, platform);
  };
  visit(path);
  return { files, sdkIncludes, config, modules, preload, errors };
}

/** Every local manifest reachable from `path` on any target, each once. */
export function manifestTree(root: string, path: string): ManifestFile[] {
  const found: ManifestFile[] = [];
  const visit = (manifestPath: string): void => {
    if (found.some((file) => file.path === manifestPath)) return;
    const manifest = readManifest(root, manifestPath);
    found.push({ path: manifestPath, manifest });
    const sections = [manifest, ...Object.values(manifest.platforms ?? {})];
    for (const include of sections.flatMap((section) => listOf(section.include))) {
      if (!isSdkPath(include)) visit(fromManifest(manifestPath, include).slice(2));
    }
  };
  visit(path);
  return found;
}

function tsModules(root: string, folder: string): string[] {
  return readdirSync(join(root, folder))
    .filter((name) => name.endsWith(".ts") && !name.endsWith(".d.ts"))
    .sort()
    .map((name) => name.slice(0, -3));
}

/**
 * The local TypeScript modules a module map builds, as specifier → repository-relative file
 * without extension ("coap/endpoint" → "coap/endpoint"), after the "~" exclusions, as mcconfig
 * expands it: "x/*" → "./dir/*" maps each .ts file of dir (not its subfolders), "*" → "./dir/f"
 * maps f under its own name, a plain specifier maps one file. A file goes in once, under the
 * first specifier that maps it (so "setup/network" wins over "moddable/esp32/*" on the board).
 */
export function builtModules(root: string, modules: Readonly<Record<string, readonly string[]>>): Map<string, string> {
  const excluded = new Set((modules["~"] ?? []).filter((path) => !isSdkPath(path)).map((path) => path.slice(2)));
  const built = new Map<string, string>();
  const placed = new Set<string>();
  const add = (specifier: string, file: string): void => {
    if (excluded.has(file) || placed.has(file)) return;
    placed.add(file);
    built.set(specifier, file);
  };
  for (const [specifier, paths] of Object.entries(modules)) {
    if (specifier === "~") continue;
    for (const path of paths) {
      if (isSdkPath(path)) continue;
      const file = path.slice(2);
      if (file.endsWith("/*")) {
        const folder = file.slice(0, -2);
        const prefix = specifier === "*" ? "" : specifier.slice(0, -1);
        for (const name of tsModules(root, folder)) add(`${prefix}${name}`, `${folder}/${name}`);
      } else {
        add(specifier === "*" ? posix.basename(file) : specifier, file);
      }
    }
  }
  return built;
}

/** The .ts modules of `folder` as repository-relative paths without extension. */
export function folderModules(root: string, folder: string): string[] {
  return tsModules(root, folder).map((name) => `${folder}/${name}`);
}
