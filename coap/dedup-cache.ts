// Duplicate detection for messages from the server (RFC 7252 §4.5): the message ID of every
// CON (for EXCHANGE_LIFETIME) and NON (for NON_LIFETIME) already processed, with the reply it
// got, so that a duplicate is answered with that same reply and never processed twice.

/** What the first copy of a message got back: an empty ACK, a RST, or nothing (NON). */
export type DuplicateReply = "ack" | "rst" | "none";

const REPLIES: readonly DuplicateReply[] = Object.freeze(["ack", "rst", "none"] as const);

export class DuplicateCache {
  /**
   * Bound: `capacity` entries, held in two typed arrays made once (12 bytes an entry: 768 bytes
   * for the endpoint's 64, where a Map of objects took about 6 KB on the ESP32), as a ring in the
   * order recorded. The oldest is forgotten first, even before it expires (a duplicate older than
   * the window's capacity is then processed again, where observe freshness and exchange matching
   * still keep it from being delivered twice).
   */
  readonly #expiresAt: Float64Array;
  /** The message ID in the low 16 bits, the reply's index in REPLIES above them. */
  readonly #entries: Uint32Array;
  readonly #capacity: number;
  /** Ring position of the oldest entry. */
  #head = 0;
  /** Entries in the ring; those whose expiresAt is 0 are forgotten already. */
  #count = 0;
  #live = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`duplicate cache capacity: ${capacity}`);
    this.#capacity = capacity;
    this.#expiresAt = new Float64Array(capacity);
    this.#entries = new Uint32Array(capacity);
  }

  /** Messages remembered now. */
  get size(): number {
    return this.#live;
  }

  /** The reply given to message `messageId` if it was seen within its lifetime. */
  lookup(messageId: number, now: number): DuplicateReply | undefined {
    const at = this.find(messageId);
    if (at < 0) return undefined;
    if (this.#expiresAt[at]! <= now) {
      this.forget(at);
      this.purgeExpired(now);
      return undefined;
    }
    return REPLIES[this.#entries[at]! >>> 16];
  }

  record(messageId: number, reply: DuplicateReply, now: number, lifetimeMs: number): void {
    this.purgeExpired(now);
    const seen = this.find(messageId);
    if (seen >= 0) this.forget(seen);
    if (this.#count === this.#capacity) this.dropOldest();
    const at = (this.#head + this.#count) % this.#capacity;
    this.#expiresAt[at] = now + lifetimeMs;
    this.#entries[at] = (messageId & 0xffff) | (REPLIES.indexOf(reply) << 16);
    this.#count++;
    this.#live++;
  }

  clear(): void {
    this.#expiresAt.fill(0);
    this.#head = 0;
    this.#count = 0;
    this.#live = 0;
  }

  /** Ring position of the remembered entry for `messageId`, newest first, or -1. */
  private find(messageId: number): number {
    for (let i = this.#count - 1; i >= 0; i--) {
      const at = (this.#head + i) % this.#capacity;
      if (this.#expiresAt[at]! > 0 && (this.#entries[at]! & 0xffff) === messageId) return at;
    }
    return -1;
  }

  private forget(at: number): void {
    this.#expiresAt[at] = 0;
    this.#live--;
  }

  private dropOldest(): void {
    if (this.#expiresAt[this.#head]! > 0) this.#live--;
    this.#expiresAt[this.#head] = 0;
    this.#head = (this.#head + 1) % this.#capacity;
    this.#count--;
  }

  /** Drops expired and forgotten entries from the old end (entries are kept in the order they were recorded). */
  private purgeExpired(now: number): void {
    while (this.#count > 0 && this.#expiresAt[this.#head]! <= now) this.dropOldest();
  }
}
