// KeyValueStore over one JSON file: the PC's stand-in for the board's flash (Preference). Every
// write replaces the file atomically (temporary file + rename), so a crash never leaves it torn.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { KeyValueStore } from "../kernel/key-value-store.js";

export class JsonFileStore implements KeyValueStore {
  readonly path: string;
  #values: Record<string, string>;

  constructor(directory: string, fileName = "preferences.json") {
    mkdirSync(directory, { recursive: true });
    this.path = join(directory, fileName);
    this.#values = JsonFileStore.#load(this.path);
  }

  static #load(path: string): Record<string, string> {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      return {};
    }
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
      throw new Error(`${path}: not a JSON object`);
    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries(parsed)) if (typeof value === "string") values[key] = value;
    return values;
  }

  read(key: string): string | undefined {
    return Object.hasOwn(this.#values, key) ? this.#values[key] : undefined;
  }

  write(key: string, value: string): void {
    this.#values = { ...this.#values, [key]: value };
    this.#save();
  }

  remove(key: string): void {
    if (this.read(key) === undefined) return;
    const { [key]: _removed, ...rest } = this.#values;
    this.#values = rest;
    this.#save();
  }

  #save(): void {
    const temporary = `${this.path}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(this.#values, null, 2)}\n`);
    renameSync(temporary, this.path);
  }
}
