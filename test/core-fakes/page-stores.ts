// Page stores for the outbox specs: one in RAM that counts what wears flash and can fail on
// demand, and a wrapper that tears the next write the way a power cut does on storage whose
// writes are not atomic (a page cut short, or new bytes over old ones). Portable (Node and XS).
import type { PageStore } from "../../kernel/page-store.js";

export class MemoryPageStore implements PageStore {
  readonly slots: number;
  readonly pageBytes: number;
  /** What each slot holds. Bound: slots × pageBytes. */
  readonly pages: (Uint8Array | undefined)[] = [];
  writes = 0;
  erases = 0;
  /** Set to make the next writes (or erases) throw, as failing storage does. */
  failWrites = false;
  failErases = false;

  constructor(slots = 16, pageBytes = 1024) {
    this.slots = slots;
    this.pageBytes = pageBytes;
    for (let i = 0; i < slots; i++) this.pages.push(undefined);
  }

  read(slot: number): Uint8Array | undefined {
    const page = this.#check(slot);
    return page === undefined ? undefined : page.slice();
  }

  write(slot: number, page: Uint8Array): void {
    this.#check(slot);
    if (page.length > this.pageBytes) throw new RangeError(`page of ${page.length} bytes > ${this.pageBytes}`);
    if (this.failWrites) throw new Error("flash write failed");
    this.pages[slot] = page.slice();
    this.writes++;
  }

  erase(slot: number): void {
    this.#check(slot);
    if (this.failErases) throw new Error("flash erase failed");
    this.pages[slot] = undefined;
    this.erases++;
  }

  /** Slots holding something. */
  get used(): number {
    return this.pages.filter((page) => page !== undefined).length;
  }

  #check(slot: number): Uint8Array | undefined {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slots) throw new RangeError(`no slot ${slot}`);
    return this.pages[slot];
  }
}

/** How the next write is torn: only its first `keep` bytes land, over what the slot held before. */
export interface Tear {
  readonly keep: number;
}

/** Wraps a store; `tearNext` makes the next write land in part, then the "power" is gone (it throws). */
export class TearingPageStore implements PageStore {
  readonly #inner: PageStore;
  tearNext: Tear | undefined;
  torn = 0;

  constructor(inner: PageStore) {
    this.#inner = inner;
  }

  get slots(): number {
    return this.#inner.slots;
  }

  get pageBytes(): number {
    return this.#inner.pageBytes;
  }

  read(slot: number): Uint8Array | undefined {
    return this.#inner.read(slot);
  }

  write(slot: number, page: Uint8Array): void {
    const tear = this.tearNext;
    if (tear === undefined) {
      this.#inner.write(slot, page);
      return;
    }
    this.tearNext = undefined;
    this.torn++;
    const old = this.#inner.read(slot) ?? new Uint8Array(0);
    const landed = new Uint8Array(Math.max(old.length, Math.min(tear.keep, page.length)));
    landed.set(old);
    landed.set(page.subarray(0, Math.min(tear.keep, page.length)));
    this.#inner.write(slot, landed);
    throw new Error("power cut during the write");
  }

  erase(slot: number): void {
    this.#inner.erase(slot);
  }
}
