// Device settings, parsed and checked once at startup. On Moddable they come from mc/config: the
// manifest's "config" defaults (JSON strings, numbers or booleans) merged with key=value pairs
// from the mcconfig command line, which are always strings. The PC tools parse their flags with
// the same functions. A bad value stops startup with a ConfigError that names the key and the
// value, so a typo on the command line never becomes a device that silently does something else.
import type { LogLevel } from "../kernel/log.js";
import type { ReadingBinding } from "../sensors/sensor-binding.js";
import { DEFAULT_TELEMETRY_CONFIG, MAX_BUFFER_SIZE, type TelemetryConfig, resolveTelemetryConfig } from "../sensors/telemetry-config.js";
import { isValidThingKey, MAX_KEY_LENGTH } from "../sensors/thing-key.js";

export class ConfigError extends Error {
  /**
   * A field, not `this.name = …`: Moddable freezes the built-ins at build time, and assigning
   * over the frozen Error.prototype.name throws a TypeError on the board and in the simulator.
   */
  override readonly name = "ConfigError";
  /** The setting that is wrong, as spelled on the command line. */
  readonly key: string;

  constructor(key: string, problem: string) {
    super(`config ${key}: ${problem}`);
    this.key = key;
  }
}

/**
 * Every setting with its default, as the text one would type after `key=` on the mcconfig
 * command line. manifest.json's "config" repeats these (a test keeps the two equal); its
 * "platforms" sections override sensors and actuators per target.
 */
export const DEFAULT_SETTINGS = Object.freeze({
  activationCode: "",
  productId: "",
  server: "coap://coap.thethings.io:5683",
  interval: "10s",
  batch: "20",
  maxDelay: "60s",
  bufferSize: "500",
  keepAlive: "30s",
  reactivateOnAuthFailure: "false",
  sensors: "sim",
  actuators: "",
  logLevel: "info",
});

export type SettingKey = keyof typeof DEFAULT_SETTINGS;

export const SETTING_KEYS: readonly SettingKey[] = Object.freeze(Object.keys(DEFAULT_SETTINGS) as SettingKey[]);

/** Where the platform is; `host` is what DNS resolves unless it is already an IP literal. */
export interface ServerAddress {
  /** Normalized: `coap://host:port`, IPv6 literals in brackets. */
  readonly uri: string;
  /** Host name or IP literal, without brackets. */
  readonly host: string;
  readonly port: number;
  /** True for an IPv4 or IPv6 literal: nothing to resolve. */
  readonly isIpLiteral: boolean;
}

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

export interface DeviceConfig {
  /** Undefined when not given: the device can only run with a thing token it already stored. */
  readonly activationCode: string | undefined;
  readonly productId: string | undefined;
  readonly server: ServerAddress;
  readonly telemetry: TelemetryConfig;
  readonly keepAliveMs: number;
  /** Activate again when the platform rejects the stored token (4.01/4.03). */
  readonly reactivateOnAuthFailure: boolean;
  readonly sensors: readonly SensorSpec[];
  readonly actuators: readonly ActuatorSpec[];
  readonly logLevel: LogLevel;
}

/** Bounds that keep a long or mistyped list from exhausting the heap. */
export const MAX_SENSORS = 8;
export const MAX_ACTUATORS = 8;
/** Highest GPIO number on any ESP32 family chip (ESP32-S3: 48), with room to spare. */
export const MAX_PIN = 63;
const MAX_CREDENTIAL_LENGTH = 128;
const MAX_SHOWN = 48;

const DURATION_UNITS: Readonly<Record<string, number>> = Object.freeze({ ms: 1, s: 1_000, m: 60_000, h: 3_600_000 });
const TRUE_WORDS = Object.freeze(["true", "1", "yes", "on"]);
const FALSE_WORDS = Object.freeze(["false", "0", "no", "off"]);
const LOG_LEVELS: readonly LogLevel[] = Object.freeze(["debug", "info", "warn", "error"] as const);
/** RFC 7252 §6.1: the coap scheme; default port 5683. */
const COAP_DEFAULT_PORT = 5683;
// Every pattern is written where it is used, never kept at module level: Moddable preloads this
// module into flash, and XS crashes in exec() on a RegExp stored there (SIGSEGV in
// fx_RegExp_prototype_exec, SDK 8.2.3). Configuration is parsed once per boot.

