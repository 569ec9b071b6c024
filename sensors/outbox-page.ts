// The outbox's page format: what one slot of the page store holds. Little-endian throughout.
//
//   offset size  field
//   0      2     magic "to" (0x74 0x6F): a page of this outbox
//   2      1     layout (PAGE_LAYOUT); a page of another layout is refused, never guessed at
//   3      1     kind: 1 values, 2 one report
//   4      4     CRC-32 of bytes 0 … 3 and 8 … length (kernel/crc32.ts): a torn or corrupt page fails it
//   8      2     length of the page in bytes
//   10     2     version: +1 at every rewrite of the page; of two copies of one page the higher wins
//   12     4     seq: the page's place in the outbox, oldest first
//   16     4     boot: the boot that wrote the page; its monotonic times mean nothing to another
//   20     8     base: the monotonic time (ms, float64) the unstamped times count from
//   28     …     values page: key count K (1 byte), K keys (length byte + UTF-8), then 13-byte records
//                  1 byte  bit 7: unstamped; bits 0–6: index into the page's keys
//                  8 bytes the value (float64: every reading JSON can carry, bit for bit)
//                  4 bytes UTC seconds when stamped (u32: until 2106); else ms since base (u32: 49 days)
//                report page: flags (bit 0: unstamped), the time as above, key (length byte + UTF-8),
//                  then the report's JSON text to the end of the page
//
// Pages are built and rewritten in RAM (one page at a time), then written whole.
import { crc32 } from "../kernel/crc32.js";
import { decodeUtf8, utf8Length, writeUtf8 } from "../kernel/utf8.js";
import type { JsonObjectValue } from "../thethings/values.js";

export const PAGE_LAYOUT = 1;
export const PAGE_KIND_VALUES = 1;
export const PAGE_KIND_REPORT = 2;
export const PAGE_HEADER_BYTES = 28;
export const RECORD_BYTES = 13;
/** Keys one values page can name (7 bits of the record's first byte). */
export const MAX_PAGE_KEYS = 127;
/** The longest unstamped span one page can hold: its times are u32 milliseconds from its base. */
export const MAX_UNSTAMPED_SPAN_MS = 0xffffffff;
const MAGIC_0 = 0x74;
const MAGIC_1 = 0x6f;
const UNSTAMPED = 0x80;
const MAX_UTC_SECONDS = 0xffffffff;

/** Why the bytes in a slot are not a page this firmware can use. */
export type PageProblem =
  /** Not a page of this outbox, cut short, or failing its checksum: a torn write or garbage. */
  | "corrupt"
  /** A page of another layout (an older or newer firmware): refused, not decoded. */
  | "layout";

export interface PageHeader {
  readonly kind: number;
  readonly length: number;
  readonly version: number;
  readonly seq: number;
  readonly boot: number;
  readonly base: number;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The header of `bytes` once its magic, layout, length and checksum hold; otherwise what is wrong. */
export function readPageHeader(bytes: Uint8Array): PageHeader | PageProblem {
  if (bytes.length < PAGE_HEADER_BYTES || bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1) return "corrupt";
  if (bytes[2] !== PAGE_LAYOUT) return "layout";
  const data = view(bytes);
  const length = data.getUint16(8, true);
  if (length < PAGE_HEADER_BYTES || length > bytes.length) return "corrupt";
  if (checksum(bytes, length) !== data.getUint32(4, true)) return "corrupt";
  const kind = bytes[3]!;
  if (kind !== PAGE_KIND_VALUES && kind !== PAGE_KIND_REPORT) return "corrupt";
  return {
    kind,
    length,
    version: data.getUint16(10, true),
    seq: data.getUint32(12, true),
    boot: data.getUint32(16, true),
    base: data.getFloat64(20, true),
  };
}

function writeHeader(bytes: Uint8Array, kind: number, length: number, header: Omit<PageHeader, "kind" | "length">) {
  const data = view(bytes);
  bytes[0] = MAGIC_0;
  bytes[1] = MAGIC_1;
  bytes[2] = PAGE_LAYOUT;
  bytes[3] = kind;
  data.setUint16(8, length, true);
  data.setUint16(10, header.version, true);
  data.setUint32(12, header.seq, true);
  data.setUint32(16, header.boot, true);
  data.setFloat64(20, header.base, true);
  data.setUint32(4, checksum(bytes, length), true);
}

/** Everything but the checksum field itself. */
function checksum(bytes: Uint8Array, length: number): number {
  return crc32(bytes, 8, length, crc32(bytes, 0, 4));
}

/** The 4-byte time of a value or report: UTC seconds, or ms after the page's base when unstamped. */
function timeField(utcSeconds: number, at: number, base: number): number | undefined {
  if (!Number.isNaN(utcSeconds)) return utcSeconds >= 0 && utcSeconds <= MAX_UTC_SECONDS ? utcSeconds : undefined;
  const offset = Math.round(at - base);
  return offset >= 0 && offset <= MAX_UNSTAMPED_SPAN_MS ? offset : undefined;
}

/**
 * A values page held in RAM: built value by value (the open page), or read back from a slot to
 * be drained, stamped or cut. Bound: its byte array, at most the store's pageBytes.
 */
export class ValuePage {
  readonly seq: number;
  readonly boot: number;
  readonly base: number;
  version: number;
  readonly #bytes: Uint8Array;
  readonly #data: DataView;
  /** The page's keys, decoded once; at most MAX_PAGE_KEYS. */
  readonly #keys: string[];
  #recordsAt: number;
  #length: number;
  #unstamped: number;

