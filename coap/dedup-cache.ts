// Duplicate detection for messages from the server (RFC 7252 §4.5): the message ID of every
// CON (for EXCHANGE_LIFETIME) and NON (for NON_LIFETIME) already processed, with the reply it
// got, so that a duplicate is answered with that same reply and never processed twice.

/** What the first copy of a message got back: an empty ACK, a RST, or nothing (NON). */
export type DuplicateReply = "ack" | "rst" | "none";

const REPLIES: readonly DuplicateReply[] = Object.freeze(["ack", "rst", "none"] as const);

/** Three 16-bit words an entry: the message ID, then the reply and the expiry (see #words). */
const WORDS = 3;
/** Expiries are kept as 30-bit offsets from #epoch (12.4 days of milliseconds). */
const OFFSET_LIMIT = 2 ** 30;
/**
 * The longest lifetime kept: EXCHANGE_LIFETIME is 247 s with the default parameters; only
 * extreme ones (MAX_RETRANSMIT near 20) exceed this, and are remembered this long instead.
 */
const MAX_LIFETIME_MS = OFFSET_LIMIT / 2;

export class DuplicateCache {
  /**
   * Bound: `capacity` entries, held in one typed array made once (6 bytes an entry: 384 bytes
   * for the endpoint's 64, where a Map of objects took about 6 KB on the ESP32), as a ring in the
   * order recorded. The oldest is forgotten first, even before it expires (a duplicate older than
   * the window's capacity is then processed again, where observe freshness and exchange matching
   * still keep it from being delivered twice). An entry's words: the message ID; the reply's
   * index in REPLIES above the expiry's high 14 bits; the expiry's low 16 bits. The expiry is
   * stored as expiresAt − #epoch + 1, so that 0 marks an entry forgotten already.
   */
  readonly #words: Uint16Array;
  /** The clock time expiries are counted from; moved forward when an offset would overflow. */
  #epoch = 0;
  /** Ring position of the oldest entry. */
  #head = 0;
  /** Entries in the ring; those whose expiry is 0 are forgotten already. */
  #count = 0;
  #live = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`duplicate cache capacity: ${capacity}`);
    this.#words = new Uint16Array(capacity * WORDS);
  }

  /** Messages remembered now. */
  get size(): number {
    return this.#live;
  }

  /** The reply given to message `messageId` if it was seen within its lifetime. */
  lookup(messageId: number, now: number): DuplicateReply | undefined {
    const at = this.find(messageId);
    if (at < 0) return undefined;
    if (this.expired(at, now)) {
      this.forget(at);
      this.purgeExpired(now);
      return undefined;
    }
    return REPLIES[this.#words[at * WORDS + 1]! >>> 14];
  }

  record(messageId: number, reply: DuplicateReply, now: number, lifetimeMs: number): void {
    this.purgeExpired(now);
    const seen = this.find(messageId);
    if (seen >= 0) this.forget(seen);
    const capacity = this.capacity;
    if (this.#count === capacity) this.dropOldest();
    if (this.#count === 0) this.#epoch = now;
    const lifetime = Math.min(lifetimeMs, MAX_LIFETIME_MS);
    if (now + lifetime - this.#epoch + 1 >= OFFSET_LIMIT) this.rebase(now);
    const at = (this.#head + this.#count) % capacity;
    const offset = now + lifetime - this.#epoch + 1;
    const words = this.#words;
    words[at * WORDS] = messageId & 0xffff;
    words[at * WORDS + 1] = (REPLIES.indexOf(reply) << 14) | Math.floor(offset / 0x10000);
    words[at * WORDS + 2] = offset & 0xffff;
    this.#count++;
    this.#live++;
  }

  clear(): void {
    this.#words.fill(0);
    this.#head = 0;
    this.#count = 0;
    this.#live = 0;
  }

  /** Entries the ring holds (its length in WORDS, not a field of its own). */
  private get capacity(): number {
    return this.#words.length / WORDS;
  }

  /** The stored expiry of the entry at `at` (expiresAt − #epoch + 1), 0 if it is forgotten. */
  private offset(at: number): number {
    return (this.#words[at * WORDS + 1]! & 0x3fff) * 0x10000 + this.#words[at * WORDS + 2]!;
  }

  private setOffset(at: number, offset: number): void {
    this.#words[at * WORDS + 1] = (this.#words[at * WORDS + 1]! & 0xc000) | Math.floor(offset / 0x10000);
    this.#words[at * WORDS + 2] = offset & 0xffff;
  }

  /** Whether the entry at `at` has expired or is forgotten (expiresAt ≤ now). */
  private expired(at: number, now: number): boolean {
    return this.offset(at) <= now - this.#epoch + 1;
  }

  /**
   * Counts expiries from `now` on: a live entry keeps its expiry, one expired already expires at
   * `now` (still expired, as time does not run back).
   */
  private rebase(now: number): void {
    const shift = now - this.#epoch;
    const capacity = this.capacity;
    for (let i = 0; i < this.#count; i++) {
      const at = (this.#head + i) % capacity;
      const offset = this.offset(at);
      if (offset > 0) this.setOffset(at, Math.max(1, offset - shift));
    }
    this.#epoch = now;
  }

  /** Ring position of the remembered entry for `messageId`, newest first, or -1. */
  private find(messageId: number): number {
    const capacity = this.capacity;
    for (let i = this.#count - 1; i >= 0; i--) {
      const at = (this.#head + i) % capacity;
      if (this.#words[at * WORDS] === messageId && this.offset(at) > 0) return at;
    }
    return -1;
  }

  private forget(at: number): void {
    this.setOffset(at, 0);
    this.#live--;
  }

  private dropOldest(): void {
    if (this.offset(this.#head) > 0) this.#live--;
    this.setOffset(this.#head, 0);
    this.#head = (this.#head + 1) % this.capacity;
    this.#count--;
  }

  /** Drops expired and forgotten entries from the old end (entries are kept in the order they were recorded). */
  private purgeExpired(now: number): void {
    while (this.#count > 0 && this.expired(this.#head, now)) this.dropOldest();
  }
}
