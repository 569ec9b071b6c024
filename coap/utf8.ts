// UTF-8 without TextEncoder/TextDecoder, so the codec runs on XS builds that do not include them.

/** Bytes needed to encode `text` as UTF-8 (lone surrogates count as U+FFFD, 3 bytes). */
export function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) length += 1;
    else if (unit < 0x800) length += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
      length += 4;
      i++;
    } else length += 3;
  }
  return length;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** Writes `text` as UTF-8 into `target` at `offset`; returns the offset after the last byte. */
export function writeUtf8(text: string, target: Uint8Array, offset: number): number {
  let at = offset;
  for (let i = 0; i < text.length; i++) {
    let point = text.charCodeAt(i);
    if (point >= 0xd800 && point <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (point <= 0xdbff && isLowSurrogate(next)) {
        point = 0x10000 + ((point - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else point = 0xfffd;
    }
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
  for (let i = start < 0 ? 0 : start; i < end; ) {
    const lead = bytes[i]!;
    let point = 0xfffd;
    let size = 1;
    if (lead < 0x80) point = lead;
    else if (lead >= 0xc2 && lead <= 0xdf && i + 1 < end && isContinuation(bytes[i + 1]!)) {
      point = ((lead & 0x1f) << 6) | (bytes[i + 1]! & 0x3f);
      size = 2;
    } else if (lead >= 0xe0 && lead <= 0xef && i + 2 < end && isContinuation(bytes[i + 1]!) && isContinuation(bytes[i + 2]!)) {
      const candidate = ((lead & 0x0f) << 12) | ((bytes[i + 1]! & 0x3f) << 6) | (bytes[i + 2]! & 0x3f);
      if (candidate >= 0x800 && (candidate < 0xd800 || candidate > 0xdfff)) {
        point = candidate;
        size = 3;
      }
    } else if (
      lead >= 0xf0 && lead <= 0xf4 && i + 3 < end &&
      isContinuation(bytes[i + 1]!) && isContinuation(bytes[i + 2]!) && isContinuation(bytes[i + 3]!)
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