  private constructor(bytes: Uint8Array, header: Omit<PageHeader, "kind" | "length">, keys: string[], at: number) {
    this.#bytes = bytes;
    this.#data = view(bytes);
    this.seq = header.seq;
    this.boot = header.boot;
    this.base = header.base;
    this.version = header.version;
    this.#keys = keys;
    this.#recordsAt = at;
    this.#length = at;
    this.#unstamped = 0;
  }

  /** An empty page of at most `capacity` bytes. */
  static create(capacity: number, seq: number, boot: number, base: number): ValuePage {
    const bytes = new Uint8Array(capacity);
    bytes[PAGE_HEADER_BYTES] = 0;
    return new ValuePage(bytes, { seq, boot, base, version: 0 }, [], PAGE_HEADER_BYTES + 1);
  }

  /** The page in `bytes` (used in place, not copied), or what is wrong with it. Never throws. */
  static open(bytes: Uint8Array): ValuePage | PageProblem {
    const header = readPageHeader(bytes);
    if (typeof header === "string") return header;
    if (header.kind !== PAGE_KIND_VALUES) return "corrupt";
    const keyCount = bytes[PAGE_HEADER_BYTES]!;
    if (keyCount > MAX_PAGE_KEYS) return "corrupt";
    const keys: string[] = [];
    let at = PAGE_HEADER_BYTES + 1;
    for (let k = 0; k < keyCount; k++) {
      if (at >= header.length) return "corrupt";
      const size = bytes[at]!;
      if (size === 0 || at + 1 + size > header.length) return "corrupt";
      keys.push(decodeUtf8(bytes, at + 1, at + 1 + size));
      at += 1 + size;
    }
    if ((header.length - at) % RECORD_BYTES !== 0) return "corrupt";
    const page = new ValuePage(bytes, header, keys, at);
    page.#length = header.length;
    for (let i = 0; i < page.count; i++) {
      const flags = bytes[at + i * RECORD_BYTES]!;
      if ((flags & ~UNSTAMPED) >= keyCount) return "corrupt";
      if ((flags & UNSTAMPED) !== 0) page.#unstamped++;
    }
    return page;
  }

