// The flash outbox: values (and reports) that waited too long in RAM, kept in pages of a
// PageStore (outbox-page.ts) so that a reboot does not lose them. It holds them in sample order,
// oldest first, across a list of pages: the newest may be open (held in RAM, written whole when
// the backlog says so, rewritten as it grows), the others are sealed. Values leave from the front
// once their write was stored: a page whose values were all stored is erased; one stored in part
// is rewritten without them.
//
// Every rewrite goes to a free slot first and only then erases the old copy, so a power cut
// leaves the old page or the new one, never neither: the SDK's ESP32 Preference erases a key
// before it sets it again (modules/files/preference/esp32/modPreference.c, ERASE_KEY), so writing
// a page over itself could lose it. Of two copies of one page (same seq) the higher version wins
// at boot. Pages that fail their checksum or come from another layout are skipped, counted and
// erased, and never keep the pages after them from being read.
import type { LogSink } from "../kernel/log.js";
import type { PageStore } from "../kernel/page-store.js";
import { utf8Length } from "../kernel/utf8.js";
import type { JsonObjectValue } from "../thethings/values.js";
import {
  decodeReportPage,
  encodeReportPage,
  PAGE_HEADER_BYTES,
  PAGE_KIND_VALUES,
  type PageProblem,
  RECORD_BYTES,
  type ReportRecord,
  readPageHeader,
  ValuePage,
} from "./outbox-page.js";

export interface OutboxOptions {
  readonly store: PageStore;
  /** Values it may hold (outboxSize); beyond it the oldest pages are dropped. 0: it only drains what it found. */
  readonly capacity: number;
  /** This boot's identity, written into its pages: unstamped times of another boot cannot be stamped. */
  readonly boot: number;
  /** Report pages it may hold at once (the report queue's bound). */
  readonly reportSlots: number;
  readonly log: LogSink;
  /** Values dropped to make room (counted and reported like ring overflow). */
  readonly onDropped: (count: number) => void;
}

export interface OutboxCounters {
  /** Values found in flash at boot. */
  readonly recovered: number;
  /** Values written to flash (each counted once, the first time). */
  readonly persisted: number;
  /** Values dropped because the outbox was full, or lost with a page that went bad while running. */
  readonly dropped: number;
  /** Page writes and erases: what wears the flash. */
  readonly writes: number;
  readonly erases: number;
  /** Writes or erases the storage refused. */
  readonly storeErrors: number;
  /** Pages that were torn or corrupt (checksum, length, garbage), and pages of another layout. */
  readonly pagesSkipped: number;
  readonly pagesRefused: number;
}

/** A report found in flash at boot. */
export interface RecoveredReport {
  readonly key: string;
  readonly value: JsonObjectValue;
  /** UTC ms (whole seconds), or undefined: made before the clock was set, in an earlier boot. */
  readonly datetime: number | undefined;
}

/** The fields a visitor of the outbox's values gets, oldest first. */
export type OutboxVisitor = (key: string, value: number, utcSeconds: number, stampable: boolean, at: number) => boolean;

const NO_SLOT = 0xffff;
/**
 * Words a page takes in the page table: seq; boot; slot | version << 16; count | unstamped << 16.
 * One typed array for what were six views over a buffer (each view costs about seven slots).
 */
const ROW_WORDS = 4;
// Bits of #flags.
/** The open page holds values its flash copy (if any) lacks. */
const OPEN_DIRTY = 1;
/** Page 0's RAM copy (the front page) is ahead of its flash copy (a rewrite of it failed). */
const FRONT_DIRTY = 2;
/** The last write failed (logged once until one goes through again). */
const FAILING = 4;

/** A report's page. */
interface ReportRow {
  /** The report queue's serial; −1 while a report found at boot is not adopted yet. */
  serial: number;
  slot: number;
  readonly seq: number;
  readonly boot: number;
  version: number;
  record: ReportRecord;
}

