// What the platform knows about each thing beyond its values: when it was last heard from and how
// many values it holds. The dashboard shows both. Kept in memory: "last heard" starts unknown at
// each start of the platform, and the counts are read from the store once, then kept up to date
// by the write path, so listing things never counts rows.
import type { Store } from "./store.js";

export class ThingActivity {
  // Both maps hold at most one entry per thing in the store: activation codes bound the things.
  readonly #lastHeard = new Map<number, number>();
  readonly #values: Map<number, number>;

  constructor(store: Store) {
    this.#values = store.valueCounts();
  }

  /** The thing sent a request naming its token, or acknowledged a notification, at `at`. */
  heard(thing: number, at: number): void {
    this.#lastHeard.set(thing, at);
  }

  /** `count` more values were stored for the thing. */
  stored(thing: number, count: number): void {
    this.#values.set(thing, (this.#values.get(thing) ?? 0) + count);
  }

  /** Milliseconds since the epoch, or undefined if not heard from since the platform started. */
  lastHeard(thing: number): number | undefined {
    return this.#lastHeard.get(thing);
  }

  valueCount(thing: number): number {
    return this.#values.get(thing) ?? 0;
  }
}
