// The `sensors` and `actuators` settings: comma-separated entries naming each input and output,
// its pins and the theThings.IO keys it reads or writes. Pins the entry leaves out come from the
// board (BoardPins, which the Moddable adapter reads from the SDK's host provider) or, where the
// board says nothing, from FALLBACK_BOARD_PINS; nothing here reads a global.
import type { ReadingBinding } from "../sensors/sensor-binding.js";
import { isValidThingKey, MAX_KEY_LENGTH } from "../sensors/thing-key.js";
import { ConfigError } from "./config-error.js";
import { asText, parseInteger, shown } from "./config-values.js";

/** A simulated temperature/humidity sensor (sensors/simulated-climate.ts). */
export interface SimulatedClimateSpec {
  readonly kind: "sim";
  readonly entry: string;
  readonly readings: readonly ReadingBinding[];
}

/** A simulated ADC input (sensors/simulated-analog.ts). */
export interface SimulatedAnalogSpec {
  readonly kind: "sim-analog";
  readonly entry: string;
  readonly readings: readonly ReadingBinding[];
}

/** Sensirion SHT3x on I2C, through Moddable's ECMA-419 driver. */
export interface Sht3xSpec {
  readonly kind: "sht3x";
  readonly entry: string;
  readonly readings: readonly ReadingBinding[];
  readonly sda: number;
  readonly scl: number;
  readonly address: number;
}

/** An ECMA-419 Analog input; its sample is `{raw}` in ADC counts. */
export interface AnalogSpec {
  readonly kind: "analog";
  readonly entry: string;
  readonly readings: readonly ReadingBinding[];
  readonly pin: number;
}

export type SensorSpec = SimulatedClimateSpec | SimulatedAnalogSpec | Sht3xSpec | AnalogSpec;
export type SensorKind = SensorSpec["kind"];

export interface DigitalActuatorSpec {
  readonly kind: "digital";
  readonly entry: string;
  /** The theThings.IO key whose values command this output. */
  readonly key: string;
  readonly pin: number;
  /** The output is on when the pin is low (LEDs wired to the supply). */
  readonly activeLow: boolean;
}

export interface PwmActuatorSpec {
  readonly kind: "pwm";
  readonly entry: string;
  readonly key: string;
  readonly pin: number;
  /** PWM frequency; undefined leaves the port's default. */
  readonly hz: number | undefined;
}

export type ActuatorSpec = DigitalActuatorSpec | PwmActuatorSpec;

/**
 * What the board says about its own pins: the LED and the default I2C bus (on Moddable, the host
 * provider's `device.pin.led` and `device.I2C.default`, read by moddable/board-pins.ts). Either
 * may be missing. Values are GPIO numbers 0–MAX_PIN; the reader checks them.
 */
export interface BoardPins {
  readonly ledPin?: number;
  /** The button that opens setup when held at boot (the BOOT button of ESP32 DevKits). */
  readonly buttonPin?: number;
  readonly i2c?: { readonly sda: number; readonly scl: number };
}

/**
 * Pins where the board names none (plain `-p esp32`, whose provider has `pin: {}`; the simulator,
 * which has no provider): the LED on GPIO 2 of most ESP32 DevKits and I2C on 21/22, the
 * conventions of Moddable's generic ESP32 target.
 */
export const FALLBACK_BOARD_PINS = Object.freeze({ ledPin: 2, i2c: Object.freeze({ sda: 21, scl: 22 }) });

/** SHT3x address 0x44 (ADDR low), on the fallback I2C pins when the board names none. */
export const SHT3X_DEFAULTS = Object.freeze({ ...FALLBACK_BOARD_PINS.i2c, address: 0x44 });

/** Bounds that keep a long or mistyped list from exhausting the heap. */
export const MAX_SENSORS = 8;
export const MAX_ACTUATORS = 8;
/** Highest GPIO number on any ESP32 family chip (ESP32-S3: 48), with room to spare. */
export const MAX_PIN = 63;
// Patterns are written where they are used: Moddable preloads this module into flash, and XS
// crashes in exec() on a RegExp stored there (see config-values.ts).

