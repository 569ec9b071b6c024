// The store-and-forward buffer: a ring of at most `capacity` values, allocated once as parallel
// tables in two typed arrays over one buffer (28 bytes a value), so sampling allocates nothing
// and memory never grows.

export class ValueRing {
  readonly capacity: number;
  /**
   * Three tables of `capacity` numbers one after another: the value; wall-clock seconds since 1970
   * when sampled, NaN when the wall clock was not set; the monotonic time when sampled (for
   * maxDelay, persistAfter and a back-filled datetime).
   */
  readonly #numbers: Float64Array;
  /**
   * Two tables of `capacity`: the index into the telemetry plan's key table (so a value holds no
   * string); the UTF-8 bytes of the value's JSON item, computed once when the value enters.
   */
  readonly #shorts: Uint16Array;
  #head = 0;
  #size = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`ring capacity: a positive integer, got ${capacity}`);
    this.capacity = capacity;
    // One ArrayBuffer and two views for the five tables (a view and a buffer each would take 24
    // slots more), the 8-byte ones first so that each starts aligned.
    const buffer = new ArrayBuffer(capacity * 28);
    this.#numbers = new Float64Array(buffer, 0, capacity * 3);
    this.#shorts = new Uint16Array(buffer, capacity * 24, capacity * 2);
  }

  get size(): number {
    return this.#size;
  }

  /** Appends a value; the caller makes room first (dropOldest) when the ring is full. */
  push(keyIndex: number, value: number, utcSeconds: number, at: number, itemBytes: number): void {
    if (this.#size === this.capacity) throw new RangeError("ring full");
    const slot = (this.#head + this.#size) % this.capacity;
    const capacity = this.capacity;
    this.#numbers[slot] = value;
    this.#numbers[capacity + slot] = utcSeconds;
    this.#numbers[2 * capacity + slot] = at;
    this.#shorts[slot] = keyIndex;
    this.#shorts[capacity + slot] = itemBytes;
    this.#size++;
  }

  /** Gives the value at `index` the datetime it lacked (back-filled once the wall clock is known). */
  stamp(index: number, utcSeconds: number, itemBytes: number): void {
    const slot = this.slot(index);
    this.#numbers[this.capacity + slot] = utcSeconds;
    this.#shorts[this.capacity + slot] = itemBytes;
  }

  /** Removes the `count` oldest values. */
  dropOldest(count = 1): void {
    if (!Number.isInteger(count) || count < 0 || count > this.#size)
      throw new RangeError(`cannot drop ${count} of ${this.#size}`);
    this.#head = (this.#head + count) % this.capacity;
    this.#size -= count;
  }

  private slot(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.#size) throw new RangeError(`no value at ${index}`);
    return (this.#head + index) % this.capacity;
  }

  /** The accessors take `index` 0 for the oldest value. */
  keyIndex(index: number): number {
    return this.#shorts[this.slot(index)]!;
  }

  value(index: number): number {
    return this.#numbers[this.slot(index)]!;
  }

  utcSeconds(index: number): number {
    return this.#numbers[this.capacity + this.slot(index)]!;
  }

  at(index: number): number {
    return this.#numbers[2 * this.capacity + this.slot(index)]!;
  }

  itemBytes(index: number): number {
    return this.#shorts[this.capacity + this.slot(index)]!;
  }
}
