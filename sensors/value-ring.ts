// The store-and-forward buffer: a ring of at most `capacity` values, allocated once as parallel
// typed arrays over one buffer (28 bytes a value), so sampling allocates nothing and memory never
// grows.

export class ValueRing {
  readonly capacity: number;
  /** Index into the telemetry plan's key table (so a value holds no string). */
  readonly #keyIndex: Uint16Array;
  readonly #value: Float64Array;
  /** Wall-clock seconds since 1970 when sampled, NaN when the wall clock was not set. */
  readonly #utcSeconds: Float64Array;
  /** Monotonic clock time when sampled (for maxDelay, persistAfter and a back-filled datetime). */
  readonly #at: Float64Array;
  /** UTF-8 bytes of the value's JSON item, computed once when the value enters. */
  readonly #itemBytes: Uint16Array;
  #head = 0;
  #size = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`ring capacity: a positive integer, got ${capacity}`);
    this.capacity = capacity;
    // One ArrayBuffer for the five arrays (four buffers fewer: 12 slots), the 8-byte ones first so
    // that each starts aligned.
    const buffer = new ArrayBuffer(capacity * 28);
    this.#value = new Float64Array(buffer, 0, capacity);
    this.#utcSeconds = new Float64Array(buffer, capacity * 8, capacity);
    this.#at = new Float64Array(buffer, capacity * 16, capacity);
    this.#keyIndex = new Uint16Array(buffer, capacity * 24, capacity);
    this.#itemBytes = new Uint16Array(buffer, capacity * 26, capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Appends a value; the caller makes room first (dropOldest) when the ring is full. */
  push(keyIndex: number, value: number, utcSeconds: number, at: number, itemBytes: number): void {
    if (this.#size === this.capacity) throw new RangeError("ring full");
    const slot = (this.#head + this.#size) % this.capacity;
    this.#keyIndex[slot] = keyIndex;
    this.#value[slot] = value;
    this.#utcSeconds[slot] = utcSeconds;
    this.#at[slot] = at;
    this.#itemBytes[slot] = itemBytes;
    this.#size++;
  }

  /** Gives the value at `index` the datetime it lacked (back-filled once the wall clock is known). */
  stamp(index: number, utcSeconds: number, itemBytes: number): void {
    const slot = this.#slot(index);
    this.#utcSeconds[slot] = utcSeconds;
    this.#itemBytes[slot] = itemBytes;
  }

  /** Removes the `count` oldest values. */
  dropOldest(count = 1): void {
    if (!Number.isInteger(count) || count < 0 || count > this.#size)
      throw new RangeError(`cannot drop ${count} of ${this.#size}`);
    this.#head = (this.#head + count) % this.capacity;
    this.#size -= count;
  }

  #slot(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.#size) throw new RangeError(`no value at ${index}`);
    return (this.#head + index) % this.capacity;
  }

  /** The accessors take `index` 0 for the oldest value. */
  keyIndex(index: number): number {
    return this.#keyIndex[this.#slot(index)]!;
  }

  value(index: number): number {
    return this.#value[this.#slot(index)]!;
  }

  utcSeconds(index: number): number {
    return this.#utcSeconds[this.#slot(index)]!;
  }

  at(index: number): number {
    return this.#at[this.#slot(index)]!;
  }

  itemBytes(index: number): number {
    return this.#itemBytes[this.#slot(index)]!;
  }
}