/** Splits a comma-separated list; empty items are errors (a stray comma hides a typo). */
function listEntries(key: string, value: unknown, max: number): string[] {
  const text = asText(key, value);
  if (text === "" || text.toLowerCase() === "none") return [];
  const entries = text.split(",").map((entry) => entry.trim());
  if (entries.some((entry) => entry === "")) throw new ConfigError(key, `${shown(value)} has an empty entry`);
  if (entries.length > max) throw new ConfigError(key, `${entries.length} entries, at most ${max}`);
  return entries;
}

/** A GPIO number; a missing or empty one takes `fallback` where the entry allows leaving it out. */
function parsePin(key: string, entry: string, text: string | undefined, fallback?: number): number {
  if (text === undefined || text === "") {
    if (fallback !== undefined) return fallback;
    throw new ConfigError(key, `${shown(entry)} needs a pin number`);
  }
  const pin = /^\d{1,2}$/.test(text) ? Number(text) : Number.NaN;
  if (!(pin >= 0 && pin <= MAX_PIN))
    throw new ConfigError(key, `${shown(entry)}: pin ${shown(text)} is not a GPIO number 0–${MAX_PIN}`);
  return pin;
}

function checkKey(key: string, entry: string, thingKey: string): string {
  if (!isValidThingKey(thingKey)) {
    throw new ConfigError(
      key,
      `${shown(entry)}: ${shown(thingKey)} is not a theThings.IO key ([A-Za-z0-9._-], 1–${MAX_KEY_LENGTH} characters)`,
    );
  }
  return thingKey;
}

/** Readings of one sensor; `name` (after @) renames a single reading or prefixes several. */
function readings(
  key: string,
  entry: string,
  name: string | undefined,
  list: readonly (readonly [string, string, number])[],
): readonly ReadingBinding[] {
  return Object.freeze(
    list.map(([path, defaultKey, decimals]) => {
      const thingKey = name === undefined ? defaultKey : list.length === 1 ? name : `${name}.${defaultKey}`;
      return Object.freeze({ path, key: checkKey(key, entry, thingKey), decimals });
    }),
  );
}

function noArguments(key: string, entry: string, args: readonly string[]): void {
  if (args.length > 0) throw new ConfigError(key, `${shown(entry)} takes no arguments`);
}

function parseSensor(key: string, entry: string, i2c: { readonly sda: number; readonly scl: number }): SensorSpec {
  const at = entry.indexOf("@");
  const name = at < 0 ? undefined : entry.slice(at + 1);
  if (name === "") throw new ConfigError(key, `${shown(entry)}: nothing after @ (e.g. ${entry}room)`);
  const [kind, ...args] = (at < 0 ? entry : entry.slice(0, at)).split(":");
  switch (kind!.toLowerCase()) {
    case "sim":
      noArguments(key, entry, args);
      return Object.freeze({
        kind: "sim",
        entry,
        readings: readings(key, entry, name, [
          ["temperature", "temperature", 2],
          ["humidity", "humidity", 2],
        ]),
      });
    case "sim-analog":
      noArguments(key, entry, args);
      return Object.freeze({ kind: "sim-analog", entry, readings: readings(key, entry, name, [["raw", "analog", 0]]) });
    case "sht3x": {
      if (args.length > 3) throw new ConfigError(key, `${shown(entry)}: sht3x[:sda:scl[:address]]`);
      const address = args[2] === undefined ? SHT3X_DEFAULTS.address : parseInteger(key, args[2], 0x08, 0x77);
      return Object.freeze({
        kind: "sht3x",
        entry,
        readings: readings(key, entry, name, [
          ["thermometer.temperature", "temperature", 2],
          ["hygrometer.humidity", "humidity", 2],
        ]),
        sda: parsePin(key, entry, args[0], i2c.sda),
        scl: parsePin(key, entry, args[1], i2c.scl),
        address,
      });
    }
    case "analog":
      if (args.length !== 1) throw new ConfigError(key, `${shown(entry)}: analog:PIN (e.g. analog:34)`);
      return Object.freeze({
        kind: "analog",
        entry,
        readings: readings(key, entry, name, [["raw", "analog", 0]]),
        pin: parsePin(key, entry, args[0]),
      });
    default:
      throw new ConfigError(
        key,
        `${shown(entry)}: unknown sensor kind ${shown(kind)} (sim, sim-analog, sht3x, analog)`,
      );
  }
}

