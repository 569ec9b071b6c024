// Pages of bytes kept across reboots, as a port: the telemetry outbox keeps the values that
// waited too long in RAM here. Moddable: NVS through Preference (moddable/preference-page-store.ts,
// one key per slot); PC: one file per slot in the --state folder (host/file-page-store.ts).
// A write may be torn by a power cut on some storage, so whatever is kept here carries its own
// checksum; the port only moves bytes.

/** A fixed number of slots, each empty or holding one page of at most `pageBytes` bytes. */
export interface PageStore {
  /** Slots 0 … slots − 1. */
  readonly slots: number;
  /** The largest page a slot takes. */
  readonly pageBytes: number;
  /** The page in `slot` (a copy the caller may keep), or undefined when the slot is empty. */
  read(slot: number): Uint8Array | undefined;
  /** Replaces the page in `slot`. Throws when the storage fails (full, worn out, unplugged). */
  write(slot: number, page: Uint8Array): void;
  /** Empties `slot`; an empty slot stays empty. Throws when the storage fails. */
  erase(slot: number): void;
}
