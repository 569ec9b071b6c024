// Actuator commands. The platform has no separate command channel: everything written to the
// thing comes back on its subscription, the device's own telemetry included, so commands are
// told apart by key [thethings-coap-api.md]. Each value is dispatched by key to its actuator
// through a table (one entry per configured output), in the manner of an RPC handler table;
// the device's own keys and unknown keys are ignored, malformed values are logged and ignored,
// and the newest command per actuator wins.
import type { LogSink } from "../kernel/log.js";
import { isValidKey, type ThingValue } from "../thethings/values.js";
import type { ActuatorOutput } from "./actuator-output.js";
import { type PwmScale, parseDigitalLevel, parsePwmDuty } from "./command-values.js";

export interface ActuatorBinding {
  /** The platform key that commands this output. */
  readonly key: string;
  readonly output: ActuatorOutput;
  /** How a bare PWM number is read (see PwmScale); default "auto". Ignored for digital outputs. */
  readonly pwmScale?: PwmScale;
}

/**
 * Where a command came from: the subscription; the read of each output's last value at boot
 * ("restore"); or the same read after the subscription came back from a gap ("catch-up"), which
 * finds commands written while the device could not hear them.
 */
export type CommandSource = "subscription" | "restore" | "catch-up";

export interface AppliedCommand {
  readonly key: string;
  /** The value as the platform sent it. */
  readonly value: unknown;
  /** What the output was given: 0/1 for digital, the duty cycle in [0, 1] for PWM. */
  readonly level: number;
  readonly datetime: number | undefined;
  readonly source: CommandSource;
}

export type IgnoreReason =
  /** A key no actuator listens to. */
  | "unknown-key"
  /** One of the device's own telemetry keys, echoed by the subscription. */
  | "own-telemetry"
  /** A value the actuator cannot take ("dim" for a digital output, 250 for PWM …). */
  | "malformed"
  /** Older (by datetime) than the command already applied: it arrived late. */
  | "stale"
  /** The output threw when written. */
  | "output-failed"
  /** A catch-up read found the command the output already has. */
  | "already-applied";

export interface IgnoredCommand {
  readonly key: string;
  readonly reason: IgnoreReason;
  readonly value: unknown;
}

export interface CommandDispatcherOptions {
  readonly actuators: readonly ActuatorBinding[];
  /** Keys the device writes itself; their echoes are ignored without a warning. */
  readonly telemetryKeys?: readonly string[];
  readonly log: LogSink;
  readonly onApplied?: (event: AppliedCommand) => void;
  readonly onIgnored?: (event: IgnoredCommand) => void;
}

interface ActuatorState {
  readonly binding: ActuatorBinding;
  /** Datetime of the last applied command that carried one; later commands older than it are stale. */
  datetime: number | undefined;
  level: number | undefined;
}

/** Longest value text put into a log line. */
const MAX_LOGGED_VALUE = 40;

export class CommandDispatcher {
  /**
   * One entry per configured actuator: the table is as big as the configuration (a handful on a
   * board), searched in order; an array keeps no hash table beside the entries.
   */
  readonly #actuators: ActuatorState[] = [];
  /** The device's own keys: a short array (the sensors' keys and the reports'), not a Set's table. */
  readonly #telemetryKeys: readonly string[];
  #log: LogSink;
  #onApplied: ((event: AppliedCommand) => void) | undefined;
  #onIgnored: ((event: IgnoredCommand) => void) | undefined;
  #closed = false;

  /** Throws on a configuration error: a malformed or repeated key, or a key that is also telemetry. */
  constructor(options: CommandDispatcherOptions) {
    this.#log = options.log;
    this.#onApplied = options.onApplied;
    this.#onIgnored = options.onIgnored;
    this.#telemetryKeys = options.telemetryKeys ?? [];
    for (const binding of options.actuators) {
      if (!isValidKey(binding.key))
        throw new RangeError(`actuator key ${JSON.stringify(binding.key)} must be letters, digits, '.', '-' or '_'`);
      if (this.stateOf(binding.key) !== undefined) throw new RangeError(`two actuators share the key ${binding.key}`);
      if (this.isTelemetryKey(binding.key))
        throw new RangeError(`the key ${binding.key} is both an actuator and telemetry`);
      this.#actuators.push({ binding, datetime: undefined, level: undefined });
    }
  }

  get actuatorKeys(): string[] {
    return this.#actuators.map((state) => state.binding.key);
  }

  /** The level last given to the actuator of `key`, if any. */
  levelOf(key: string): number | undefined {
    return this.stateOf(key)?.level;
  }

  /** Applies the values of one notification in order (ThingSubscription's onValues). */
  dispatch(values: readonly ThingValue[], source: CommandSource = "subscription"): void {
    for (const value of values) this.apply(value, source);
  }

  /** Applies one value to its actuator; true if an output was written. Never throws. */
  apply(command: ThingValue, source: CommandSource = "subscription"): boolean {
    if (this.#closed) return false;
    const { key, value, datetime } = command;
    const state = this.stateOf(key);
    if (state === undefined) {
      this.ignore(key, this.isTelemetryKey(key) ? "own-telemetry" : "unknown-key", value, "debug");
      return false;
    }
    if (datetime !== undefined && state.datetime !== undefined && datetime < state.datetime) {
      this.ignore(key, "stale", value, "info");
      return false;
    }
    // A catch-up read returns the newest value, usually the very command already applied.
    if (source === "catch-up" && datetime !== undefined && datetime === state.datetime) {
      this.ignore(key, "already-applied", value, "debug");
      return false;
    }
    const { output, pwmScale } = state.binding;
    const level = output.kind === "digital" ? parseDigitalLevel(value) : parsePwmDuty(value, pwmScale);
    if (level === undefined) {
      this.ignore(key, "malformed", value, "warn");
      return false;
    }
    try {
      output.write(level);
    } catch (error) {
      this.#log("error", `actuator ${key}: writing ${level} failed (${String(error)})`);
      this.ignore(key, "output-failed", value, "debug");
      return false;
    }
    // A command without a datetime is applied in arrival order and leaves the last datetime
    // alone: it cannot be ordered against the others.
    if (datetime !== undefined) state.datetime = datetime;
    state.level = level;
    this.#log(
      "info",
      `actuator ${key} set to ${describe(value)} (level ${level}${source === "subscription" ? "" : `, ${source}`})`,
    );
    this.notify(() => this.#onApplied?.({ key, value, level, datetime, source }));
    return true;
  }

  /** Stops dispatching (the outputs belong to the caller and stay open); safe to call twice. */
  close(): void {
    this.#closed = true;
    this.#onApplied = undefined;
    this.#onIgnored = undefined;
  }

  private stateOf(key: string): ActuatorState | undefined {
    for (const state of this.#actuators) if (state.binding.key === key) return state;
    return undefined;
  }

  private isTelemetryKey(key: string): boolean {
    return this.#telemetryKeys.includes(key);
  }

  private ignore(key: string, reason: IgnoreReason, value: unknown, level: "debug" | "info" | "warn"): void {
    this.#log(level, `command ${key} = ${describe(value)} ignored: ${reason}`);
    this.notify(() => this.#onIgnored?.({ key, reason, value }));
  }

  // An event handler that throws must not stop the dispatch of the remaining values.
  private notify(body: () => void): void {
    try {
      body();
    } catch (error) {
      this.#log("error", `command event handler threw: ${String(error)}`);
    }
  }
}

function describe(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > MAX_LOGGED_VALUE ? `${text.slice(0, MAX_LOGGED_VALUE)}…` : text;
}
