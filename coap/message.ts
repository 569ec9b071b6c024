// The in-memory form of a CoAP message (RFC 7252 §3) and helpers to read and build options.

import { decodeUtf8 } from "../kernel/utf8.js";
import type { MessageType } from "./codes.js";
import { DatagramOption } from "./datagram-option.js";
import { decodeUint, OptionNumber } from "./options.js";

/**
 * An option value: raw bytes as decoded, or, when building a message, a number (written as a
 * minimal-length uint) or a string (written as UTF-8). The encoder writes numbers and strings
 * straight into its buffer, so building a message allocates no byte array per option.
 */
export type OptionValue = Uint8Array | number | string;

export interface CoapOption {
  readonly number: number;
  readonly value: OptionValue;
}

export interface CoapMessage {
  readonly type: MessageType;
  /** 8-bit code, class << 5 | detail (see codes.ts). */
  readonly code: number;
  /** 16-bit message ID. */
  readonly messageId: number;
  /** 0–8 bytes. */
  readonly token: Uint8Array;
  /** In ascending option-number order; repeated options keep their order. */
  readonly options: readonly CoapOption[];
  readonly payload: Uint8Array;
}

/** A decoded message: token, option values and payload are views into the datagram, never copies. */
export interface DecodedMessage extends CoapMessage {
  /**
   * DatagramOption instances: `value` is read through a getter (made on first read), so compare
   * decoded options by `number` and `value`, not by their own keys; spreading one drops `value`.
   */
  readonly options: readonly DecodedOption[];
  /**
   * Numbers of the critical options (odd numbers) that must be treated as unrecognised, in
   * order: unknown to this codec (RFC 7252 §5.4.1), a value length outside the option's
   * definition (§5.4.3), or a repeat of a non-repeatable option (§5.4.5). Empty if none; a
   * non-empty list means the message must be rejected (§5.4.1).
   */
  readonly unrecognisedCritical: readonly number[];
}

export interface DecodedOption extends CoapOption {
  readonly value: Uint8Array;
}

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

function asBytes(value: OptionValue): Uint8Array | undefined {
  return value instanceof Uint8Array ? value : undefined;
}

function firstOption(message: CoapMessage, number: number): CoapOption | undefined {
  for (const option of message.options) if (option.number === number) return option;
  return undefined;
}

/** The first value of option `number`, or undefined. */
export function findOption(message: CoapMessage, number: number): OptionValue | undefined {
  return firstOption(message, number)?.value;
}

export function hasOption(message: CoapMessage, number: number): boolean {
  return firstOption(message, number) !== undefined;
}

export function optionUint(message: CoapMessage, number: number): number | undefined {
  const option = firstOption(message, number);
  if (option === undefined) return undefined;
  // A decoded option reads its uint straight from the datagram, without making a view.
  if (option instanceof DatagramOption) return option.uint();
  const value = option.value;
  if (typeof value === "number") return value;
  if (typeof value === "string") return undefined;
  return decodeUint(value);
}

export function optionString(message: CoapMessage, number: number): string | undefined {
  const option = firstOption(message, number);
  if (option === undefined) return undefined;
  return optionText(option);
}

export function optionBytes(message: CoapMessage, number: number): Uint8Array | undefined {
  const value = findOption(message, number);
  return value === undefined ? undefined : asBytes(value);
}

function optionText(option: CoapOption): string {
  if (option instanceof DatagramOption) return option.text();
  const value = option.value;
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : decodeUtf8(value);
}

/** Every value of a repeatable string option, in order (Uri-Path, Uri-Query, Location-Path …). */
export function optionStrings(message: CoapMessage, number: number): string[] {
  const out: string[] = [];
  for (const option of message.options) if (option.number === number) out.push(optionText(option));
  return out;
}

/** "/a/b" from the Uri-Path options. */
export function uriPath(message: CoapMessage): string {
  return `/${optionStrings(message, OptionNumber.UriPath).join("/")}`;
}

/** Splits "/v2/things/x" into Uri-Path options, skipping empty segments (RFC 7252 §6.4 step 8). */
export function pathOptions(path: string): CoapOption[] {
  const options: CoapOption[] = [];
  for (const segment of path.split("/")) {
    if (segment !== "") options.push({ number: OptionNumber.UriPath, value: segment });
  }
  return options;
}

/** Uri-Query options from a record, in the record's key order ("k=v"; a bare "k" for `true`). */
export function queryOptions(query: Readonly<Record<string, string | number | boolean | undefined>>): CoapOption[] {
  const options: CoapOption[] = [];
  for (const key of Object.keys(query)) {
    const value = query[key];
    if (value === undefined || value === false) continue;
    options.push({ number: OptionNumber.UriQuery, value: value === true ? key : `${key}=${value}` });
  }
  return options;
}

/** Returns `options` in ascending number order; stable, so repeated options keep their order. */
export function sortOptions(options: readonly CoapOption[]): CoapOption[] {
  return options
    .map((option, index) => ({ option, index }))
    .sort((a, b) => a.option.number - b.option.number || a.index - b.index)
    .map((entry) => entry.option);
}