/** The pages the outbox holds, oldest first. */
interface HeldPages {
  /**
   * ROW_WORDS words a page (see ROW_WORDS). Bound: maxValuePages rows. Which slots are in use is
   * read from it and the report rows.
   */
  readonly rows: Uint32Array;
  /** Rows in use. */
  pages: number;
  /** Values at the front that belong to the batch in flight: never dropped. */
  pinned: number;
  /** The newest page while it can still grow (always the last in the table), in RAM. */
  open: ValuePage | undefined;
  /** Page 0 read back from its slot (sealed pages are read one at a time). */
  front: ValuePage | undefined;
}

export class Outbox {
  readonly capacity: number;
  readonly #store: PageStore;
  readonly #boot: number;
  readonly #log: LogSink;
  readonly #onDropped: (count: number) => void;
  readonly #maxValuePages: number;
  /**
   * The pages, only while there is one: an empty outbox (the steady state while the platform
   * answers) keeps no table, and one field rather than five (XS gives each field a slot per instance).
   */
  #held: HeldPages | undefined;
  /** OPEN_DIRTY, FRONT_DIRTY, FAILING. */
  #flags = 0;
  /** Report pages: one per report, by the report queue's serial; only while there is one. Bound: reportSlots. */
  #reports: ReportRow[] | undefined;
  /** Reports found at boot and their seqs, until the backlog takes them. Bound: reportSlots. */
  #found: { readonly reports: RecoveredReport[]; readonly seqs: number[] } | undefined;
  /** Slots whose erase or write failed: they may still hold a page; erased again before use. Bound: store.slots. */
  #stale: number[] | undefined;
  #nextSeq = 0;
  #recovered = 0;
  #persisted = 0;
  #dropped = 0;
  #writes = 0;
  #erases = 0;
  #storeErrors = 0;
  #pagesSkipped = 0;
  #pagesRefused = 0;

  constructor(options: OutboxOptions) {
    const { store } = options;
    if (!Number.isInteger(store.slots) || store.slots < 2 + options.reportSlots || store.slots > NO_SLOT)
      throw new RangeError(
        `outbox: the page store has ${store.slots} slots, at least ${2 + options.reportSlots} needed`,
      );
    this.capacity = options.capacity;
    this.#store = store;
    this.#boot = options.boot >>> 0;
    this.#log = options.log;
    this.#onDropped = options.onDropped;
    // One slot always stays free, so a rewrite can go to a fresh slot before the old one is erased.
    this.#maxValuePages = store.slots - options.reportSlots - 1;
    this.recover();
  }

  /** Values held (sealed pages and the open page). */
  get size(): number {
    let size = 0;
    for (let p = 0; p < this.pages; p++) size += this.countAt(p);
    return size;
  }

  get pinned(): number {
    return this.#held?.pinned ?? 0;
  }

  get pages(): number {
    return this.#held?.pages ?? 0;
  }

  /** Pages holding values, the open one included. Values per page depend on their keys. */
  get maxValuePages(): number {
    return this.#maxValuePages;
  }

