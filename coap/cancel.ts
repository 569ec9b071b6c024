// A portable stand-in for AbortController (XS has none): cancels the requests given its signal.
import type { AbortSignalLike } from "./client-api.js";

class CancelSignal implements AbortSignalLike {
  #aborted = false;
  /** Bound: one listener per request using this signal that is still pending. */
  readonly #listeners = new Set<() => void>();

  get aborted(): boolean {
    return this.#aborted;
  }

  addEventListener(_type: "abort", listener: () => void): void {
    this.#listeners.add(listener);
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    this.#listeners.delete(listener);
  }

  /** @internal */
  fire(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    const listeners = Array.from(this.#listeners);
    this.#listeners.clear();
    for (const listener of listeners) listener();
  }
}

export class CancelSource {
  readonly #signal = new CancelSignal();

  get signal(): AbortSignalLike {
    return this.#signal;
  }

  /** Cancels every request given this signal; later calls do nothing. */
  cancel(): void {
    this.#signal.fire();
  }
}
