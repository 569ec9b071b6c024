// Timing helpers for bench modules (*.bench.ts, run by bench/run.ts). Two contenders are timed
// in alternating rounds, so drift in machine load (other processes, CPU frequency) hits both
// alike, and the ratio is the median of the per-round ratios.

export interface Contender {
  readonly name: string;
  /** One operation; the timing loop keeps its result, so the call cannot be dropped as dead code. */
  readonly run: () => unknown;
}

export interface Comparison {
  readonly ours: Contender;
  readonly theirs: Contender;
  /** Median operations per second over the rounds. */
  readonly oursPerSecond: number;
  readonly theirsPerSecond: number;
  /** Median of the per-round ratios ours/theirs, with the lowest and highest round. */
  readonly ratio: number;
  readonly ratioLow: number;
  readonly ratioHigh: number;
}

export interface MeasureOptions {
  /** Rounds of (ours, theirs); default 9. */
  readonly rounds?: number;
  /** Time per contender per round, ms; default 250. */
  readonly roundMs?: number;
  /** Untimed calls of each before the first round, so both are optimised; default 20,000. */
  readonly warmupCalls?: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Operations per second of `run` over about `ms` milliseconds, timed in batches. */
export function opsPerSecond(run: () => unknown, ms: number): { perSecond: number; last: unknown } {
  const batch = 500;
  let last: unknown;
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < batch; i++) last = run();
    calls += batch;
    elapsed = performance.now() - start;
  } while (elapsed < ms);
  return { perSecond: (calls * 1000) / elapsed, last };
}

export function compare(ours: Contender, theirs: Contender, options: MeasureOptions = {}): Comparison {
  const rounds = options.rounds ?? 9;
  const roundMs = options.roundMs ?? 250;
  const warmupCalls = options.warmupCalls ?? 20_000;
  for (let i = 0; i < warmupCalls; i++) {
    ours.run();
    theirs.run();
  }
  const oursRates: number[] = [];
  const theirsRates: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    // Alternate who goes first, so neither always runs on a freshly collected heap.
    const first = round % 2 === 0;
    const a = opsPerSecond(first ? ours.run : theirs.run, roundMs);
    const b = opsPerSecond(first ? theirs.run : ours.run, roundMs);
    const oursRate = first ? a.perSecond : b.perSecond;
    const theirsRate = first ? b.perSecond : a.perSecond;
    oursRates.push(oursRate);
    theirsRates.push(theirsRate);
    ratios.push(oursRate / theirsRate);
  }
  return {
    ours,
    theirs,
    oursPerSecond: median(oursRates),
    theirsPerSecond: median(theirsRates),
    ratio: median(ratios),
    ratioLow: Math.min(...ratios),
    ratioHigh: Math.max(...ratios),
  };
}

/** "1,234,567" */
export function thousands(value: number): string {
  return Math.round(value)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}