  get count(): number {
    return (this.#length - this.#recordsAt) / RECORD_BYTES;
  }

  /** Values without a datetime (their times count from `base`). */
  get unstamped(): number {
    return this.#unstamped;
  }

  get length(): number {
    return this.#length;
  }

  key(index: number): string {
    return this.#keys[this.#bytes[this.recordAt(index)]! & ~UNSTAMPED]!;
  }

  value(index: number): number {
    return this.#data.getFloat64(this.recordAt(index) + 1, true);
  }

  /** UTC seconds, or NaN when the value has no datetime. */
  utcSeconds(index: number): number {
    const at = this.recordAt(index);
    return (this.#bytes[at]! & UNSTAMPED) !== 0 ? Number.NaN : this.#data.getUint32(at + 9, true);
  }

  /** When an unstamped value was sampled, on the monotonic clock of the page's boot (NaN when stamped). */
  sampledAt(index: number): number {
    const at = this.recordAt(index);
    return (this.#bytes[at]! & UNSTAMPED) === 0 ? Number.NaN : this.base + this.#data.getUint32(at + 9, true);
  }

  /**
   * Appends a value; false when it does not fit: no room for the record (and a new key), a 128th
   * key, a key longer than 255 bytes, or a time the 4-byte field cannot hold.
   */
  append(key: string, value: number, utcSeconds: number, at: number): boolean {
    const time = timeField(utcSeconds, at, this.base);
    if (time === undefined) return false;
    let index = this.#keys.indexOf(key);
    if (index < 0) {
      const size = utf8Length(key);
      if (size === 0 || size > 255 || this.#keys.length >= MAX_PAGE_KEYS) return false;
      if (this.#length + 1 + size + RECORD_BYTES > this.#bytes.length) return false;
      // The key table grows in front of the records: move them up.
      this.#bytes.copyWithin(this.#recordsAt + 1 + size, this.#recordsAt, this.#length);
      this.#bytes[this.#recordsAt] = size;
      writeUtf8(key, this.#bytes, this.#recordsAt + 1);
      this.#recordsAt += 1 + size;
      this.#length += 1 + size;
      index = this.#keys.push(key) - 1;
      this.#bytes[PAGE_HEADER_BYTES] = this.#keys.length;
    } else if (this.#length + RECORD_BYTES > this.#bytes.length) return false;
    const at0 = this.#length;
    const unstamped = Number.isNaN(utcSeconds);
    this.#bytes[at0] = index | (unstamped ? UNSTAMPED : 0);
    this.#data.setFloat64(at0 + 1, value, true);
    this.#data.setUint32(at0 + 9, time, true);
    this.#length += RECORD_BYTES;
    if (unstamped) this.#unstamped++;
    return true;
  }

  /** Removes the `count` oldest values (they were stored). */
  dropFront(count: number): void {
    const cut = Math.min(count, this.count) * RECORD_BYTES;
    for (let i = 0; i < cut / RECORD_BYTES; i++)
      if ((this.#bytes[this.#recordsAt + i * RECORD_BYTES]! & UNSTAMPED) !== 0) this.#unstamped--;
    this.#bytes.copyWithin(this.#recordsAt, this.#recordsAt + cut, this.#length);
    this.#length -= cut;
  }

  /**
   * Gives every unstamped value its datetime, UTC seconds of (sampled-at + offsetMs), where
   * offsetMs is wall-clock time minus monotonic time on the page's boot. Returns how many.
   */
  stamp(offsetMs: number): number {
    let stamped = 0;
    for (let i = 0; i < this.count; i++) {
      const at = this.recordAt(i);
      if ((this.#bytes[at]! & UNSTAMPED) === 0) continue;
      const seconds = Math.floor((this.base + this.#data.getUint32(at + 9, true) + offsetMs) / 1000);
      if (seconds < 0 || seconds > MAX_UTC_SECONDS) continue;
      this.#bytes[at] = this.#bytes[at]! & ~UNSTAMPED;
      this.#data.setUint32(at + 9, seconds, true);
      stamped++;
    }
    this.#unstamped -= stamped;
    return stamped;
  }

  /** The page's bytes with header and checksum brought up to date (a view: copy before keeping). */
  encode(): Uint8Array {
    writeHeader(this.#bytes, PAGE_KIND_VALUES, this.#length, this);
    return this.#bytes.subarray(0, this.#length);
  }

  private recordAt(index: number): number {
    return this.#recordsAt + index * RECORD_BYTES;
  }
}

/** A report as a report page holds it. */
export interface ReportRecord {
  readonly key: string;
  readonly value: JsonObjectValue;
  /** UTC seconds, or NaN when it has no datetime. */
  readonly utcSeconds: number;
  /** When it was made, on the monotonic clock of `boot` (meaningful only while unstamped). */
  readonly at: number;
}

const REPORT_FIXED_BYTES = PAGE_HEADER_BYTES + 1 + 4 + 1;

/** The bytes of a report page, or undefined when it cannot be one (too large, bad time). */
export function encodeReportPage(
  report: ReportRecord,
  header: { readonly seq: number; readonly boot: number; readonly version: number },
  capacity: number,
): Uint8Array | undefined {
  const text = JSON.stringify(report.value);
  const keyBytes = utf8Length(report.key);
  const length = REPORT_FIXED_BYTES + keyBytes + utf8Length(text);
  const time = timeField(report.utcSeconds, report.at, report.at);
  if (keyBytes === 0 || keyBytes > 255 || length > capacity || length > 0xffff || time === undefined) return undefined;
  const bytes = new Uint8Array(length);
  bytes[PAGE_HEADER_BYTES] = Number.isNaN(report.utcSeconds) ? 1 : 0;
  view(bytes).setUint32(PAGE_HEADER_BYTES + 1, time, true);
  bytes[PAGE_HEADER_BYTES + 5] = keyBytes;
  const textAt = writeUtf8(report.key, bytes, PAGE_HEADER_BYTES + 6);
  writeUtf8(text, bytes, textAt);
  writeHeader(bytes, PAGE_KIND_REPORT, length, { ...header, base: report.at });
  return bytes;
}

/** The report in a report page (its header already checked by readPageHeader), or "corrupt". */
export function decodeReportPage(bytes: Uint8Array, header: PageHeader): ReportRecord | PageProblem {
  if (header.kind !== PAGE_KIND_REPORT || header.length < REPORT_FIXED_BYTES) return "corrupt";
  const unstamped = (bytes[PAGE_HEADER_BYTES]! & 1) !== 0;
  const time = view(bytes).getUint32(PAGE_HEADER_BYTES + 1, true);
  const keyBytes = bytes[PAGE_HEADER_BYTES + 5]!;
  const textAt = PAGE_HEADER_BYTES + 6 + keyBytes;
  if (keyBytes === 0 || textAt > header.length) return "corrupt";
  let value: unknown;
  try {
    value = JSON.parse(decodeUtf8(bytes, textAt, header.length));
  } catch {
    return "corrupt";
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return "corrupt";
  return {
    key: decodeUtf8(bytes, PAGE_HEADER_BYTES + 6, textAt),
    value: value as JsonObjectValue,
    utcSeconds: unstamped ? Number.NaN : time,
    at: unstamped ? header.base + time : header.base,
  };
}
