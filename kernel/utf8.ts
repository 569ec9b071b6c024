// UTF-8 without TextEncoder/TextDecoder, so the codec runs on XS builds that do not include them.

// Strings are walked with for…of: XS keeps strings as UTF-8, so charCodeAt(i) walks from the
// start each time and indexing a whole string is quadratic there (316 ms for 16 KB on a PC).

/** The code point of one for…of step; a lone surrogate becomes U+FFFD. */
function codePoint(character: string): number {
  const point = character.codePointAt(0)!;
  return point >= 0xd800 && point <= 0xdfff ? 0xfffd : point;
}

/** Bytes needed to encode `text` as UTF-8 (lone surrogates count as U+FFFD, 3 bytes). */
export function utf8Length(text: string): number {
  let length = 0;
  for (const character of text) {
    const point = codePoint(character);
    length += point < 0x80 ? 1 : point < 0x800 ? 2 : point < 0x10000 ? 3 : 4;
  }
  return length;
}

/** Writes `text` as UTF-8 into `target` at `offset`; returns the offset after the last byte. */
export function writeUtf8(text: string, target: Uint8Array, offset: number): number {
  let at = offset;
  for (const character of text) {
    const point = codePoint(character);
    if (point < 0x80) target[at++] = point;
    else if (point < 0x800) {
      target[at++] = 0xc0 | (point >> 6);
      target[at++] = 0x80 | (point & 0x3f);
    } else if (point < 0x10000) {
      target[at++] = 0xe0 | (point >> 12);
      target[at++] = 0x80 | ((point >> 6) & 0x3f);
      target[at++] = 0x80 | (point & 0x3f);
    } else {
      target[at++] = 0xf0 | (point >> 18);
      target[at++] = 0x80 | ((point >> 12) & 0x3f);
      target[at++] = 0x80 | ((point >> 6) & 0x3f);
      target[at++] = 0x80 | (point & 0x3f);
    }
  }
  return at;
}

export function encodeUtf8(text: string): Uint8Array {
  const bytes = new Uint8Array(utf8Length(text));
  writeUtf8(text, bytes, 0);
  return bytes;
}

/**
 * Code units passed to one String.fromCharCode call. Each argument takes a slot on the XS
 * stack, which is small on a device (a few hundred slots) and overflows, killing the VM, at a
 * few thousand even on a host build.
 */
const CHUNK_UNITS = 64;

/** Decodes bytes[start..end) (clamped to the array); malformed sequences become U+FFFD instead of throwing. */
export function decodeUtf8(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const pieces: string[] = [];
  let chunk: number[] = [];
  if (end > bytes.length) end = bytes.length;
  for (let i = Math.max(start, 0); i < end; ) {
    const lead = bytes[i]!;
    let point = 0xfffd;
    let size = 1;
    if (lead < 0x80) point = lead;
    else if (lead >= 0xc2 && lead <= 0xdf && i + 1 < end && isContinuation(bytes[i + 1]!)) {
      point = ((lead & 0x1f) << 6) | (bytes[i + 1]! & 0x3f);
      size = 2;
    } else if (
      lead >= 0xe0 &&
      lead <= 0xef &&
      i + 2 < end &&
      isContinuation(bytes[i + 1]!) &&
      isContinuation(bytes[i + 2]!)
    ) {
      const candidate = ((lead & 0x0f) << 12) | ((bytes[i + 1]! & 0x3f) << 6) | (bytes[i + 2]! & 0x3f);
      if (candidate >= 0x800 && (candidate < 0xd800 || candidate > 0xdfff)) {
        point = candidate;
        size = 3;
      }
    } else if (
      lead >= 0xf0 &&
      lead <= 0xf4 &&
      i + 3 < end &&
      isContinuation(bytes[i + 1]!) &&
      isContinuation(bytes[i + 2]!) &&
      isContinuation(bytes[i + 3]!)
    ) {
      const candidate =
        ((lead & 0x07) << 18) | ((bytes[i + 1]! & 0x3f) << 12) | ((bytes[i + 2]! & 0x3f) << 6) | (bytes[i + 3]! & 0x3f);
      if (candidate >= 0x10000 && candidate <= 0x10ffff) {
        point = candidate;
        size = 4;
      }
    }
    if (point >= 0x10000) {
      point -= 0x10000;
      chunk.push(0xd800 + (point >> 10), 0xdc00 + (point & 0x3ff));
    } else chunk.push(point);
    i += size;
    if (chunk.length >= CHUNK_UNITS) {
      pieces.push(String.fromCharCode(...chunk));
      chunk = [];
    }
  }
  pieces.push(String.fromCharCode(...chunk));
  return pieces.length === 1 ? pieces[0]! : pieces.join("");
}

function isContinuation(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}
