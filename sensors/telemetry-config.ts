// Telemetry settings, their defaults and their checks. Values from mc/config arrive as strings:
// the composition parses them to numbers; anything out of range here throws at startup.
import type { BackoffOptions } from "../kernel/backoff.js";
import { checkThingKey } from "./thing-key.js";

export interface TelemetryConfig {
  /** Sampling period: every sensor is sampled once per interval (drift-free). */
  readonly intervalMs: number;
  /** A batch is flushed as soon as it holds this many values. */
  readonly batch: number;
  /** …or when its oldest value is this old. */
  readonly maxDelayMs: number;
  /** …or when the next value would push its JSON payload over this many UTF-8 bytes. */
  readonly maxPayloadBytes: number;
  /** The store-and-forward bound in RAM: values waiting there (the batch in flight included). */
  readonly bufferSize: number;
  /**
   * A value (or report) not stored at the platform after waiting this long goes to the flash
   * outbox, when there is one (TelemetryOptions.pages): a power cut then loses at most the values
   * sampled during the last persistAfter. Default maxDelayMs + 30 s, so that while the platform
   * answers nothing is ever written to flash.
   */
  readonly persistAfterMs: number;
  /** The bound of the flash outbox, in values (0: none); beyond it the oldest go, counted as dropped. */
  readonly outboxSize: number;
  /**
   * How long values sampled before the wall clock was set wait for it (to be sent with their true
   * datetime), counted from the platform's first answer in this boot; past it they go without one.
   * 0: they never wait.
   */
  readonly holdUnstampedMs: number;
  /**
   * While more than one batch waits, each write carries as many values as fit the payload (true,
   * the default), rather than `batch` (false: the reference the benchmark compares with).
   */
  readonly drainAtCapacity: boolean;
  /** The wait before the next attempt after a failed write: grows, jittered, capped (kernel/backoff.ts). */
  readonly backoff: TelemetryBackoff;
  /**
   * The reserved key on which the number of values dropped since the last report travels, in
   * the next batch after an overflow. "telemetry.dropped" uses only the documented key
   * characters (alphanumerics and "."), unlike "_dropped" ("_" is only inferred).
   */
  readonly droppedKey: string;
}

export type TelemetryBackoff = Required<Omit<BackoffOptions, "random">>;

export type TelemetrySettings = Partial<Omit<TelemetryConfig, "backoff">> & {
  readonly backoff?: Partial<TelemetryBackoff>;
};

/** The payload limit the platform's CoAP write is sized for: one datagram, no Block1. */
export const MAX_PAYLOAD_BYTES = 1024;
/** A payload must fit the largest possible item (64-character key, 24-character number, datetime) and a drop report. */
export const MIN_PAYLOAD_BYTES = 256;
/** A hard ceiling on the buffer, so a typo in the config cannot exhaust the heap (28 bytes a value). */
export const MAX_BUFFER_SIZE = 20000;
/** A ceiling on the flash outbox (13 bytes a value in flash, a few hundred bytes of RAM in all). */
export const MAX_OUTBOX_SIZE = 1_000_000;
/** persistAfter's margin over maxDelay by default: room for a write and its retransmissions. */
export const PERSIST_MARGIN_MS = 30_000;

export const DEFAULT_TELEMETRY_CONFIG: TelemetryConfig = Object.freeze({
  intervalMs: 10_000,
  batch: 20,
  maxDelayMs: 60_000,
  maxPayloadBytes: MAX_PAYLOAD_BYTES,
  bufferSize: 500,
  persistAfterMs: 60_000 + PERSIST_MARGIN_MS,
  outboxSize: 500,
  holdUnstampedMs: 600_000,
  drainAtCapacity: true,
  backoff: Object.freeze({ initialMs: 2_000, maxMs: 300_000, multiplier: 2, jitter: 0.5 }),
  droppedKey: "telemetry.dropped",
});

function integerIn(value: number, name: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`telemetry ${name}: an integer ${min}–${max}, got ${value}`);
  return value;
}

function nonNegative(value: number, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0)
    throw new RangeError(`telemetry ${name}: a number ≥ 0, got ${value}`);
  return value;
}

function positive(value: number, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0)
    throw new RangeError(`telemetry ${name}: a positive number, got ${value}`);
  return value;
}

function flag(value: boolean, name: string): boolean {
  if (typeof value !== "boolean") throw new TypeError(`telemetry ${name}: true or false, got ${String(value)}`);
  return value;
}

/** Whether `a` is frozen and holds exactly the fields of `b`, with the same values. */
function sameFrozen(a: object, b: object): boolean {
  const keys = Object.keys(b);
  if (!Object.isFrozen(a) || Object.keys(a).length !== keys.length) return false;
  for (const key of keys) if ((a as Record<string, unknown>)[key] !== (b as Record<string, unknown>)[key]) return false;
  return true;
}

/**
 * Fills in defaults and checks every field; throws RangeError/TypeError on a bad setting. A
 * configuration resolved already (the device resolves its settings once, then hands them to
 * Telemetry) comes back as it is, and without backoff settings the frozen default backoff is
 * shared: one copy kept, not one per holder.
 */
export function resolveTelemetryConfig(settings: TelemetrySettings = {}): TelemetryConfig {
  const d = DEFAULT_TELEMETRY_CONFIG;
  const bufferSize = integerIn(settings.bufferSize ?? d.bufferSize, "bufferSize", 1, MAX_BUFFER_SIZE);
  const maxDelayMs = positive(settings.maxDelayMs ?? d.maxDelayMs, "maxDelayMs");
  const backoff =
    settings.backoff === undefined || settings.backoff === d.backoff
      ? d.backoff
      : Object.freeze({ ...d.backoff, ...settings.backoff });
  const resolved: TelemetryConfig = Object.freeze({
    intervalMs: positive(settings.intervalMs ?? d.intervalMs, "intervalMs"),
    batch: integerIn(settings.batch ?? d.batch, "batch", 1, bufferSize),
    maxDelayMs,
    maxPayloadBytes: integerIn(
      settings.maxPayloadBytes ?? d.maxPayloadBytes,
      "maxPayloadBytes",
      MIN_PAYLOAD_BYTES,
      65535,
    ),
    bufferSize,
    persistAfterMs: positive(settings.persistAfterMs ?? maxDelayMs + PERSIST_MARGIN_MS, "persistAfterMs"),
    outboxSize: integerIn(settings.outboxSize ?? d.outboxSize, "outboxSize", 0, MAX_OUTBOX_SIZE),
    holdUnstampedMs: nonNegative(settings.holdUnstampedMs ?? d.holdUnstampedMs, "holdUnstampedMs"),
    drainAtCapacity: flag(settings.drainAtCapacity ?? d.drainAtCapacity, "drainAtCapacity"),
    // Checked where it is used: the Backoff constructor throws RangeError for a bad value.
    backoff,
    droppedKey: checkThingKey(settings.droppedKey ?? d.droppedKey, "telemetry droppedKey"),
  });
  const given = settings.backoff;
  const sameBackoff = given === backoff || (typeof given === "object" && given !== null && sameFrozen(given, backoff));
  return sameBackoff && sameFrozen(settings, { ...resolved, backoff: given })
    ? (settings as TelemetryConfig)
    : resolved;
}
