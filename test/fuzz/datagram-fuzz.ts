// A seeded datagram fuzzer for the codec, in portable code so the same run works on Node and on
// XS. Each case is a random datagram or a valid message bent by a few mutations; the property:
// decodeMessage either returns a message or throws CoapFormatError (never anything else), every
// view it returns lies inside the datagram, and a returned message re-encodes without throwing to
// exactly the same bytes (CoAP's option encoding has one form per message, RFC 7252 §3.1), which
// decode again to the same fields.

import { decodeMessage } from "../../coap/decoder.js";
import { encodeMessage } from "../../coap/encoder.js";
import { CoapFormatError, type CoapFormatReason } from "../../coap/format-error.js";
import type { CoapMessage, CoapOption, DecodedMessage } from "../../coap/message.js";
import { optionDefinitions } from "../../coap/options.js";

/** mulberry32: a small, fast, seedable 32-bit PRNG; the same seed gives the same run everywhere. */
export class SeededRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A uint32. */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, bound). */
  below(bound: number): number {
    return Math.floor((this.next() / 0x100000000) * bound);
  }

  chance(probability: number): boolean {
    return this.next() / 0x100000000 < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

/** Option numbers worth hitting: the registry, delta boundaries, unknown critical and elective. */
const INTERESTING_NUMBERS: readonly number[] = Object.freeze([
  ...optionDefinitions().map((d) => d.number),
  0,
  2,
  9,
  12,
  13,
  14,
  25,
  268,
  269,
  270,
  2048,
  2049,
  65000,
  65535,
]);
/** Value lengths around the extended-length boundaries (§3.1). */
const INTERESTING_LENGTHS: readonly number[] = Object.freeze([0, 1, 2, 3, 4, 8, 12, 13, 14, 255, 268, 269, 270]);

/** A random valid message: every field in range, options in order, a few of them long. */
export function randomMessage(random: SeededRandom): CoapMessage {
  const type = random.below(4) as CoapMessage["type"];
  const messageId = random.below(0x10000);
  if (random.chance(0.05))
    return { type, code: 0, messageId, token: new Uint8Array(0), options: [], payload: new Uint8Array(0) };
  const code = 1 + random.below(255);
  const token = random.bytes(random.below(9));
  const options: CoapOption[] = [];
  const count = random.chance(0.2) ? 0 : random.below(7);
  for (let i = 0; i < count; i++) {
    const number = random.chance(0.7) ? random.pick(INTERESTING_NUMBERS) : random.below(0x10000);
    const length = random.chance(0.5) ? random.pick(INTERESTING_LENGTHS) : random.below(20);
    options.push({ number, value: random.bytes(length) });
  }
  options.sort((a, b) => a.number - b.number);
  const payload = random.chance(0.4)
    ? new Uint8Array(0)
    : random.bytes(1 + random.below(random.chance(0.1) ? 600 : 40));
  return { type, code, messageId, token, options, payload };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** The mutations, each returning a new array (inputs are never changed). */
const MUTATORS: readonly ((random: SeededRandom, bytes: Uint8Array, donor: Uint8Array) => Uint8Array)[] = Object.freeze(
  [
    function flipBit(random, bytes) {
      if (bytes.length === 0) return bytes;
      const out = bytes.slice();
      out[random.below(out.length)]! ^= 1 << random.below(8);
      return out;
    },
    function setByte(random, bytes) {
      if (bytes.length === 0) return bytes;
      const out = bytes.slice();
      out[random.below(out.length)] = random.pick([
        0x00,
        0x0d,
        0x0e,
        0x0f,
        0xd0,
        0xe0,
        0xf0,
        0xff,
        random.next() & 0xff,
      ]);
      return out;
    },
    function insertByte(random, bytes) {
      const at = random.below(bytes.length + 1);
      const out = new Uint8Array(bytes.length + 1);
      out.set(bytes.subarray(0, at), 0);
      out[at] = random.next() & 0xff;
      out.set(bytes.subarray(at), at + 1);
      return out;
    },
    function deleteByte(random, bytes) {
      if (bytes.length === 0) return bytes;
      const at = random.below(bytes.length);
      return concat(bytes.subarray(0, at), bytes.subarray(at + 1));
    },
    function truncate(random, bytes) {
      return bytes.slice(0, random.below(bytes.length + 1));
    },
    function appendRandom(random, bytes) {
      return concat(bytes, random.bytes(1 + random.below(8)));
    },
    /** Writes 13, 14 or 15 into the delta or length nibble of a byte (often an option head). */
    function injectNibble(random, bytes) {
      if (bytes.length <= 4) return bytes;
      const out = bytes.slice();
      const at = 4 + random.below(out.length - 4);
      const nibble = 13 + random.below(3);
      out[at] = random.chance(0.5) ? (out[at]! & 0x0f) | (nibble << 4) : (out[at]! & 0xf0) | nibble;
      return out;
    },
    function setTokenLength(random, bytes) {
      if (bytes.length === 0) return bytes;
      const out = bytes.slice();
      out[0] = (out[0]! & 0xf0) | random.below(16);
      return out;
    },
    function setVersion(random, bytes) {
      if (bytes.length === 0) return bytes;
      const out = bytes.slice();
      out[0] = (out[0]! & 0x3f) | (random.below(4) << 6);
      return out;
    },
    function insertMarker(random, bytes) {
      if (bytes.length === 0) return bytes;
      const out = bytes.slice();
      out[random.below(out.length)] = 0xff;
      return out;
    },
    /** The start of one valid message joined to the end of another. */
    function splice(random, bytes, donor) {
      return concat(bytes.subarray(0, random.below(bytes.length + 1)), donor.subarray(random.below(donor.length + 1)));
    },
    function duplicateSlice(random, bytes) {
      if (bytes.length === 0) return bytes;
      const from = random.below(bytes.length);
      const to = from + 1 + random.below(Math.min(16, bytes.length - from));
      const at = random.below(bytes.length + 1);
      return concat(concat(bytes.subarray(0, at), bytes.slice(from, to)), bytes.subarray(at));
    },
  ],
);

/** `bytes` bent by `count` mutations drawn from the fuzzer's set (`donor` feeds splices); the input is not changed. */
export function mutateDatagram(random: SeededRandom, bytes: Uint8Array, donor: Uint8Array, count: number): Uint8Array {
  let out = bytes;
  for (let i = 0; i < count; i++) out = random.pick(MUTATORS)(random, out, donor);
  return out;
}

/** One fuzz case: purely random bytes, a valid message, or a valid message after 1–4 mutations. */
export function fuzzCase(random: SeededRandom): Uint8Array {
  const roll = random.below(20);
  if (roll === 0) return random.bytes(random.below(48));
  if (roll === 1) {
    // Random bytes behind a version-1 header byte, so the option parser sees noise.
    const bytes = random.bytes(4 + random.below(48));
    bytes[0] = 0x40 | (bytes[0]! & 0x3f);
    return bytes;
  }
  const bytes = encodeMessage(randomMessage(random));
  if (roll === 2) return bytes;
  const donor = encodeMessage(randomMessage(random));
  return mutateDatagram(random, bytes, donor, 1 + random.below(4));
}

export interface FuzzFailure {
  readonly caseIndex: number;
  readonly datagram: string;
  readonly problem: string;
}

export interface FuzzSummary {
  readonly seed: number;
  readonly cases: number;
  /** Cases that decoded to a message (and passed the re-encode checks, unless listed in failures). */
  readonly decoded: number;
  /** Cases rejected with CoapFormatError, by reason. */
  readonly rejected: Readonly<Partial<Record<CoapFormatReason, number>>>;
  /** Decoded messages that carried critical options to treat as unrecognised. */
  readonly unrecognisedCritical: number;
  /** At most `maxFailures` of them, with the datagram in hex. */
  readonly failures: readonly FuzzFailure[];
  readonly failureCount: number;
}

export interface FuzzRunOptions {
  readonly count: number;
  readonly seed: number;
  /** How many failures to keep in the summary (default 10). */
  readonly maxFailures?: number;
}

export function hex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += (bytes[i]! < 16 ? "0" : "") + bytes[i]!.toString(16);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `view` lies inside `datagram` (shares its buffer, within its bounds). */
function isInside(view: Uint8Array, datagram: Uint8Array): boolean {
  if (view.length === 0) return true;
  return (
    view.buffer === datagram.buffer &&
    view.byteOffset >= datagram.byteOffset &&
    view.byteOffset + view.length <= datagram.byteOffset + datagram.length
  );
}

/** What is wrong with a decoded message, or undefined when it passes every check. */
function checkDecoded(message: DecodedMessage, datagram: Uint8Array): string | undefined {
  if (!isInside(message.token, datagram) || !isInside(message.payload, datagram))
    return "a view reaches outside the datagram";
  for (const option of message.options) {
    if (!isInside(option.value, datagram)) return `option ${option.number} reaches outside the datagram`;
  }
  let reencoded: Uint8Array;
  try {
    reencoded = encodeMessage(message);
  } catch (error) {
    return `re-encoding threw ${String(error)}`;
  }
  if (!sameBytes(reencoded, datagram)) return `re-encoded to different bytes ${hex(reencoded)}`;
  let again: DecodedMessage;
  try {
    again = decodeMessage(reencoded);
  } catch (error) {
    return `the re-encoded bytes do not decode: ${String(error)}`;
  }
  if (again.type !== message.type || again.code !== message.code || again.messageId !== message.messageId)
    return "header fields differ after a round trip";
  if (!sameBytes(again.token, message.token) || !sameBytes(again.payload, message.payload))
    return "token or payload differ after a round trip";
  if (again.options.length !== message.options.length) return "option count differs after a round trip";
  for (let i = 0; i < again.options.length; i++) {
    const a = again.options[i]!;
    const b = message.options[i]!;
    if (a.number !== b.number || !sameBytes(a.value, b.value)) return `option ${i} differs after a round trip`;
  }
  return undefined;
}

/**
 * Runs `count` cases from `seed`. Each datagram is decoded inside a larger buffer whose tail is
 * filled with 0xff canaries, so a view that strays past the datagram is caught by its bounds.
 */
export function runDatagramFuzz(options: FuzzRunOptions): FuzzSummary {
  const random = new SeededRandom(options.seed);
  const maxFailures = options.maxFailures ?? 10;
  const rejected: Partial<Record<CoapFormatReason, number>> = {};
  const failures: FuzzFailure[] = [];
  let failureCount = 0;
  let decoded = 0;
  let unrecognisedCritical = 0;
  for (let caseIndex = 0; caseIndex < options.count; caseIndex++) {
    const raw = fuzzCase(random);
    const host = new Uint8Array(raw.length + 8).fill(0xff);
    host.set(raw, 0);
    const datagram = host.subarray(0, raw.length);
    let problem: string | undefined;
    try {
      const message = decodeMessage(datagram);
      decoded++;
      if (message.unrecognisedCritical.length > 0) unrecognisedCritical++;
      problem = checkDecoded(message, datagram);
    } catch (error) {
      if (error instanceof CoapFormatError) {
        rejected[error.reason] = (rejected[error.reason] ?? 0) + 1;
        if (error.offset < -1 || error.offset > datagram.length)
          problem = `error offset ${error.offset} outside the datagram`;
      } else problem = `threw something other than CoapFormatError: ${String(error)}`;
    }
    if (problem !== undefined) {
      failureCount++;
      if (failures.length < maxFailures) failures.push({ caseIndex, datagram: hex(raw), problem });
    }
  }
  return { seed: options.seed, cases: options.count, decoded, rejected, unrecognisedCritical, failures, failureCount };
}