/** The value as it appears in messages: quoted, cut short. */
function shown(value: unknown): string {
  const text = String(value);
  return JSON.stringify(text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text);
}

/** Manifest defaults may be JSON numbers or booleans; the command line gives strings. */
function asText(key: string, value: unknown): string {
  if (typeof value === "string") return value.trim();
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new ConfigError(key, `expected text, got ${value === null ? "null" : typeof value}`);
}

/** A whole number, decimal or 0x hex, in [min, max]. */
export function parseInteger(key: string, value: unknown, min: number, max: number): number {
  const text = asText(key, value);
  const number = /^(?:\d+|0x[0-9a-f]+)$/i.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(number)) throw new ConfigError(key, `${shown(value)} is not a whole number`);
  if (number < min || number > max) throw new ConfigError(key, `${shown(value)} is outside ${min}–${max}`);
  return number;
}

/**
 * A duration in milliseconds: a number with a unit (`500ms`, `10s`, `2m`, `1h`); a bare number
 * counts as seconds. The result must be a whole number of milliseconds in [minMs, maxMs].
 */
export function parseDuration(key: string, value: unknown, minMs: number, maxMs: number): number {
  const text = asText(key, value).toLowerCase();
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  const ms = match === null ? Number.NaN : Number(match[1]) * DURATION_UNITS[match[2] ?? "s"]!;
  if (!Number.isSafeInteger(ms)) {
    throw new ConfigError(key, `${shown(value)} is not a duration in whole milliseconds (e.g. 500ms, 10s, 2m, 1h; a bare number is seconds)`);
  }
  if (ms < minMs || ms > maxMs) throw new ConfigError(key, `${shown(value)} is outside ${describeMs(minMs)}–${describeMs(maxMs)}`);
  return ms;
}

function describeMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

/** true/false, 1/0, yes/no, on/off, any case. */
export function parseBoolean(key: string, value: unknown): boolean {
  const text = asText(key, value).toLowerCase();
  if (TRUE_WORDS.includes(text)) return true;
  if (FALSE_WORDS.includes(text)) return false;
  throw new ConfigError(key, `${shown(value)} is not a boolean (true/false, 1/0, yes/no, on/off)`);
}

/**
 * An activation code or product ID: empty means "not given". The value is a credential, so
 * messages give its length, never its text.
 */
export function parseCredential(key: string, value: unknown): string | undefined {
  const text = asText(key, value);
  if (text === "") return undefined;
  if (text.length > MAX_CREDENTIAL_LENGTH) throw new ConfigError(key, `${text.length} characters, at most ${MAX_CREDENTIAL_LENGTH}`);
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit <= 0x20 || unit >= 0x7f) {
      throw new ConfigError(key, `character ${i + 1} of ${text.length} is a space, control or non-ASCII character (a copy-and-paste slip?)`);
    }
  }
  return text;
}

export function parseLogLevel(key: string, value: unknown): LogLevel {
  const text = asText(key, value).toLowerCase();
  const level = LOG_LEVELS.find((candidate) => candidate === text);
  if (level === undefined) throw new ConfigError(key, `${shown(value)} is not one of ${LOG_LEVELS.join(", ")}`);
  return level;
}

function checkHost(key: string, value: unknown, host: string): boolean {
  if (host.startsWith("[")) {
    const inner = host.slice(1, -1);
    if (!inner.includes(":") || !/^[0-9A-Fa-f:.]+$/.test(inner)) throw new ConfigError(key, `${shown(value)} has a malformed IPv6 literal`);
    return true;
  }
  const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (ipv4 !== null) {
    if (ipv4.slice(1).some((octet) => Number(octet) > 255)) throw new ConfigError(key, `${shown(value)} has a malformed IPv4 address`);
    return true;
  }
  const labels = host.endsWith(".") ? host.slice(0, -1).split(".") : host.split(".");
  const hostLabel = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
  if (host.length === 0 || host.length > 253 || !labels.every((label) => hostLabel.test(label))) {
    throw new ConfigError(key, `${shown(value)} does not name a valid host`);
  }
  if (labels.every((label) => /^\d+$/.test(label))) throw new ConfigError(key, `${shown(value)} has a malformed IPv4 address`);
  return false;
}

