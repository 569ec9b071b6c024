// The part of the configuration that may change at run time, one entry per setting: where its
// build-time value sits in DeviceConfig, the build-time parser and bounds it is checked with
// (config-values.ts's check* form, which answers a Refusal rather than throwing), how
// device.settings shows it (the configuration grammar: "1s", 20, "info") and where it takes
// effect. Hardware lists, the server and the credentials are not here: they cannot change
// without a reboot. A setting added to the configuration that makes sense at run time is one
// more entry.
import type { LogLevel } from "../kernel/log.js";
import type { TelemetryChange } from "../sensors/telemetry.js";
import type { JsonObjectValue } from "../thethings/values.js";
import {
  type DeviceConfig,
  HEALTH_INTERVAL_RANGE,
  INTERVAL_RANGE,
  KEEP_ALIVE_RANGE,
  MAX_DELAY_RANGE,
  PERSIST_AFTER_RANGE,
} from "./config.js";
import {
  checkDuration,
  checkDurationOrOff,
  checkInteger,
  checkLogLevel,
  formatDuration,
  type Refusal,
} from "./config-values.js";

/**
 * Where the effective settings take effect (the device's parts), and where device.settings is
 * written: methods of one object (the Device's hooks), not closures kept for the device's life.
 */
export interface SettingTargets {
  telemetry(change: TelemetryChange): void;
  /** The subscription registers again, asking the platform for the new keep-alive. */
  keepAlive(ms: number): void;
  logLevel(level: LogLevel): void;
  healthInterval(ms: number): void;
  /** Writes device.settings (Telemetry.report); returns why it could not be queued, or undefined. */
  reportSettings(value: JsonObjectValue, urgent: boolean): string | undefined;
}

/** A checked value: a number (milliseconds, a count) or a word (a log level). */
export type SettingValue = number | string;

export interface SettableSetting {
  /** The name after `settings.` on the platform, and the configuration key. */
  readonly name: string;
  /** The build-time value: what settings.reset returns to. */
  readonly initial: (config: DeviceConfig) => SettingValue;
  /** A value from the platform or the flash, through the build-time parser and bounds (never throws). */
  readonly check: (value: unknown, config: DeviceConfig) => SettingValue | Refusal;
  /** The value in the configuration grammar, as device.settings shows it and the flash keeps it. */
  readonly show: (value: SettingValue) => SettingValue;
  readonly apply: (value: SettingValue, targets: SettingTargets) => void;
}

const duration = (value: SettingValue): SettingValue => formatDuration(value as number);
const same = (value: SettingValue): SettingValue => value;

export const SETTABLE_SETTINGS: readonly SettableSetting[] = Object.freeze([
  Object.freeze({
    name: "interval",
    initial: (config: DeviceConfig) => config.telemetry.intervalMs,
    check: (value: unknown) => checkDuration(value, INTERVAL_RANGE[0], INTERVAL_RANGE[1]),
    show: duration,
    apply: (value: SettingValue, targets: SettingTargets) => targets.telemetry({ intervalMs: value as number }),
  }),
  Object.freeze({
    name: "batch",
    initial: (config: DeviceConfig) => config.telemetry.batch,
    // The buffer is fixed at build time: a batch never exceeds it.
    check: (value: unknown, config: DeviceConfig) => checkInteger(value, 1, config.telemetry.bufferSize),
    show: same,
    apply: (value: SettingValue, targets: SettingTargets) => targets.telemetry({ batch: value as number }),
  }),
  Object.freeze({
    name: "maxDelay",
    initial: (config: DeviceConfig) => config.telemetry.maxDelayMs,
    check: (value: unknown) => checkDuration(value, MAX_DELAY_RANGE[0], MAX_DELAY_RANGE[1]),
    show: duration,
    apply: (value: SettingValue, targets: SettingTargets) => targets.telemetry({ maxDelayMs: value as number }),
  }),
  Object.freeze({
    name: "persistAfter",
    initial: (config: DeviceConfig) => config.persistAfter,
    // As at build time: `auto` (maxDelay + 30 s, following maxDelay) or a duration.
    check: (value: unknown) =>
      typeof value === "string" && value.trim().toLowerCase() === "auto"
        ? "auto"
        : checkDuration(value, PERSIST_AFTER_RANGE[0], PERSIST_AFTER_RANGE[1]),
    show: (value: SettingValue) => (value === "auto" ? value : formatDuration(value as number)),
    apply: (value: SettingValue, targets: SettingTargets) =>
      targets.telemetry({ persistAfterMs: value === "auto" ? "auto" : (value as number) }),
  }),
  Object.freeze({
    name: "keepAlive",
    initial: (config: DeviceConfig) => config.keepAliveMs,
    check: (value: unknown) => checkDuration(value, KEEP_ALIVE_RANGE[0], KEEP_ALIVE_RANGE[1]),
    show: duration,
    apply: (value: SettingValue, targets: SettingTargets) => targets.keepAlive(value as number),
  }),
  Object.freeze({
    name: "logLevel",
    initial: (config: DeviceConfig) => config.logLevel,
    check: (value: unknown) => checkLogLevel(value),
    show: same,
    apply: (value: SettingValue, targets: SettingTargets) => targets.logLevel(value as LogLevel),
  }),
  Object.freeze({
    name: "healthInterval",
    initial: (config: DeviceConfig) => config.healthIntervalMs,
    check: (value: unknown) => checkDurationOrOff(value, HEALTH_INTERVAL_RANGE[0], HEALTH_INTERVAL_RANGE[1]),
    show: duration,
    apply: (value: SettingValue, targets: SettingTargets) => targets.healthInterval(value as number),
  }),
]);

/**
 * The entry named `name`, found by comparing strings: a name from the network is never used as a
 * property key (XS keeps every property key for the life of the machine).
 */
export function settableSetting(name: string): SettableSetting | undefined {
  return SETTABLE_SETTINGS.find((setting) => setting.name === name);
}
