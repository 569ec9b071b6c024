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
const FREE = 0;
const USED = 1;
/** An erase failed: the slot may still hold a page; erased again before it is used. */
const STALE = 2;

export class Outbox {
  readonly capacity: number;
  readonly #store: PageStore;
  readonly #boot: number;
  readonly #log: LogSink;
  readonly #onDropped: (count: number) => void;
  readonly #maxValuePages: number;
  // The pages, oldest first, as parallel tables. Bound: store.slots entries.
  readonly #slot: Uint16Array;
  readonly #seq: Uint32Array;
  readonly #version: Uint16Array;
  readonly #count: Uint16Array;
  readonly #boots: Uint32Array;
  readonly #unstamped: Uint16Array;
  #pages = 0;
  #size = 0;
  /** Values at the front that belong to the batch in flight: never dropped. */
  #pinned = 0;
  /** The newest page while it can still grow (always the last in the table), in RAM. */
  #open: ValuePage | undefined;
  /** The open page holds values its flash copy (if any) lacks. */
  #openDirty = false;
  /** Page 0 read back from its slot (sealed pages are read one at a time), and whether RAM is ahead of flash. */
  #front: ValuePage | undefined;
  #frontDirty = false;
  readonly #slotState: Uint8Array;
  // Report pages: one per report, by the report queue's serial. Bound: reportSlots entries.
  readonly #reportSerial: number[] = [];
  readonly #reportSlot: number[] = [];
  readonly #reportSeq: number[] = [];
  readonly #reportRecord: ReportRecord[] = [];
  readonly #reportBoot: number[] = [];
  readonly #reportVersion: number[] = [];
  /** Reports found at boot, until the backlog takes them (recoveredReports()). */
  #recoveredReports: RecoveredReport[] = [];
  #recoveredSeqs: number[] = [];
  #nextSeq = 0;
  #failing = false;
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
    // One ArrayBuffer for the seven tables (six buffers fewer: 18 slots), the 4-byte ones first so
    // that each starts aligned: 17 bytes a slot.
    const slots = store.slots;
    const buffer = new ArrayBuffer(slots * 17);
    this.#seq = new Uint32Array(buffer, 0, slots);
    this.#boots = new Uint32Array(buffer, slots * 4, slots);
    this.#slot = new Uint16Array(buffer, slots * 8, slots);
    this.#version = new Uint16Array(buffer, slots * 10, slots);
    this.#count = new Uint16Array(buffer, slots * 12, slots);
    this.#unstamped = new Uint16Array(buffer, slots * 14, slots);
    this.#slotState = new Uint8Array(buffer, slots * 16, slots);
    this.recover();
  }

  /** Values held (sealed pages and the open page). */
  get size(): number {
    return this.#size;
  }

  get pinned(): number {
    return this.#pinned;
  }

  get pages(): number {
    return this.#pages;
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
    const reports = this.#recoveredReports;
    const seqs = this.#recoveredSeqs;
    this.#recoveredReports = [];
    this.#recoveredSeqs = [];
    return {
      reports,
      // The queue's serial for each, in order (−1: not queued): its page is erased when that report leaves.
      adopt: (serials) => {
        seqs.forEach((seq, i) => {
          const at = this.#reportSeq.indexOf(seq);
          if (at < 0) return;
          const serial = serials[i] ?? -1;
          if (serial < 0) this.dropReportAt(at);
          else this.#reportSerial[at] = serial;
        });
      },
    };
  }

  /** The `count` oldest values join the batch in flight (count ≤ size). */
  pin(count: number): void {
    this.#pinned = Math.min(this.#size, Math.max(this.#pinned, count));
  }

  /** The batch in flight was stored, or given up: its values leave. */
  ack(): void {
    let rest = this.#pinned;
    this.#pinned = 0;
    while (rest > 0 && this.#pages > 0) {
      const count = this.#count[0]!;
      if (rest >= count) {
        rest -= count;
        this.#size -= count;
        this.removePage(0);
        continue;
      }
      // Page 0 was stored in part. Its flash copy still holds the stored values: rewritten now,
      // or a reboot would send them again.
      const page = this.pageAt(0);
      if (page === undefined) break; // lost (and counted) with the rest of the batch
      this.#size -= rest;
      page.dropFront(rest);
      this.#count[0] = page.count;
      this.#unstamped[0] = page.unstamped;
      if (page === this.#open) {
        if (this.#slot[0] !== NO_SLOT) this.#openDirty = true;
        this.flush();
      } else {
        this.#frontDirty = true;
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
    for (let p = 0; p < this.#pages; p++) {
      const count = this.#count[p]!;
      if (start + count <= from) {
        start += count;
        continue;
      }
      const page = this.pageAt(p);
      if (page === undefined) {
        p--;
        continue;
      }
      const stampable = this.#boots[p] === this.#boot;
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
    while (this.#size >= this.capacity) if (!this.dropOldestUnpinned()) return false;
    if (this.#open === undefined || !this.#open.append(key, value, utcSeconds, at)) {
      if (this.#open !== undefined) {
        if (this.#openDirty && !this.writeOpen()) return false;
        this.#open = undefined;
      }
      while (this.#pages >= this.#maxValuePages) if (!this.dropOldestUnpinned()) return false;
      const page = ValuePage.create(this.#store.pageBytes, this.takeSeq(), this.#boot, at);
      if (!page.append(key, value, utcSeconds, at)) return false;
      this.#open = page;
      this.appendRow(NO_SLOT, page.seq, 0, 0, this.#boot);
    }
    const last = this.#pages - 1;
    this.#count[last] = this.#open.count;
    this.#unstamped[last] = this.#open.unstamped;
    this.#openDirty = true;
    this.#size++;
    this.#persisted++;
    return true;
  }

  /** Writes what RAM holds ahead of flash: the open page, and page 0 if a rewrite of it failed. */
  flush(): void {
    if (this.#frontDirty) this.writeFront();
    if (this.#openDirty) this.writeOpen();
  }

  /**
   * Stamps every unstamped value written in this boot (datetime = sampled-at + offsetMs, the
   * wall clock's lead on the monotonic one) and rewrites their pages. Returns how many.
   */
  stamp(offsetMs: number): number {
    let stamped = 0;
    for (let p = 0; p < this.#pages; p++) {
      if (this.#unstamped[p] === 0 || this.#boots[p] !== this.#boot) continue;
      const page = this.pageAt(p);
      if (page === undefined) {
        p--;
        continue;
      }
      stamped += page.stamp(offsetMs);
      this.#unstamped[p] = page.unstamped;
      if (page === this.#open) this.#openDirty = true;
      else if (p === 0) {
        this.#frontDirty = true;
        this.writeFront();
      } else this.rewriteSealed(p, page);
    }
    if (this.#openDirty) this.writeOpen();
    for (let r = 0; r < this.#reportRecord.length; r++) {
      const record = this.#reportRecord[r]!;
      if (!Number.isNaN(record.utcSeconds) || this.#reportBoot[r] !== this.#boot) continue;
      const stampedRecord = { ...record, utcSeconds: Math.floor((record.at + offsetMs) / 1000) };
      this.writeReport(r, stampedRecord);
    }
    return stamped;
  }

  /** Whether a report (by the queue's serial) has its page. */
  holdsReport(serial: number): boolean {
    return this.#reportSerial.indexOf(serial) >= 0;
  }

  /** Writes a report's page (it waited too long in RAM). False when there is no room or the write failed. */
  putReport(serial: number, record: ReportRecord): boolean {
    if (this.holdsReport(serial) || this.#reportSerial.length >= this.#store.slots - this.#maxValuePages - 1)
      return false;
    this.#reportSerial.push(serial);
    this.#reportSlot.push(NO_SLOT);
    this.#reportSeq.push(this.takeSeq());
    this.#reportRecord.push(record);
    this.#reportBoot.push(this.#boot);
    this.#reportVersion.push(0);
    if (this.writeReport(this.#reportSerial.length - 1, record)) return true;
    this.dropReportAt(this.#reportSerial.length - 1);
    return false;
  }

  /** Erases the pages of reports no longer waiting (stored, replaced, cleared). */
  keepReports(waiting: readonly number[]): void {
    for (let r = this.#reportSerial.length - 1; r >= 0; r--) {
      if (waiting.indexOf(this.#reportSerial[r]!) < 0) this.dropReportAt(r);
    }
  }

  /** Erases everything: every page, the open one, the reports (the device was forgotten). */
  clear(): void {
    while (this.#pages > 0) this.removePage(this.#pages - 1);
    while (this.#reportSerial.length > 0) this.dropReportAt(0);
    for (let slot = 0; slot < this.#store.slots; slot++) if (this.#slotState[slot] !== FREE) this.eraseSlot(slot);
    this.#recoveredReports = [];
    this.#recoveredSeqs = [];
    this.#size = 0;
    this.#pinned = 0;
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
        this.#slotState[slot] = STALE;
        continue;
      }
      if (bytes === undefined) continue;
      this.#slotState[slot] = USED;
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
        if (this.#pages >= this.#maxValuePages || entry.page.count === 0) {
          // More pages than this firmware's bound (or an empty one): the newest beyond it go, counted.
          this.#recovered += entry.page.count;
          this.#dropped += entry.page.count;
          this.eraseSlot(entry.slot);
          continue;
        }
        this.appendRow(entry.slot, entry.seq, entry.version, entry.page.count, entry.boot);
        this.#unstamped[this.#pages - 1] = entry.page.unstamped;
        this.#size += entry.page.count;
        this.#recovered += entry.page.count;
      } else if (entry.report !== undefined) {
        if (this.#reportSerial.length >= this.#store.slots - this.#maxValuePages - 1) {
          this.eraseSlot(entry.slot);
          continue;
        }
        this.#reportSerial.push(-1);
        this.#reportSlot.push(entry.slot);
        this.#reportSeq.push(entry.seq);
        this.#reportRecord.push(entry.report);
        this.#reportBoot.push(entry.boot);
        this.#reportVersion.push(entry.version);
        const { key, value, utcSeconds } = entry.report;
        this.#recoveredReports.push({ key, value, datetime: Number.isNaN(utcSeconds) ? undefined : utcSeconds * 1000 });
        this.#recoveredSeqs.push(entry.seq);
      }
    }
    if (this.#recovered > 0 || this.#recoveredReports.length > 0)
      this.#log(
        "info",
        `outbox: ${this.#recovered} values and ${this.#recoveredReports.length} reports found in flash`,
      );
  }

  private takeSeq(): number {
    const seq = this.#nextSeq;
    this.#nextSeq = (seq + 1) >>> 0;
    return seq;
  }

  private appendRow(slot: number, seq: number, version: number, count: number, boot: number): void {
    const p = this.#pages++;
    this.#slot[p] = slot;
    this.#seq[p] = seq;
    this.#version[p] = version;
    this.#count[p] = count;
    this.#boots[p] = boot;
    this.#unstamped[p] = 0;
  }

  /** The page at index p, from RAM or read back; undefined (and dropped) when it went bad in flash. */
  private pageAt(p: number): ValuePage | undefined {
    if (p === this.#pages - 1 && this.#open !== undefined) return this.#open;
    if (p === 0) return this.loadFront();
    const page = this.read(p);
    if (page === undefined) this.loseUnreadable(p);
    return page;
  }

  private loadFront(): ValuePage | undefined {
    if (this.#front !== undefined && this.#front.seq === this.#seq[0]) return this.#front;
    const page = this.read(0);
    if (page === undefined) {
      this.loseUnreadable(0);
      return undefined;
    }
    this.#front = page;
    this.#frontDirty = false;
    return page;
  }

  private read(p: number): ValuePage | undefined {
    let bytes: Uint8Array | undefined;
    try {
      bytes = this.#store.read(this.#slot[p]!);
    } catch {
      bytes = undefined;
    }
    const page = bytes === undefined ? "corrupt" : ValuePage.open(bytes);
    if (typeof page === "string" || page.seq !== this.#seq[p] || page.count !== this.#count[p]) return undefined;
    return page;
  }

  private loseUnreadable(p: number): void {
    const count = this.#count[p]!;
    this.#pagesSkipped++;
    this.#log(
      "error",
      `outbox: page ${this.#seq[p]} (slot ${this.#slot[p]}) no longer reads back: ${count} values lost`,
    );
    const pinnedHere = Math.max(0, Math.min(count, this.#pinned - this.startOf(p)));
    this.#pinned -= pinnedHere;
    this.#size -= count;
    this.#dropped += count;
    this.removePage(p);
    this.#onDropped(count);
  }

  private startOf(p: number): number {
    let start = 0;
    for (let i = 0; i < p; i++) start += this.#count[i]!;
    return start;
  }

  /** Drops the oldest page with no value in the batch in flight; false when there is none. */
  private dropOldestUnpinned(): boolean {
    let start = 0;
    for (let p = 0; p < this.#pages; p++) {
      if (start >= this.#pinned) {
        const count = this.#count[p]!;
        this.#size -= count;
        this.#dropped += count;
        this.removePage(p);
        this.#onDropped(count);
        return true;
      }
      start += this.#count[p]!;
    }
    return false;
  }

  private removePage(p: number): void {
    if (this.#slot[p] !== NO_SLOT) this.eraseSlot(this.#slot[p]!);
    if (p === this.#pages - 1 && this.#open !== undefined) {
      this.#open = undefined;
      this.#openDirty = false;
    }
    if (p === 0) {
      this.#front = undefined;
      this.#frontDirty = false;
    }
    for (const table of [this.#slot, this.#version, this.#count, this.#unstamped])
      table.copyWithin(p, p + 1, this.#pages);
    for (const table of [this.#seq, this.#boots]) table.copyWithin(p, p + 1, this.#pages);
    this.#pages--;
  }

  private writeOpen(): boolean {
    const page = this.#open!;
    const p = this.#pages - 1;
    page.version = (this.#version[p]! + (this.#slot[p] === NO_SLOT ? 0 : 1)) & 0xffff;
    if (!this.writeFresh(p, page.encode())) return false;
    this.#version[p] = page.version;
    this.#openDirty = false;
    return true;
  }

  private writeFront(): void {
    const page = this.#front;
    if (page === undefined) return;
    if (page.count === 0) {
      this.removePage(0);
      return;
    }
    page.version = (this.#version[0]! + 1) & 0xffff;
    if (this.writeFresh(0, page.encode())) {
      this.#version[0] = page.version;
      this.#frontDirty = false;
    }
  }

  private rewriteSealed(p: number, page: ValuePage): void {
    page.version = (this.#version[p]! + 1) & 0xffff;
    if (this.writeFresh(p, page.encode())) this.#version[p] = page.version;
  }

  /** Writes `bytes` as page p into a free slot, then erases the slot it had. */
  private writeFresh(p: number, bytes: Uint8Array): boolean {
    const slot = this.freeSlot();
    if (slot < 0 || !this.writeSlot(slot, bytes)) return false;
    const old = this.#slot[p]!;
    this.#slot[p] = slot;
    if (old !== NO_SLOT) this.eraseSlot(old);
    return true;
  }

  private writeReport(r: number, record: ReportRecord): boolean {
    const seq = this.#reportSeq[r]!;
    const old = this.#reportSlot[r]!;
    const version = old === NO_SLOT ? this.#reportVersion[r]! : (this.#reportVersion[r]! + 1) & 0xffff;
    const bytes = encodeReportPage(record, { seq, boot: this.#reportBoot[r]!, version }, this.#store.pageBytes);
    if (bytes === undefined) return false;
    const slot = this.freeSlot();
    if (slot < 0 || !this.writeSlot(slot, bytes)) return false;
    this.#reportSlot[r] = slot;
    this.#reportRecord[r] = record;
    this.#reportVersion[r] = version;
    if (old !== NO_SLOT) this.eraseSlot(old);
    return true;
  }

  private dropReportAt(r: number): void {
    const slot = this.#reportSlot[r]!;
    if (slot !== NO_SLOT) this.eraseSlot(slot);
    this.#reportSerial.splice(r, 1);
    this.#reportSlot.splice(r, 1);
    this.#reportSeq.splice(r, 1);
    this.#reportRecord.splice(r, 1);
    this.#reportBoot.splice(r, 1);
    this.#reportVersion.splice(r, 1);
  }

  private freeSlot(): number {
    for (let slot = 0; slot < this.#store.slots; slot++) if (this.#slotState[slot] === FREE) return slot;
    for (let slot = 0; slot < this.#store.slots; slot++) {
      if (this.#slotState[slot] === STALE && this.eraseSlot(slot)) return slot;
    }
    return -1;
  }

  private writeSlot(slot: number, bytes: Uint8Array): boolean {
    try {
      this.#store.write(slot, bytes);
    } catch (error) {
      this.#storeErrors++;
      // The write may have left part of a page behind: erased before the slot is used again.
      this.#slotState[slot] = STALE;
      if (!this.#failing) this.#log("error", `outbox: writing slot ${slot} failed: ${String(error)}`);
      this.#failing = true;
      return false;
    }
    this.#writes++;
    this.#slotState[slot] = USED;
    if (this.#failing) this.#log("info", "outbox: writes go through again");
    this.#failing = false;
    return true;
  }

  private eraseSlot(slot: number): boolean {
    try {
      this.#store.erase(slot);
    } catch (error) {
      this.#storeErrors++;
      this.#slotState[slot] = STALE;
      this.#log("warn", `outbox: erasing slot ${slot} failed: ${String(error)}`);
      return false;
    }
    this.#erases++;
    this.#slotState[slot] = FREE;
    return true;
  }
}
