// A key's history for a chart (numbers over a window, downsampled) and for a CSV download (every
// value, newest first). Both read through readPages, so through the platform's own read path.
import type { StoredValue } from "../store.js";
import { Downsampler } from "./downsample.js";
import { type ReadPage, readPages } from "./pages.js";

/** The windows a chart offers, by name. */
export const WINDOWS: Readonly<Record<string, number>> = Object.freeze({
  "5m": 5 * 60_000,
  "1h": 60 * 60_000,
  "24h": 24 * 60 * 60_000,
});

/** At most this many points per series reach the page. */
export const MAX_POINTS = 2_000;
/**
 * At most this many values are read for one chart: a day of one value every 0.2 s. The newest
 * are kept, and the reply says the window was cut.
 */
export const MAX_HISTORY_VALUES = 432_000;
/** At most this many rows in one CSV download (the newest). */
export const MAX_CSV_ROWS = 1_000_000;

export interface History {
  readonly key: string;
  readonly window: string;
  /** The window, milliseconds since the epoch. */
  readonly start: number;
  readonly end: number;
  /** Milliseconds since the epoch and values, ascending in time. */
  readonly t: number[];
  readonly v: number[];
  readonly downsampled: boolean;
  /** Values read, numbers or not. */
  readonly read: number;
  /** Values read that were not numbers (not charted). */
  readonly notNumbers: number;
  /** Whether older values of the window were left unread (MAX_HISTORY_VALUES). */
  readonly truncated: boolean;
}

export interface HistoryRequest {
  readonly read: ReadPage;
  readonly key: string;
  readonly window: string;
  readonly now: number;
  readonly cancelled?: () => boolean;
}

/** The number a stored value's JSON text holds, or undefined for strings, arrays and objects. */
export function numberOf(json: string): number | undefined {
  const first = json.charAt(0);
  if (first !== "-" && (first < "0" || first > "9")) return undefined;
  const n = Number(json);
  return Number.isFinite(n) ? n : undefined;
}

export async function readHistory(request: HistoryRequest): Promise<History> {
  const windowMs = WINDOWS[request.window];
  if (windowMs === undefined) throw new RangeError(`unknown window ${request.window}`);
  const start = request.now - windowMs;
  const sampler = new Downsampler({ start, end: request.now, maxPoints: MAX_POINTS });
  let notNumbers = 0;
  const paging = await readPages(request.read, {
    startDate: start,
    maxValues: MAX_HISTORY_VALUES,
    ...(request.cancelled === undefined ? {} : { cancelled: request.cancelled }),
    visit: (values) => {
      for (const value of values) {
        const n = numberOf(value.value);
        if (n === undefined) notNumbers++;
        else sampler.add(value.datetime, n);
      }
    },
  });
  const series = sampler.result();
  return {
    key: request.key,
    window: request.window,
    start,
    end: request.now,
    t: series.t,
    v: series.v,
    downsampled: series.downsampled,
    read: paging.values,
    notNumbers,
    truncated: paging.truncated,
  };
}

export const CSV_HEADER = "datetime,value,lat,long\r\n";

/**
 * One CSV row (RFC 4180): the ISO 8601 datetime, the value (a number as written, a string as
 * itself, an array or object as its JSON text), the geo position if it has one.
 */
export function csvRow(value: StoredValue): string {
  const n = numberOf(value.value);
  let cell: string;
  if (n !== undefined) cell = value.value;
  else {
    const parsed: unknown = JSON.parse(value.value);
    cell = csvText(typeof parsed === "string" ? parsed : value.value);
  }
  const geo = value.geo === undefined ? "," : `${value.geo.lat},${value.geo.long}`;
  return `${new Date(value.datetime).toISOString()},${cell},${geo}\r\n`;
}

// Quoted when it holds a separator, a quote or a line break. A text a spreadsheet would take for
// a formula (= + - @, tab, CR at the start) gets a leading ' so opening the file runs nothing.
function csvText(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
