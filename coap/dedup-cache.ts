// Duplicate detection for messages from the server (RFC 7252 §4.5): the message ID of every
// CON (for EXCHANGE_LIFETIME) and NON (for NON_LIFETIME) already processed, with the reply it
// got, so that a duplicate is answered with that same reply and never processed twice.

/** What the first copy of a message got back: an empty ACK, a RST, or nothing (NON). */
export type DuplicateReply = "ack" | "rst" | "none";

interface Remembered {
  readonly reply: DuplicateReply;
  readonly expiresAt: number;
}

export class DuplicateCache {
  /**
   * Bound: `capacity` entries; the oldest is forgotten first, even before it expires (a
   * duplicate older than the window's capacity is then processed again, where observe
   * freshness and exchange matching still keep it from being delivered twice).
   */
  readonly #entries = new Map<number, Remembered>();
  readonly #capacity: number;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`duplicate cache capacity: ${capacity}`);
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The reply given to message `messageId` if it was seen within its lifetime. */
  lookup(messageId: number, now: number): DuplicateReply | undefined {
    const entry = this.#entries.get(messageId);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(messageId);
      return undefined;
    }
    return entry.reply;
  }

  record(messageId: number, reply: DuplicateReply, now: number, lifetimeMs: number): void {
    this.#purgeExpired(now);
    this.#entries.delete(messageId);
    this.#entries.set(messageId, { reply, expiresAt: now + lifetimeMs });
    while (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
  }

  clear(): void {
    this.#entries.clear();
  }

  /** Drops expired entries from the old end (entries are kept in the order they were recorded). */
  #purgeExpired(now: number): void {
    for (const [id, entry] of this.#entries) {
      if (entry.expiresAt > now) break;
      this.#entries.delete(id);
    }
  }
}