  /** About how many values the slots hold when each page names `keys` (the record count bounds it, not outboxSize). */
  valuesThatFit(keys: readonly string[]): number {
    const keyTable = keys.reduce((bytes, key) => bytes + 1 + utf8Length(key), 1);
    const perPage = Math.floor((this.#store.pageBytes - PAGE_HEADER_BYTES - keyTable) / RECORD_BYTES);
    return Math.max(0, perPage) * this.#maxValuePages;
  }

  get counters(): OutboxCounters {
    return {
      recovered: this.#recovered,
      persisted: this.#persisted,
      dropped: this.#dropped,
      writes: this.#writes,
      erases: this.#erases,
      storeErrors: this.#storeErrors,
      pagesSkipped: this.#pagesSkipped,
      pagesRefused: this.#pagesRefused,
    };
  }

  /** Reports found at boot, oldest first; handed over once (later calls give none). */
  takeRecoveredReports(): {
    readonly reports: readonly RecoveredReport[];
    readonly adopt: (serials: readonly number[]) => void;
  } {
    const found = this.#found;
    this.#found = undefined;
    const seqs = found?.seqs ?? [];
    return {
      reports: found?.reports ?? [],
      // The queue's serial for each, in order (−1: not queued): its page is erased when that report leaves.
      adopt: (serials) => {
        seqs.forEach((seq, i) => {
          const at = this.reportIndexOf(seq);
          if (at < 0) return;
          const serial = serials[i] ?? -1;
          if (serial < 0) this.dropReportAt(at);
          else this.#reports![at]!.serial = serial;
        });
      },
    };
  }

  /** The `count` oldest values join the batch in flight (count ≤ size). */
  pin(count: number): void {
    const held = this.#held;
    if (held !== undefined) held.pinned = Math.min(this.size, Math.max(held.pinned, count));
  }

  /** The batch in flight was stored, or given up: its values leave. */
  ack(): void {
    let rest = this.pinned;
    if (this.#held !== undefined) this.#held.pinned = 0;
    while (rest > 0 && this.pages > 0) {
      const count = this.countAt(0);
      if (rest >= count) {
        rest -= count;
        this.removePage(0);
        continue;
      }
      // Page 0 was stored in part. Its flash copy still holds the stored values: rewritten now,
      // or a reboot would send them again.
      const page = this.pageAt(0);
      if (page === undefined) break; // lost (and counted) with the rest of the batch
      page.dropFront(rest);
      this.setCounts(0, page);
      if (page === this.#held!.open) {
        if (this.slotAt(0) !== NO_SLOT) this.#flags |= OPEN_DIRTY;
        this.flush();
      } else {
        this.#flags |= FRONT_DIRTY;
        this.writeFront();
      }
      rest = 0;
    }
  }

  /**
   * Visits the values from index `from`, oldest first, until `visit` returns false. A sealed page
   * that cannot be read back any more is dropped (and counted) and the visit goes on after it.
   */
  visit(from: number, visit: OutboxVisitor): void {
    let start = 0;
    for (let p = 0; p < this.pages; p++) {
      const count = this.countAt(p);
      if (start + count <= from) {
        start += count;
        continue;
      }
      const page = this.pageAt(p);
      if (page === undefined) {
        p--;
        continue;
      }
      const stampable = this.bootAt(p) === this.#boot;
      for (let i = Math.max(0, from - start); i < count; i++) {
        if (!visit(page.key(i), page.value(i), page.utcSeconds(i), stampable, page.sampledAt(i))) return;
      }
      start += count;
    }
  }

  /**
   * Takes a value into the open page (RAM; flush() writes it). When the open page is full it is
   * written and sealed and a new one opens; when the outbox is full its oldest unpinned page is
   * dropped. False when it cannot take the value now (storage failing, every page pinned).
   */
  append(key: string, value: number, utcSeconds: number, at: number): boolean {
    if (this.capacity === 0) return false;
    while (this.size >= this.capacity) if (!this.dropOldestUnpinned()) return false;
    let open = this.#held?.open;
    if (open === undefined || !open.append(key, value, utcSeconds, at)) {
      if (open !== undefined) {
        if ((this.#flags & OPEN_DIRTY) !== 0 && !this.writeOpen()) return false;
        this.#held!.open = undefined;
      }
      while (this.pages >= this.#maxValuePages) if (!this.dropOldestUnpinned()) return false;
      const page = ValuePage.create(this.#store.pageBytes, this.takeSeq(), this.#boot, at);
      if (!page.append(key, value, utcSeconds, at)) return false;
      this.appendRow(NO_SLOT, page.seq, 0, 0, this.#boot);
      this.#held!.open = open = page;
    }
    this.setCounts(this.pages - 1, open);
    this.#flags |= OPEN_DIRTY;
    this.#persisted++;
    return true;
  }

  /** Writes what RAM holds ahead of flash: the open page, and page 0 if a rewrite of it failed. */
  flush(): void {
    if ((this.#flags & FRONT_DIRTY) !== 0) this.writeFront();
    if ((this.#flags & OPEN_DIRTY) !== 0) this.writeOpen();
  }

  /**
   * Stamps every unstamped value written in this boot (datetime = sampled-at + offsetMs, the
   * wall clock's lead on the monotonic one) and rewrites their pages. Returns how many.
   */
  stamp(offsetMs: number): number {
    let stamped = 0;
    for (let p = 0; p < this.pages; p++) {
      if (this.unstampedAt(p) === 0 || this.bootAt(p) !== this.#boot) continue;
      const page = this.pageAt(p);
      if (page === undefined) {
        p--;
        continue;
      }
      stamped += page.stamp(offsetMs);
      this.setCounts(p, page);
      if (page === this.#held?.open) this.#flags |= OPEN_DIRTY;
      else if (p === 0) {
        this.#flags |= FRONT_DIRTY;
        this.writeFront();
      } else this.rewriteSealed(p, page);
    }
    if ((this.#flags & OPEN_DIRTY) !== 0) this.writeOpen();
    const reports = this.#reports ?? [];
    for (let r = 0; r < reports.length; r++) {
      const { record, boot } = reports[r]!;
      if (!Number.isNaN(record.utcSeconds) || boot !== this.#boot) continue;
      const stampedRecord = { ...record, utcSeconds: Math.floor((record.at + offsetMs) / 1000) };
      this.writeReport(r, stampedRecord);
    }
    return stamped;
  }

  /** Whether a report (by the queue's serial) has its page. */
  holdsReport(serial: number): boolean {
    return this.#reports?.some((row) => row.serial === serial) ?? false;
  }

  /** Writes a report's page (it waited too long in RAM). False when there is no room or the write failed. */
  putReport(serial: number, record: ReportRecord): boolean {
    if (this.holdsReport(serial) || this.reportCount() >= this.#store.slots - this.#maxValuePages - 1) return false;
    const reports = (this.#reports ??= []);
    reports.push({ serial, slot: NO_SLOT, seq: this.takeSeq(), boot: this.#boot, version: 0, record });
    if (this.writeReport(reports.length - 1, record)) return true;
    this.dropReportAt(reports.length - 1);
    return false;
  }

  /** Erases the pages of reports no longer waiting (stored, replaced, cleared). */
  keepReports(waiting: readonly number[]): void {
    for (let r = this.reportCount() - 1; r >= 0; r--) {
      if (waiting.indexOf(this.#reports![r]!.serial) < 0) this.dropReportAt(r);
    }
  }

  /** Erases everything: every page, the open one, the reports (the device was forgotten). */
  clear(): void {
    while (this.pages > 0) this.removePage(this.pages - 1);
    while (this.reportCount() > 0) this.dropReportAt(0);
    for (let slot = 0; slot < this.#store.slots; slot++) if (this.isStale(slot)) this.eraseSlot(slot);
    this.#found = undefined;
  }

  private recover(): void {
    const store = this.#store;
    // Found pages, by seq; of two copies of one seq (a rewrite cut before its old slot was erased)
    // the higher version wins.
    const found: {
      slot: number;
      seq: number;
      version: number;
      page?: ValuePage;
      report?: ReportRecord;
      boot: number;
    }[] = [];
    let maxSeq = -1;
    for (let slot = 0; slot < store.slots; slot++) {
      let bytes: Uint8Array | undefined;
      try {
        bytes = store.read(slot);
      } catch (error) {
        this.#storeErrors++;
        this.#log("warn", `outbox: slot ${slot} unreadable (${String(error)}): skipped`);
        this.markStale(slot);
        continue;
      }
      if (bytes === undefined) continue;
      const header = readPageHeader(bytes);
      let problem: PageProblem | undefined = typeof header === "string" ? header : undefined;
      let page: ValuePage | undefined;
      let report: ReportRecord | undefined;
      if (typeof header !== "string") {
        if (header.kind === PAGE_KIND_VALUES) {
          const opened = ValuePage.open(bytes);
          if (typeof opened === "string") problem = opened;
          else page = opened;
        } else {
          const decoded = decodeReportPage(bytes, header);
          if (typeof decoded === "string") problem = decoded;
          else report = decoded;
        }
      }
      if (problem !== undefined || typeof header === "string") {
        if (problem === "layout") this.#pagesRefused++;
        else this.#pagesSkipped++;
        this.#log(
          "warn",
          `outbox: slot ${slot}: ${problem === "layout" ? "another firmware's page layout: refused" : "torn or corrupt page: skipped"}`,
        );
        this.eraseSlot(slot);
        continue;
      }
      maxSeq = Math.max(maxSeq, header.seq);
      const twin = found.findIndex((f) => f.seq === header.seq);
      const entry = { slot, seq: header.seq, version: header.version, page, report, boot: header.boot };
      if (twin < 0) found.push(entry);
      else if (found[twin]!.version < header.version) {
        this.eraseSlot(found[twin]!.slot);
        found[twin] = entry;
      } else this.eraseSlot(slot);
    }
    this.#nextSeq = (maxSeq + 1) >>> 0;
    found.sort((a, b) => a.seq - b.seq);
    for (const entry of found) {
      if (entry.page !== undefined) {
        if (this.pages >= this.#maxValuePages || entry.page.count === 0) {
          // More pages than this firmware's bound (or an empty one): the newest beyond it go, counted.
          this.#recovered += entry.page.count;
          this.#dropped += entry.page.count;
          this.eraseSlot(entry.slot);
          continue;
        }
        this.appendRow(entry.slot, entry.seq, entry.version, entry.page.count, entry.boot);
        this.setCounts(this.pages - 1, entry.page);
        this.#recovered += entry.page.count;
      } else if (entry.report !== undefined) {
        if (this.reportCount() >= this.#store.slots - this.#maxValuePages - 1) {
          this.eraseSlot(entry.slot);
          continue;
        }
        const { slot, seq, boot, version } = entry;
        (this.#reports ??= []).push({ serial: -1, slot, seq, boot, version, record: entry.report });
        const { key, value, utcSeconds } = entry.report;
        const recovered = (this.#found ??= { reports: [], seqs: [] });
        recovered.reports.push({ key, value, datetime: Number.isNaN(utcSeconds) ? undefined : utcSeconds * 1000 });
        recovered.seqs.push(seq);
      }
    }
    const reportsFound = this.#found?.reports.length ?? 0;
    if (this.#recovered > 0 || reportsFound > 0)
      this.#log("info", `outbox: ${this.#recovered} values and ${reportsFound} reports found in flash`);
  }

  private takeSeq(): number {
    const seq = this.#nextSeq;
    this.#nextSeq = (seq + 1) >>> 0;
    return seq;
  }

  private seqAt(p: number): number {
    return this.#held!.rows[p * ROW_WORDS]!;
  }

  private bootAt(p: number): number {
    return this.#held!.rows[p * ROW_WORDS + 1]!;
  }

  private countAt(p: number): number {
    return this.#held!.rows[p * ROW_WORDS + 3]! & 0xffff;
  }

  private unstampedAt(p: number): number {
    return this.#held!.rows[p * ROW_WORDS + 3]! >>> 16;
  }

  /** Copies a page's count and unstamped count into its row. */
  private setCounts(p: number, page: ValuePage): void {
    this.#held!.rows[p * ROW_WORDS + 3] = ((page.count & 0xffff) | ((page.unstamped & 0xffff) << 16)) >>> 0;
  }

  private slotAt(p: number): number {
    return this.#held!.rows[p * ROW_WORDS + 2]! & 0xffff;
  }

  private versionAt(p: number): number {
    return this.#held!.rows[p * ROW_WORDS + 2]! >>> 16;
  }

  private setSlotVersion(p: number, slot: number, version: number): void {
    this.#held!.rows[p * ROW_WORDS + 2] = ((slot & 0xffff) | ((version & 0xffff) << 16)) >>> 0;
  }

  private appendRow(slot: number, seq: number, version: number, count: number, boot: number): void {
    const held = (this.#held ??= {
      rows: new Uint32Array(this.#maxValuePages * ROW_WORDS),
      pages: 0,
      pinned: 0,
      open: undefined,
      front: undefined,
    });
    const { rows } = held;
    const p = held.pages++;
    rows[p * ROW_WORDS] = seq;
    rows[p * ROW_WORDS + 1] = boot;
    this.setSlotVersion(p, slot, version);
    rows[p * ROW_WORDS + 3] = count & 0xffff;
  }

  /** The page at index p, from RAM or read back; undefined (and dropped) when it went bad in flash. */
  private pageAt(p: number): ValuePage | undefined {
    const held = this.#held!;
    if (p === held.pages - 1 && held.open !== undefined) return held.open;
    if (p === 0) return this.loadFront();
    const page = this.read(p);
    if (page === undefined) this.loseUnreadable(p);
    return page;
  }

  private loadFront(): ValuePage | undefined {
    const held = this.#held!;
    if (held.front !== undefined && held.front.seq === held.rows[0]) return held.front;
    const page = this.read(0);
    if (page === undefined) {
      this.loseUnreadable(0);
      return undefined;
    }
    held.front = page;
    this.#flags &= ~FRONT_DIRTY;
    return page;
  }

  private read(p: number): ValuePage | undefined {
    let bytes: Uint8Array | undefined;
    try {
      bytes = this.#store.read(this.slotAt(p));
    } catch {
      bytes = undefined;
    }
    const page = bytes === undefined ? "corrupt" : ValuePage.open(bytes);
    if (typeof page === "string" || page.seq !== this.seqAt(p) || page.count !== this.countAt(p)) return undefined;
    return page;
  }

  private loseUnreadable(p: number): void {
    const count = this.countAt(p);
    this.#pagesSkipped++;
    this.#log(
      "error",
      `outbox: page ${this.seqAt(p)} (slot ${this.slotAt(p)}) no longer reads back: ${count} values lost`,
    );
    const held = this.#held!;
    held.pinned -= Math.max(0, Math.min(count, held.pinned - this.startOf(p)));
    this.#dropped += count;
    this.removePage(p);
    this.#onDropped(count);
  }

  private startOf(p: number): number {
    let start = 0;
    for (let i = 0; i < p; i++) start += this.countAt(i);
    return start;
  }

  /** Drops the oldest page with no value in the batch in flight; false when there is none. */
  private dropOldestUnpinned(): boolean {
    let start = 0;
    for (let p = 0; p < this.pages; p++) {
      if (start >= this.pinned) {
        const count = this.countAt(p);
        this.#dropped += count;
        this.removePage(p);
        this.#onDropped(count);
        return true;
      }
      start += this.countAt(p);
    }
    return false;
  }

  private removePage(p: number): void {
    const held = this.#held!;
    const slot = this.slotAt(p);
    if (slot !== NO_SLOT) this.eraseSlot(slot);
    if (p === held.pages - 1 && held.open !== undefined) {
      held.open = undefined;
      this.#flags &= ~OPEN_DIRTY;
    }
    if (p === 0) {
      held.front = undefined;
      this.#flags &= ~FRONT_DIRTY;
    }
    held.rows.copyWithin(p * ROW_WORDS, (p + 1) * ROW_WORDS, held.pages * ROW_WORDS);
    // The table goes with the last page: an empty outbox keeps none.
    if (--held.pages === 0) this.#held = undefined;
  }

  private writeOpen(): boolean {
    const page = this.#held!.open!;
    const p = this.pages - 1;
    page.version = (this.versionAt(p) + (this.slotAt(p) === NO_SLOT ? 0 : 1)) & 0xffff;
    if (!this.writeFresh(p, page.encode())) return false;
    this.setSlotVersion(p, this.slotAt(p), page.version);
    this.#flags &= ~OPEN_DIRTY;
    return true;
  }

  private writeFront(): void {
    const page = this.#held?.front;
    if (page === undefined) return;
    if (page.count === 0) {
      this.removePage(0);
      return;
    }
    page.version = (this.versionAt(0) + 1) & 0xffff;
    if (this.writeFresh(0, page.encode())) {
      this.setSlotVersion(0, this.slotAt(0), page.version);
      this.#flags &= ~FRONT_DIRTY;
    }
  }

  private rewriteSealed(p: number, page: ValuePage): void {
    page.version = (this.versionAt(p) + 1) & 0xffff;
    if (this.writeFresh(p, page.encode())) this.setSlotVersion(p, this.slotAt(p), page.version);
  }

  /** Writes `bytes` as page p into a free slot, then erases the slot it had. */
  private writeFresh(p: number, bytes: Uint8Array): boolean {
    const slot = this.freeSlot();
    if (slot < 0 || !this.writeSlot(slot, bytes)) return false;
    const old = this.slotAt(p);
    this.setSlotVersion(p, slot, this.versionAt(p));
    if (old !== NO_SLOT) this.eraseSlot(old);
    return true;
  }

  private reportCount(): number {
    return this.#reports?.length ?? 0;
  }

  private reportIndexOf(seq: number): number {
    return this.#reports?.findIndex((row) => row.seq === seq) ?? -1;
  }

  private writeReport(r: number, record: ReportRecord): boolean {
    const row = this.#reports![r]!;
    const old = row.slot;
    const version = old === NO_SLOT ? row.version : (row.version + 1) & 0xffff;
    const bytes = encodeReportPage(record, { seq: row.seq, boot: row.boot, version }, this.#store.pageBytes);
    if (bytes === undefined) return false;
    const slot = this.freeSlot();
    if (slot < 0 || !this.writeSlot(slot, bytes)) return false;
    row.slot = slot;
    row.record = record;
    row.version = version;
    if (old !== NO_SLOT) this.eraseSlot(old);
    return true;
  }

  private dropReportAt(r: number): void {
    const reports = this.#reports!;
    const { slot } = reports[r]!;
    if (slot !== NO_SLOT) this.eraseSlot(slot);
    reports.splice(r, 1);
    if (reports.length === 0) this.#reports = undefined;
  }

  /** The lowest slot neither holding a page nor stale; else the lowest stale slot that erases. −1: none. */
  private freeSlot(): number {
    const slots = this.#store.slots;
    // Slots in use, read from the tables for this search (not kept: a slot a write stored is in a row at once).
    const used = new Uint8Array(slots);
    for (let p = 0; p < this.pages; p++) {
      const slot = this.slotAt(p);
      if (slot !== NO_SLOT) used[slot] = 1;
    }
    for (const row of this.#reports ?? []) if (row.slot !== NO_SLOT) used[row.slot] = 1;
    for (let slot = 0; slot < slots; slot++) if (used[slot] === 0 && !this.isStale(slot)) return slot;
    for (let slot = 0; slot < slots; slot++) if (this.isStale(slot) && this.eraseSlot(slot)) return slot;
    return -1;
  }

  private isStale(slot: number): boolean {
    return this.#stale !== undefined && this.#stale.indexOf(slot) >= 0;
  }

  private markStale(slot: number): void {
    const stale = (this.#stale ??= []);
    if (stale.indexOf(slot) < 0) stale.push(slot);
  }

  private markFree(slot: number): void {
    const stale = this.#stale;
    if (stale === undefined) return;
    const at = stale.indexOf(slot);
    if (at >= 0) stale.splice(at, 1);
    if (stale.length === 0) this.#stale = undefined;
  }

  private writeSlot(slot: number, bytes: Uint8Array): boolean {
    try {
      this.#store.write(slot, bytes);
    } catch (error) {
      this.#storeErrors++;
      // The write may have left part of a page behind: erased before the slot is used again.
      this.markStale(slot);
      if ((this.#flags & FAILING) === 0) this.#log("error", `outbox: writing slot ${slot} failed: ${String(error)}`);
      this.#flags |= FAILING;
      return false;
    }
    this.#writes++;
    this.markFree(slot);
    if ((this.#flags & FAILING) !== 0) this.#log("info", "outbox: writes go through again");
    this.#flags &= ~FAILING;
    return true;
  }

  private eraseSlot(slot: number): boolean {
    try {
      this.#store.erase(slot);
    } catch (error) {
      this.#storeErrors++;
      this.markStale(slot);
      this.#log("warn", `outbox: erasing slot ${slot} failed: ${String(error)}`);
      return false;
    }
    this.#erases++;
    this.markFree(slot);
    return true;
  }
}
