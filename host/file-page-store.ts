// PageStore on the PC: one file per slot in a folder of the --state directory (DIR/outbox/N.page),
// the stand-in for the board's NVS. A write goes to a temporary file that is flushed to disk
// (fsync) and then renamed over the slot's file, so a crash or a SIGKILL at any moment leaves the
// old page or the new one, never a torn one; a temporary file left by such a crash is ignored.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { PageStore } from "../kernel/page-store.js";

export interface FilePageStoreOptions {
  /** Slots (files) it may hold; 256 by default. */
  readonly slots?: number;
  /** The largest page; 1024 bytes by default, as on the board. */
  readonly pageBytes?: number;
}

function isMissing(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "ENOENT";
}

export class FilePageStore implements PageStore {
  readonly directory: string;
  readonly slots: number;
  readonly pageBytes: number;

  constructor(directory: string, options: FilePageStoreOptions = {}) {
    this.directory = directory;
    this.slots = options.slots ?? 256;
    this.pageBytes = options.pageBytes ?? 1024;
    mkdirSync(directory, { recursive: true });
  }

  read(slot: number): Uint8Array | undefined {
    try {
      return new Uint8Array(readFileSync(this.#path(slot)));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  write(slot: number, page: Uint8Array): void {
    if (page.length > this.pageBytes) throw new RangeError(`page of ${page.length} bytes > ${this.pageBytes}`);
    const path = this.#path(slot);
    const temporary = `${path}.tmp`;
    const fd = openSync(temporary, "w");
    try {
      writeSync(fd, page);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  }

  erase(slot: number): void {
    try {
      unlinkSync(this.#path(slot));
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  #path(slot: number): string {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slots) throw new RangeError(`no slot ${slot}`);
    return join(this.directory, `${slot}.page`);
  }
}