/**
 * `kind[:arg…][@name]` entries, comma-separated:
 *   sim                      simulated temperature + humidity (keys temperature, humidity)
 *   sim-analog               simulated ADC counts (key analog)
 *   sht3x[:sda:scl[:addr]]   SHT3x on I2C (keys temperature, humidity); pins left out or empty
 *                            are the board's I2C default (21:22 where it names none), address 0x44
 *   analog:PIN               ADC counts from a pin (key analog)
 * `@name` renames a one-reading sensor's key, or prefixes a multi-reading one's (`sht3x@room`
 * gives room.temperature, room.humidity). "" or "none": no sensors.
 */
export function parseSensors(key: string, value: unknown, board: BoardPins = {}): readonly SensorSpec[] {
  const i2c = board.i2c ?? FALLBACK_BOARD_PINS.i2c;
  const specs = listEntries(key, value, MAX_SENSORS).map((entry) => parseSensor(key, entry, i2c));
  const seen = new Map<string, string>();
  for (const spec of specs) {
    for (const reading of spec.readings) {
      const other = seen.get(reading.key);
      if (other !== undefined) {
        throw new ConfigError(
          key,
          `${shown(other)} and ${shown(spec.entry)} both write key ${shown(reading.key)}; name one with @ (e.g. ${spec.entry.split("@")[0]}@${reading.key}2)`,
        );
      }
      seen.set(reading.key, spec.entry);
    }
  }
  return Object.freeze(specs);
}

/** The GPIOs a sensor occupies (none for the simulated ones). */
export function sensorPins(spec: SensorSpec): readonly number[] {
  switch (spec.kind) {
    case "sht3x":
      return [spec.sda, spec.scl];
    case "analog":
      return [spec.pin];
    default:
      return [];
  }
}

function parseActuator(key: string, entry: string, ledPin: number): ActuatorSpec {
  const [thingKey, kind, pinText, option, ...extra] = entry.split(":");
  if (kind === undefined || extra.length > 0) {
    throw new ConfigError(
      key,
      `${shown(entry)}: KEY:digital:PIN[:low] or KEY:pwm:PIN[:HZ] (e.g. led:digital:2); PIN left out or empty is the board's LED`,
    );
  }
  checkKey(key, entry, thingKey!);
  const pin = parsePin(key, entry, pinText, ledPin);
  switch (kind.toLowerCase()) {
    case "digital":
      if (option !== undefined && option.toLowerCase() !== "low")
        throw new ConfigError(key, `${shown(entry)}: the only digital option is low (active low)`);
      return Object.freeze({ kind: "digital", entry, key: thingKey!, pin, activeLow: option !== undefined });
    case "pwm":
      return Object.freeze({
        kind: "pwm",
        entry,
        key: thingKey!,
        pin,
        hz: option === undefined ? undefined : parseInteger(key, option, 1, 40_000_000),
      });
    default:
      throw new ConfigError(key, `${shown(entry)}: unknown actuator kind ${shown(kind)} (digital, pwm)`);
  }
}

/**
 * `KEY:KIND[:PIN[:OPTION]]` entries, comma-separated: `led:digital:2`, `relay:digital:4:low`
 * (active low), `fan:pwm:5`, `fan:pwm:5:25000` (25 kHz). KEY is the theThings.IO key whose
 * values drive the output: digital takes 0/1 (true/false), pwm a duty cycle 0–1. A PIN left out
 * or empty is the board's LED (GPIO 2 where the board names none), for either kind: an LED is
 * the one output every board has a pin for, switched (`led:digital`, `led:digital::low`) or
 * dimmed (`led:pwm`, `led:pwm::5000`). Two entries on one pin are refused, so at most one takes
 * the LED.
 */
export function parseActuators(key: string, value: unknown, board: BoardPins = {}): readonly ActuatorSpec[] {
  const ledPin = board.ledPin ?? FALLBACK_BOARD_PINS.ledPin;
  const specs = listEntries(key, value, MAX_ACTUATORS).map((entry) => parseActuator(key, entry, ledPin));
  const keys = new Set<string>();
  const pins = new Map<number, string>();
  for (const spec of specs) {
    if (keys.has(spec.key)) throw new ConfigError(key, `key ${shown(spec.key)} is given twice`);
    keys.add(spec.key);
    const other = pins.get(spec.pin);
    if (other !== undefined) throw new ConfigError(key, `${shown(other)} and ${shown(spec.entry)} use the same pin`);
    pins.set(spec.pin, spec.entry);
  }
  return Object.freeze(specs);
}
