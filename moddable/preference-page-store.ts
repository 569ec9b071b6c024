// PageStore on Moddable's Preference: NVS flash on the ESP32 (one key per slot, p0 … p15, in a
// domain of its own), a JSON file in the host's temporary folder on the simulator, where it
// survives a relaunch (LittleFS there is a RAM disk that does not). Why NVS and not LittleFS on
// the board: the SDK's default ESP32 partition table has a 24 KB NVS partition and no `storage`
// partition (build/devices/esp32/xsProj-esp32/partitions.csv), so LittleFS would need a partition
// table of the app's own and a reflash of the whole layout; NVS needs nothing, spreads its writes
// over the partition's sectors, and the outbox's 16 slots of at most 1024 bytes stay well inside
// it (moddable/README.md, "Flash outbox", has the figures). Preference.set erases a key before it
// sets it again (modules/files/preference/esp32/modPreference.c), so the outbox never rewrites a
// slot in place: it writes a free slot first, then erases the old one.
import Preference from "preference";
import type { PageStore } from "../kernel/page-store.js";

export interface PreferencePageStoreOptions {
  /** The Preference domain of the pages (1–15 characters, apart from the token's). */
  readonly domain: string;
  /** Slots, at most 100 (keys p0 … p99). */
  readonly slots: number;
  /** The largest page, at most 4000 bytes (the NVS value limit); 1024 by default. */
  readonly pageBytes?: number;
}

export class PreferencePageStore implements PageStore {
  static readonly MAX_PAGE_BYTES = 4000;
  readonly slots: number;
  readonly pageBytes: number;
  readonly #domain: string;

  constructor(options: PreferencePageStoreOptions) {
    const { domain, slots } = options;
    if (typeof domain !== "string" || domain.length === 0 || domain.length > 15)
      throw new RangeError(`PreferencePageStore: domain ${JSON.stringify(domain)} must be 1–15 characters`);
    if (!Number.isInteger(slots) || slots < 1 || slots > 100)
      throw new RangeError(`PreferencePageStore: ${slots} slots, 1–100`);
    const pageBytes = options.pageBytes ?? 1024;
    if (!Number.isInteger(pageBytes) || pageBytes < 64 || pageBytes > PreferencePageStore.MAX_PAGE_BYTES)
      throw new RangeError(
        `PreferencePageStore: pages of ${pageBytes} bytes, 64–${PreferencePageStore.MAX_PAGE_BYTES}`,
      );
    this.#domain = domain;
    this.slots = slots;
    this.pageBytes = pageBytes;
  }

  read(slot: number): Uint8Array | undefined {
    const value = Preference.get(this.#domain, this.#key(slot));
    return value instanceof ArrayBuffer ? new Uint8Array(value) : undefined;
  }

  write(slot: number, page: Uint8Array): void {
    if (page.length > this.pageBytes) throw new RangeError(`PreferencePageStore: page of ${page.length} bytes`);
    // A copy of exactly the page's bytes: Preference stores a whole ArrayBuffer.
    Preference.set(this.#domain, this.#key(slot), page.slice().buffer as ArrayBuffer);
  }

  /** Deleting an absent key is a no-op on every target (the ESP32's reports "not found", which the SDK passes over). */
  erase(slot: number): void {
    Preference.delete(this.#domain, this.#key(slot));
  }

  #key(slot: number): string {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slots)
      throw new RangeError(`PreferencePageStore: no slot ${slot}`);
    return `p${slot}`;
  }
}
