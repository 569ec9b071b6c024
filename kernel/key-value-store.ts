// Small persistent storage as a port (Moddable Preference on the board and in the simulator, a
// JSON file on the PC). Every write wears flash on the board: callers write on change only.

/** Small persistent key/value storage (Moddable Preference: keys ≤ 15 characters, values ≤ 4000 bytes). */
export interface KeyValueStore {
  read(key: string): string | undefined;
  write(key: string, value: string): void;
  remove(key: string): void;
}
