// One option of a decoded datagram. The decoder records where the value lies; the Uint8Array view
// of it is made the first time `value` is read. A zero-copy decoder must hand out views, and a
// view costs more than the rest of decoding an option put together (on V8 as on XS: it is an
// object with its own buffer reference), while an endpoint reads most options, Observe,
// Content-Format, Block2, only as numbers: `uint()` reads those straight from the datagram.
import { decodeUtf8 } from "../kernel/utf8.js";

export class DatagramOption {
  readonly number: number;
  readonly #datagram: Uint8Array;
  readonly #start: number;
  readonly #end: number;
  #view: Uint8Array | undefined;

  /** The value is `datagram[start..end)`; the caller (the decoder) has checked the bounds. */
  constructor(number: number, datagram: Uint8Array, start: number, end: number) {
    this.number = number;
    this.#datagram = datagram;
    this.#start = start;
    this.#end = end;
    this.#view = undefined;
  }

  /** The value bytes: a view into the datagram, never a copy; the same view on every read. */
  get value(): Uint8Array {
    return (this.#view ??= this.#datagram.subarray(this.#start, this.#end));
  }

  /** Length of the value in bytes. */
  get length(): number {
    return this.#end - this.#start;
  }

  /** Offset of the value in the datagram. */
  get offset(): number {
    return this.#start;
  }

  /** The value as a uint (RFC 7252 §3.2); of a value longer than 4 bytes, the last 4 count. */
  uint(): number {
    const end = this.#end;
    const bytes = this.#datagram;
    let value = 0;
    for (let i = end - this.#start > 4 ? end - 4 : this.#start; i < end; i++) value = value * 256 + bytes[i]!;
    return value;
  }

  /** The value as UTF-8 text; malformed sequences become U+FFFD. */
  text(): string {
    return decodeUtf8(this.#datagram, this.#start, this.#end);
  }

  /** For logs and JSON: the number and the value bytes. */
  toJSON(): { number: number; value: number[] } {
    return { number: this.number, value: Array.from(this.value) };
  }
}
