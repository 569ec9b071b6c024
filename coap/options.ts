// The option registry (RFC 7252 §5.10 and §12.2, RFC 7641 §2, RFC 7959 §2.1 and §4) and the
// helpers for uint, Block and Observe values.

export const OptionNumber = Object.freeze({
  IfMatch: 1,
  UriHost: 3,
  ETag: 4,
  IfNoneMatch: 5,
  Observe: 6,
  UriPort: 7,
  LocationPath: 8,
  UriPath: 11,
  ContentFormat: 12,
  MaxAge: 14,
  UriQuery: 15,
  Accept: 17,
  LocationQuery: 20,
  Block2: 23,
  Block1: 27,
  Size2: 28,
  ProxyUri: 35,
  ProxyScheme: 39,
  Size1: 60,
} as const);

export type OptionFormat = "empty" | "opaque" | "uint" | "string";

export interface OptionDefinition {
  readonly number: number;
  readonly name: string;
  readonly format: OptionFormat;
  readonly repeatable: boolean;
  readonly minLength: number;
  readonly maxLength: number;
}

function define(
  number: number,
  name: string,
  format: OptionFormat,
  repeatable: boolean,
  minLength: number,
  maxLength: number,
): OptionDefinition {
  return Object.freeze({ number, name, format, repeatable, minLength, maxLength });
}

const DEFINITIONS: readonly OptionDefinition[] = Object.freeze([
  define(OptionNumber.IfMatch, "If-Match", "opaque", true, 0, 8),
  define(OptionNumber.UriHost, "Uri-Host", "string", false, 1, 255),
  define(OptionNumber.ETag, "ETag", "opaque", true, 1, 8),
  define(OptionNumber.IfNoneMatch, "If-None-Match", "empty", false, 0, 0),
  define(OptionNumber.Observe, "Observe", "uint", false, 0, 3),
  define(OptionNumber.UriPort, "Uri-Port", "uint", false, 0, 2),
  define(OptionNumber.LocationPath, "Location-Path", "string", true, 0, 255),
  define(OptionNumber.UriPath, "Uri-Path", "string", true, 0, 255),
  define(OptionNumber.ContentFormat, "Content-Format", "uint", false, 0, 2),
  define(OptionNumber.MaxAge, "Max-Age", "uint", false, 0, 4),
  define(OptionNumber.UriQuery, "Uri-Query", "string", true, 0, 255),
  define(OptionNumber.Accept, "Accept", "uint", false, 0, 2),
  define(OptionNumber.LocationQuery, "Location-Query", "string", true, 0, 255),
  define(OptionNumber.Block2, "Block2", "uint", false, 0, 3),
  define(OptionNumber.Block1, "Block1", "uint", false, 0, 3),
  define(OptionNumber.Size2, "Size2", "uint", false, 0, 4),
  define(OptionNumber.ProxyUri, "Proxy-Uri", "string", false, 1, 1034),
  define(OptionNumber.ProxyScheme, "Proxy-Scheme", "string", false, 1, 255),
  define(OptionNumber.Size1, "Size1", "uint", false, 0, 4),
]);

const BY_NUMBER: ReadonlyMap<number, OptionDefinition> = new Map(DEFINITIONS.map((d) => [d.number, d]));
const BY_NAME: ReadonlyMap<string, OptionDefinition> = new Map(DEFINITIONS.map((d) => [d.name.toLowerCase(), d]));

export function optionDefinitions(): readonly OptionDefinition[] {
  return DEFINITIONS;
}

export function optionDefinition(number: number): OptionDefinition | undefined {
  return BY_NUMBER.get(number);
}

export function optionByName(name: string): OptionDefinition | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** RFC 7252 §5.4.1: odd option numbers are critical. */
export function isCritical(number: number): boolean {
  return (number & 1) === 1;
}

/** RFC 7252 §5.4.2: bit 1 marks options that are unsafe to forward. */
export function isUnsafe(number: number): boolean {
  return (number & 2) === 2;
}

/** RFC 7252 §5.4.6: options with the NoCacheKey pattern (bits 2..4 all set). */
export function isNoCacheKey(number: number): boolean {
  return (number & 0x1e) === 0x1c;
}

export function isRecognised(number: number): boolean {
  return BY_NUMBER.has(number);
}

/** Bytes needed for a uint option value in minimal form (RFC 7252 §3.2: no leading zeros; 0 is empty). */
export function uintLength(value: number): number {
  if (value === 0) return 0;
  if (value < 0x100) return 1;
  if (value < 0x10000) return 2;
  if (value < 0x1000000) return 3;
  return 4;
}

export function encodeUint(value: number): Uint8Array {
  checkUint(value);
  const length = uintLength(value);
  const bytes = new Uint8Array(length);
  for (let i = length - 1, v = value; i >= 0; i--, v = Math.floor(v / 256)) bytes[i] = v & 0xff;
  return bytes;
}

export function checkUint(value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`uint option value out of range: ${value}`);
  }
}

/** Reads a uint option value of up to 4 bytes (longer values keep their last 4 bytes, never throw). */
export function decodeUint(bytes: Uint8Array): number {
  let value = 0;
  const start = bytes.length > 4 ? bytes.length - 4 : 0;
  for (let i = start; i < bytes.length; i++) value = value * 256 + bytes[i]!;
  return value;
}

/** A Block1/Block2 value (RFC 7959 §2.2). */
export interface BlockValue {
  readonly num: number;
  readonly more: boolean;
  /** Size exponent: block size is 2^(szx + 4), 0..6; 7 is reserved (BERT over TCP only). */
  readonly szx: number;
}

export const MAX_BLOCK_NUM = 0xfffff;

export function blockSize(szx: number): number {
  return 1 << (szx + 4);
}

/** The largest SZX whose block size is at most `bytes`. */
export function szxForSize(bytes: number): number {
  let szx = 6;
  while (szx > 0 && blockSize(szx) > bytes) szx--;
  return szx;
}

export function encodeBlock(block: BlockValue): number {
  if (!Number.isInteger(block.num) || block.num < 0 || block.num > MAX_BLOCK_NUM) {
    throw new RangeError(`block number out of range: ${block.num}`);
  }
  if (!Number.isInteger(block.szx) || block.szx < 0 || block.szx > 7) {
    throw new RangeError(`block SZX out of range: ${block.szx}`);
  }
  return block.num * 16 + (block.more ? 8 : 0) + block.szx;
}

export function decodeBlock(value: number): BlockValue {
  return { num: Math.floor(value / 16) & MAX_BLOCK_NUM, more: (value & 8) !== 0, szx: value & 7 };
}

/** RFC 7641 §2: the Observe option carries a 24-bit sequence number. */
export const OBSERVE_MODULUS = 0x1000000;
export const OBSERVE_REGISTER = 0;
export const OBSERVE_DEREGISTER = 1;

export function observeValue(sequence: number): number {
  return ((sequence % OBSERVE_MODULUS) + OBSERVE_MODULUS) % OBSERVE_MODULUS;
}