/** `coap://host[:port][/]` (RFC 7252 §6.1). No coaps: theThings.IO offers no DTLS. */
export function parseServer(key: string, value: unknown): ServerAddress {
  const text = asText(key, value);
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(\[[^\]]*\]|[^:/?#[\]]*)(?::([^/?#]*))?(\/[^?#]*)?([?#].*)?$/.exec(text);
  if (match === null) throw new ConfigError(key, `${shown(value)} is not a URI like coap://host:5683`);
  const [, scheme, rawHost, rawPort, path, rest] = match;
  const lowerScheme = scheme!.toLowerCase();
  if (lowerScheme === "coaps") throw new ConfigError(key, `${shown(value)}: coaps (DTLS) is not supported; theThings.IO serves plain coap`);
  if (lowerScheme !== "coap") throw new ConfigError(key, `${shown(value)}: the scheme must be coap`);
  if ((path !== undefined && path !== "/") || rest !== undefined) {
    throw new ConfigError(key, `${shown(value)}: give only coap://host[:port]; the paths are fixed by the platform API`);
  }
  const isIpLiteral = checkHost(key, value, rawHost!);
  const port = rawPort === undefined || rawPort === "" ? COAP_DEFAULT_PORT : parsePort(key, value, rawPort);
  const host = rawHost!.startsWith("[") ? rawHost!.slice(1, -1) : rawHost!.toLowerCase();
  return Object.freeze({ uri: `coap://${rawHost!.startsWith("[") ? rawHost : host}:${port}`, host, port, isIpLiteral });
}

function parsePort(key: string, value: unknown, text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) throw new ConfigError(key, `${shown(value)} has a bad port (1–65535)`);
  return port;
}

/** Splits a comma-separated list; empty items are errors (a stray comma hides a typo). */
function listEntries(key: string, value: unknown, max: number): string[] {
  const text = asText(key, value);
  if (text === "" || text.toLowerCase() === "none") return [];
  const entries = text.split(",").map((entry) => entry.trim());
  if (entries.some((entry) => entry === "")) throw new ConfigError(key, `${shown(value)} has an empty entry`);
  if (entries.length > max) throw new ConfigError(key, `${entries.length} entries, at most ${max}`);
  return entries;
}

function parsePin(key: string, entry: string, text: string | undefined, fallback?: number): number {
  if (text === undefined || text === "") {
    if (fallback !== undefined) return fallback;
    throw new ConfigError(key, `${shown(entry)} needs a pin number`);
  }
  const pin = /^\d{1,2}$/.test(text) ? Number(text) : Number.NaN;
  if (!(pin >= 0 && pin <= MAX_PIN)) throw new ConfigError(key, `${shown(entry)}: pin ${shown(text)} is not a GPIO number 0–${MAX_PIN}`);
  return pin;
}

function checkKey(key: string, entry: string, thingKey: string): string {
  if (!isValidThingKey(thingKey)) {
    throw new ConfigError(key, `${shown(entry)}: ${shown(thingKey)} is not a theThings.IO key ([A-Za-z0-9._-], 1–${MAX_KEY_LENGTH} characters)`);
  }
  return thingKey;
}

