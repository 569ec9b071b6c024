// A chart's points from however many values a window holds: up to `maxPoints` values are kept as
// they are; beyond that the window is cut into maxPoints / 2 equal buckets and each keeps its
// smallest and its largest value, so a spike stays visible however far the chart zooms out.
// Values may come in any order (the read path gives them newest first); memory is fixed at
// construction: five typed arrays of one bucket each and two of maxPoints.

export interface Series {
  /** Milliseconds since the epoch, ascending. */
  readonly t: number[];
  readonly v: number[];
  /** Whether buckets were used (more than maxPoints values). */
  readonly downsampled: boolean;
}

export interface DownsamplerOptions {
  /** The window, milliseconds since the epoch; values outside it go to the nearest bucket. */
  readonly start: number;
  readonly end: number;
  /** At most this many points come out; at least 2. */
  readonly maxPoints: number;
}

export class Downsampler {
  readonly #start: number;
  readonly #width: number;
  readonly #rawT: Float64Array;
  readonly #rawV: Float64Array;
  #count = 0;
  readonly #minT: Float64Array;
  readonly #minV: Float64Array;
  readonly #maxT: Float64Array;
  readonly #maxV: Float64Array;
  readonly #inBucket: Uint32Array;

  constructor(options: DownsamplerOptions) {
    const maxPoints = Math.max(2, Math.floor(options.maxPoints));
    const buckets = Math.floor(maxPoints / 2);
    this.#start = options.start;
    this.#width = Math.max(1, options.end - options.start) / buckets;
    this.#rawT = new Float64Array(maxPoints);
    this.#rawV = new Float64Array(maxPoints);
    this.#minT = new Float64Array(buckets);
    this.#minV = new Float64Array(buckets);
    this.#maxT = new Float64Array(buckets);
    this.#maxV = new Float64Array(buckets);
    this.#inBucket = new Uint32Array(buckets);
  }

  /** Values added so far. */
  get count(): number {
    return this.#count;
  }

  add(t: number, v: number): void {
    if (this.#count < this.#rawT.length) {
      this.#rawT[this.#count] = t;
      this.#rawV[this.#count] = v;
    }
    this.#count++;
    const last = this.#inBucket.length - 1;
    const b = Math.min(last, Math.max(0, Math.floor((t - this.#start) / this.#width)));
    if (this.#inBucket[b] === 0 || v < this.#minV[b]!) {
      this.#minV[b] = v;
      this.#minT[b] = t;
    }
    if (this.#inBucket[b] === 0 || v > this.#maxV[b]!) {
      this.#maxV[b] = v;
      this.#maxT[b] = t;
    }
    this.#inBucket[b]!++;
  }

  result(): Series {
    if (this.#count <= this.#rawT.length) return this.#raw();
    const t: number[] = [];
    const v: number[] = [];
    for (let b = 0; b < this.#inBucket.length; b++) {
      const n = this.#inBucket[b]!;
      if (n === 0) continue;
      const minFirst = this.#minT[b]! <= this.#maxT[b]!;
      const first = minFirst ? this.#minT[b]! : this.#maxT[b]!;
      t.push(first);
      v.push(minFirst ? this.#minV[b]! : this.#maxV[b]!);
      if (n > 1) {
        t.push(minFirst ? this.#maxT[b]! : this.#minT[b]!);
        v.push(minFirst ? this.#maxV[b]! : this.#minV[b]!);
      }
    }
    return { t, v, downsampled: true };
  }

  /** The values as added, sorted by time (stable: equal times keep the order they came in reversed). */
  #raw(): Series {
    const order = Array.from({ length: this.#count }, (_, i) => this.#count - 1 - i);
    order.sort((a, b) => this.#rawT[a]! - this.#rawT[b]!);
    return { t: order.map((i) => this.#rawT[i]!), v: order.map((i) => this.#rawV[i]!), downsampled: false };
  }
}
