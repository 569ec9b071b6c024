// application/x-www-form-urlencoded bodies (WHATWG URL Standard §5.1), strictly: a "%" not
// followed by two hex digits, bytes that are not UTF-8, a name given twice or more fields than
// asked for make the whole form malformed (the server answers 400) rather than being guessed at.
import { decodeUtf8 } from "../kernel/utf8.js";

export type FormResult =
  | { readonly ok: true; readonly fields: ReadonlyMap<string, string> }
  | { readonly ok: false; readonly reason: string };

const PERCENT = 0x25;
const PLUS = 0x2b;
const AMPERSAND = 0x26;
const EQUALS = 0x3d;

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** Whether bytes[start..end) is well-formed UTF-8 (RFC 3629 §4: no overlongs, no surrogates). */
export function isUtf8(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  for (let i = start; i < end; ) {
    const lead = bytes[i]!;
    let size: number;
    let min: number;
    if (lead < 0x80) {
      i++;
      continue;
    } else if (lead >= 0xc2 && lead <= 0xdf) {
      size = 2;
      min = 0x80;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      size = 3;
      min = 0x800;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      size = 4;
      min = 0x10000;
    } else return false;
    if (i + size > end) return false;
    let point = lead & (0x7f >> size);
    for (let k = 1; k < size; k++) {
      const next = bytes[i + k]!;
      if ((next & 0xc0) !== 0x80) return false;
      point = (point << 6) | (next & 0x3f);
    }
    if (point < min || point > 0x10ffff || (point >= 0xd800 && point <= 0xdfff)) return false;
    i += size;
  }
  return true;
}

/** Percent-decodes bytes[start..end) into `out` (+ is a space); the decoded length, or -1 when malformed. */
function decodeInto(bytes: Uint8Array, start: number, end: number, out: Uint8Array): number {
  let length = 0;
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    if (byte === PLUS) out[length++] = 0x20;
    else if (byte === PERCENT) {
      const high = i + 2 < end ? hexValue(bytes[i + 1]!) : -1;
      const low = high < 0 ? -1 : hexValue(bytes[i + 2]!);
      if (low < 0) return -1;
      out[length++] = (high << 4) | low;
      i += 2;
    } else out[length++] = byte;
  }
  return length;
}

function decodePart(bytes: Uint8Array, start: number, end: number, scratch: Uint8Array): string | undefined {
  const length = decodeInto(bytes, start, end, scratch);
  if (length < 0 || !isUtf8(scratch, 0, length)) return undefined;
  return decodeUtf8(scratch, 0, length);
}

/** Parses a form body; at most `maxFields` fields. */
export function parseForm(body: Uint8Array, maxFields: number): FormResult {
  const fields = new Map<string, string>();
  // Decoding never makes a part longer, so one scratch buffer of the body's size serves every part.
  const scratch = new Uint8Array(body.length);
  let start = 0;
  while (start <= body.length) {
    let end = start;
    while (end < body.length && body[end] !== AMPERSAND) end++;
    if (end > start) {
      let equals = start;
      while (equals < end && body[equals] !== EQUALS) equals++;
      const name = decodePart(body, start, equals, scratch);
      const value = equals < end ? decodePart(body, equals + 1, end, scratch) : "";
      if (name === undefined || value === undefined)
        return { ok: false, reason: "malformed percent-encoding or UTF-8" };
      if (fields.has(name)) return { ok: false, reason: `field ${JSON.stringify(name.slice(0, 32))} given twice` };
      if (fields.size >= maxFields) return { ok: false, reason: `more than ${maxFields} fields` };
      fields.set(name, value);
    }
    start = end + 1;
  }
  return { ok: true, fields };
}
