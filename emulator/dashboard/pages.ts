// A key's values over a window, read the way a CoAP client would: pages of `limit` (at most 100)
// through the platform's own read path, newest first, each next page's endDate the oldest
// datetime of the last one. endDate is inclusive, so that oldest datetime comes back at the top of
// the next page: those values already seen are skipped by count (the read orders equal datetimes
// the same way every time). The reading yields to the event loop every few pages, so a long
// window never holds up the CoAP requests the platform is serving.
import { formatIso } from "../dates.js";
import type { StoredValue } from "../store.js";
import { READ_LIMIT_MAX } from "../validate.js";

/** The platform's read: a CoAP read's query, as name → value. */
export type ReadPage = (query: ReadonlyMap<string, string>) => StoredValue[];

export interface PagingOptions {
  /** Milliseconds since the epoch, inclusive; no endDate on the first page when absent. */
  readonly startDate: number;
  readonly endDate?: number;
  /** Stop after this many values: the newest ones. */
  readonly maxValues: number;
  /** Receives each page's new values, newest first; may wait (e.g. for a slow HTTP client). */
  readonly visit: (values: readonly StoredValue[]) => void | Promise<void>;
  /** Stop early (the HTTP client went away). */
  readonly cancelled?: () => boolean;
}

export interface PagingResult {
  /** Values visited. */
  readonly values: number;
  /** Read requests made. */
  readonly pages: number;
  /** Whether values older than the ones visited were left unread (maxValues reached). */
  readonly truncated: boolean;
  /**
   * Whether more than READ_LIMIT_MAX values shared one millisecond, so paging had to step past
   * that millisecond and leave some of them out.
   */
  readonly steppedOver: boolean;
}

/** Pages between two yields to the event loop: about 0.5 ms of reading each on this machine. */
const PAGES_PER_TURN = 2;

export async function readPages(read: ReadPage, options: PagingOptions): Promise<PagingResult> {
  let endDate = options.endDate;
  let seenAtEnd = 0;
  let values = 0;
  let pages = 0;
  let steppedOver = false;
  for (;;) {
    if (options.cancelled?.() === true) return { values, pages, truncated: false, steppedOver };
    const query = new Map([
      ["limit", String(READ_LIMIT_MAX)],
      ["startDate", formatIso(options.startDate)],
    ]);
    if (endDate !== undefined) query.set("endDate", formatIso(endDate));
    const page = read(query);
    pages++;
    const fresh = page.slice(seenAtEnd);
    const room = options.maxValues - values;
    const taken = fresh.length > room ? fresh.slice(0, room) : fresh;
    if (taken.length > 0) await options.visit(taken);
    values += taken.length;
    if (fresh.length > room) return { values, pages, truncated: true, steppedOver };
    if (page.length < READ_LIMIT_MAX) return { values, pages, truncated: false, steppedOver };
    const oldest = (page[page.length - 1] as StoredValue).datetime;
    if (fresh.length === 0) {
      // A whole page of one millisecond, all seen: the only way on is the millisecond before.
      if (oldest <= options.startDate) return { values, pages, truncated: false, steppedOver: true };
      steppedOver = true;
      endDate = oldest - 1;
      seenAtEnd = 0;
    } else {
      endDate = oldest;
      seenAtEnd = page.filter((v) => v.datetime === oldest).length;
    }
    if (pages % PAGES_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}