/** Readings of one sensor; `name` (after @) renames a single reading or prefixes several. */
function readings(key: string, entry: string, name: string | undefined, list: readonly (readonly [string, string, number])[]): readonly ReadingBinding[] {
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

/** I2C defaults of Moddable's generic ESP32 target (SDA 21, SCL 22); SHT3x address 0x44 (ADDR low). */
export const SHT3X_DEFAULTS = Object.freeze({ sda: 21, scl: 22, address: 0x44 });

function parseSensor(key: string, entry: string): SensorSpec {
  const at = entry.indexOf("@");
  const name = at < 0 ? undefined : entry.slice(at + 1);
  if (name === "") throw new ConfigError(key, `${shown(entry)}: nothing after @ (e.g. ${entry}room)`);
  const [kind, ...args] = (at < 0 ? entry : entry.slice(0, at)).split(":");
  switch (kind!.toLowerCase()) {
    case "sim":
      noArguments(key, entry, args);
      return Object.freeze({ kind: "sim", entry, readings: readings(key, entry, name, [["temperature", "temperature", 2], ["humidity", "humidity", 2]]) });
    case "sim-analog":
      noArguments(key, entry, args);
      return Object.freeze({ kind: "sim-analog", entry, readings: readings(key, entry, name, [["raw", "analog", 0]]) });
    case "sht3x": {
      if (args.length > 3) throw new ConfigError(key, `${shown(entry)}: sht3x[:sda:scl[:address]]`);
      const address = args[2] === undefined ? SHT3X_DEFAULTS.address : parseInteger(key, args[2], 0x08, 0x77);
      return Object.freeze({
        kind: "sht3x",
        entry,
        readings: readings(key, entry, name, [["thermometer.temperature", "temperature", 2], ["hygrometer.humidity", "humidity", 2]]),
        sda: parsePin(key, entry, args[0], SHT3X_DEFAULTS.sda),
        scl: parsePin(key, entry, args[1], SHT3X_DEFAULTS.scl),
        address,
      });
    }
    case "analog":
      if (args.length !== 1) throw new ConfigError(key, `${shown(entry)}: analog:PIN (e.g. analog:34)`);
      return Object.freeze({ kind: "analog", entry, readings: readings(key, entry, name, [["raw", "analog", 0]]), pin: parsePin(key, entry, args[0]) });
    default:
      throw new ConfigError(key, `${shown(entry)}: unknown sensor kind ${shown(kind)} (sim, sim-analog, sht3x, analog)`);
  }
}

/**
 * `kind[:arg…][@name]` entries, comma-separated:
 *   sim                      simulated temperature + humidity (keys temperature, humidity)
 *   sim-analog               simulated ADC counts (key analog)
 *   sht3x[:sda:scl[:addr]]   SHT3x on I2C, defaults 21:22:0x44 (keys temperature, humidity)
 *   analog:PIN               ADC counts from a pin (key analog)
 * `@name` renames a one-reading sensor's key, or prefixes a multi-reading one's (`sht3x@room`
 * gives room.temperature, room.humidity). "" or "none": no sensors.
 */
export function parseSensors(key: string, value: unknown): readonly SensorSpec[] {
  const specs = listEntries(key, value, MAX_SENSORS).map((entry) => parseSensor(key, entry));
  const seen = new Map<string, string>();
  for (const spec of specs) {
    for (const reading of spec.readings) {
      const other = seen.get(reading.key);
      if (other !== undefined) {
        throw new ConfigError(key, `${shown(other)} and ${shown(spec.entry)} both write key ${shown(reading.key)}; name one with @ (e.g. ${spec.entry.split("@")[0]}@${reading.key}2)`);
      }
      seen.set(reading.key, spec.entry);
    }
  }
  return Object.freeze(specs);
}

function parseActuator(key: string, entry: string): ActuatorSpec {
  const [thingKey, kind, pinText, option, ...extra] = entry.split(":");
  if (kind === undefined || pinText === undefined || extra.length > 0) {
    throw new ConfigError(key, `${shown(entry)}: KEY:digital:PIN[:low] or KEY:pwm:PIN[:HZ] (e.g. led:digital:2)`);
  }
  checkKey(key, entry, thingKey!);
  const pin = parsePin(key, entry, pinText);
  switch (kind.toLowerCase()) {
    case "digital":
      if (option !== undefined && option.toLowerCase() !== "low") throw new ConfigError(key, `${shown(entry)}: the only digital option is low (active low)`);
      return Object.freeze({ kind: "digital", entry, key: thingKey!, pin, activeLow: option !== undefined });
    case "pwm":
      return Object.freeze({ kind: "pwm", entry, key: thingKey!, pin, hz: option === undefined ? undefined : parseInteger(key, option, 1, 40_000_000) });
    default:
      throw new ConfigError(key, `${shown(entry)}: unknown actuator kind ${shown(kind)} (digital, pwm)`);
  }
}

/**
 * `KEY:KIND:PIN[:OPTION]` entries, comma-separated: `led:digital:2`, `relay:digital:4:low`
 * (active low), `fan:pwm:5`, `fan:pwm:5:25000` (25 kHz). KEY is the theThings.IO key whose
 * values drive the output: digital takes 0/1 (true/false), pwm a duty cycle 0–1.
 */
export function parseActuators(key: string, value: unknown): readonly ActuatorSpec[] {
  const specs = listEntries(key, value, MAX_ACTUATORS).map((entry) => parseActuator(key, entry));
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

/** Duration bounds: short enough intervals for a demo, nothing that could flood the platform. */
const INTERVAL_RANGE = Object.freeze([100, 86_400_000] as const);
const MAX_DELAY_RANGE = Object.freeze([100, 86_400_000] as const);
/** Below 5 s the keep-alives alone load the platform; above 1 h a NAT mapping surely expires. */
const KEEP_ALIVE_RANGE = Object.freeze([5_000, 3_600_000] as const);

/**
 * Reads every setting from `values` (missing keys take DEFAULT_SETTINGS), checks each one and
 * how they fit together, and returns the frozen result. Other keys in `values` (ssid, sntp, …)
 * belong to others and are ignored. Throws ConfigError.
 */
export function parseDeviceConfig(values: Readonly<Record<string, unknown>>): DeviceConfig {
  const setting = (key: SettingKey): unknown => {
    const value = Object.prototype.hasOwnProperty.call(values, key) ? values[key] : undefined;
    return value === undefined ? DEFAULT_SETTINGS[key] : value;
  };
  const bufferSize = parseInteger("bufferSize", setting("bufferSize"), 1, MAX_BUFFER_SIZE);
  const batch = parseInteger("batch", setting("batch"), 1, MAX_BUFFER_SIZE);
  if (batch > bufferSize) throw new ConfigError("batch", `${batch} is larger than bufferSize ${bufferSize}`);
  const intervalMs = parseDuration("interval", setting("interval"), INTERVAL_RANGE[0], INTERVAL_RANGE[1]);
  const maxDelayMs = parseDuration("maxDelay", setting("maxDelay"), MAX_DELAY_RANGE[0], MAX_DELAY_RANGE[1]);
  let telemetry: TelemetryConfig;
  try {
    telemetry = resolveTelemetryConfig({ intervalMs, batch, maxDelayMs, bufferSize });
  } catch (error) {
    throw new ConfigError("telemetry", error instanceof Error ? error.message : String(error));
  }

  const sensors = parseSensors("sensors", setting("sensors"));
  const actuators = parseActuators("actuators", setting("actuators"));
  const reserved = DEFAULT_TELEMETRY_CONFIG.droppedKey;
  for (const spec of sensors) {
    for (const reading of spec.readings) {
      if (reading.key === reserved) throw new ConfigError("sensors", `${shown(spec.entry)}: key ${shown(reserved)} is reserved for drop reports`);
    }
  }
  for (const spec of actuators) {
    if (spec.key === reserved) throw new ConfigError("actuators", `${shown(spec.entry)}: key ${shown(reserved)} is reserved for drop reports`);
    // The platform pushes the device's own writes back to its subscription, so a key that is
    // both telemetry and a command would have every sample drive the output.
    const clash = sensors.find((sensor) => sensor.readings.some((reading) => reading.key === spec.key));
    if (clash !== undefined) throw new ConfigError("actuators", `${shown(spec.entry)}: key ${shown(spec.key)} is also written by sensor ${shown(clash.entry)}`);
  }

  return Object.freeze({
    activationCode: parseCredential("activationCode", setting("activationCode")),
    productId: parseCredential("productId", setting("productId")),
    server: parseServer("server", setting("server")),
    telemetry,
    keepAliveMs: parseDuration("keepAlive", setting("keepAlive"), KEEP_ALIVE_RANGE[0], KEEP_ALIVE_RANGE[1]),
    reactivateOnAuthFailure: parseBoolean("reactivateOnAuthFailure", setting("reactivateOnAuthFailure")),
    sensors,
    actuators,
    logLevel: parseLogLevel("logLevel", setting("logLevel")),
  });
}
