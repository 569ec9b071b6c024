// Device settings, parsed and checked once at startup. On Moddable they come from mc/config: the
// manifest's "config" defaults (JSON strings, numbers or booleans) merged with key=value pairs
// from the mcconfig command line, which are always strings. The PC tools parse their flags with
// the same functions. A bad value stops startup with a ConfigError that names the key and the
// value, so a typo on the command line never becomes a device that silently does something else.
// Each value's grammar lives beside its parser (config-values.ts, server-uri.ts, io-specs.ts);
// this module holds the defaults and the checks of how the values fit together.
import type { LogLevel } from "../kernel/log.js";
import {
  DEFAULT_TELEMETRY_CONFIG,
  MAX_BUFFER_SIZE,
  MAX_OUTBOX_SIZE,
  resolveTelemetryConfig,
  type TelemetryConfig,
} from "../sensors/telemetry-config.js";
import { ConfigError } from "./config-error.js";
import {
  asText,
  parseBoolean,
  parseChoice,
  parseCredential,
  parseDuration,
  parseDurationOrOff,
  parseInteger,
  parseLogLevel,
  parseWifiPassword,
  shown,
} from "./config-values.js";
import {
  type ActuatorSpec,
  type BoardPins,
  MAX_PIN,
  parseActuators,
  parseSensors,
  type SensorSpec,
  sensorPins,
} from "./io-specs.js";
import { reservedKeyProblem } from "./reserved-keys.js";
import { parseServer, type ServerAddress } from "./server-uri.js";

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
  persistAfter: "auto",
  outboxSize: "500",
  holdUnstamped: "10m",
  keepAlive: "30s",
  reactivateOnAuthFailure: "false",
  sensors: "sim",
  actuators: "",
  logLevel: "info",
  setup: "auto",
  setupButton: "",
  setupAfter: "5m",
  setupTimeout: "10m",
  setupPassword: "",
  setupPort: "8080",
  healthInterval: "10m",
  memory: "off",
});

export type SettingKey = keyof typeof DEFAULT_SETTINGS;

export const SETTING_KEYS: readonly SettingKey[] = Object.freeze(Object.keys(DEFAULT_SETTINGS) as SettingKey[]);

export interface DeviceConfig {
  /** Undefined when not given: the device can only run with a thing token it already stored. */
  readonly activationCode: string | undefined;
  readonly productId: string | undefined;
  readonly server: ServerAddress;
  readonly telemetry: TelemetryConfig;
  /** persistAfter as configured: `auto` (maxDelay + 30 s, following maxDelay) or milliseconds. */
  readonly persistAfter: number | "auto";
  readonly keepAliveMs: number;
  /** Activate again when the platform rejects the stored token (4.01/4.03). */
  readonly reactivateOnAuthFailure: boolean;
  readonly sensors: readonly SensorSpec[];
  readonly actuators: readonly ActuatorSpec[];
  readonly logLevel: LogLevel;
  readonly setup: SetupConfig;
  /** How often device.health is written; 0: never. */
  readonly healthIntervalMs: number;
  /**
   * How often the Moddable app traces the XS heap (moddable/memory-trace.ts; debug and
   * instrumented builds); 0: never.
   */
  readonly memoryTraceMs: number;
}

export type SetupMode = "auto" | "always" | "never";

/** When and how the setup portal opens (device/setup-portal.ts). */
export interface SetupConfig {
  /** auto: when something is missing or refused; always: at every boot; never: not at all. */
  readonly mode: SetupMode;
  /** The button that, held at boot, opens setup; undefined for none. */
  readonly buttonPin: number | undefined;
  /** How long the stored Wi-Fi network may stay out of reach before setup opens (board only). */
  readonly afterMs: number;
  /**
   * A portal opened on demand (the button, `--setup`, setup=always) closes after this long
   * without a request while the device lacks nothing; 0: it stays until setup is done.
   */
  readonly idleMs: number;
  /** The access point's WPA2 passphrase; undefined: an open access point. */
  readonly password: string | undefined;
  /** The page's TCP port (80 on the board; 0 on the PC picks a free one). */
  readonly port: number;
}

const SETUP_MODES: readonly SetupMode[] = Object.freeze(["auto", "always", "never"] as const);
/** From one minute (a router's reboot) to a day. */
const SETUP_AFTER_RANGE = Object.freeze([60_000, 86_400_000] as const);
/** From one minute (time to walk to the board with a phone) to a day; or off. */
const SETUP_TIMEOUT_RANGE = Object.freeze([60_000, 86_400_000] as const);

/** `setupButton`: a GPIO number, `none`, or empty for the board's own button (BoardPins.buttonPin). */
function parseSetupButton(key: string, value: unknown, board: BoardPins): number | undefined {
  const text = asText(key, value).toLowerCase();
  if (text === "none") return undefined;
  if (text === "") return board.buttonPin;
  return parseInteger(key, text, 0, MAX_PIN);
}

function parseSetupConfig(setting: (key: SettingKey) => unknown, board: BoardPins): SetupConfig {
  return Object.freeze({
    mode: parseChoice("setup", setting("setup"), SETUP_MODES),
    buttonPin: parseSetupButton("setupButton", setting("setupButton"), board),
    afterMs: parseDuration("setupAfter", setting("setupAfter"), SETUP_AFTER_RANGE[0], SETUP_AFTER_RANGE[1]),
    idleMs: parseDurationOrOff("setupTimeout", setting("setupTimeout"), SETUP_TIMEOUT_RANGE[0], SETUP_TIMEOUT_RANGE[1]),
    password: parseWifiPassword("setupPassword", setting("setupPassword")),
    port: parseInteger("setupPort", setting("setupPort"), 0, 65_535),
  });
}

/**
 * Duration bounds: short enough intervals for a demo, nothing that could flood the platform.
 * The settings written on the platform are held to the same (settable-settings.ts).
 */
export const INTERVAL_RANGE = Object.freeze([100, 86_400_000] as const);
export const MAX_DELAY_RANGE = Object.freeze([100, 86_400_000] as const);
/** How long a value may wait in RAM before it goes to flash; "auto" is maxDelay + 30 s. */
export const PERSIST_AFTER_RANGE = Object.freeze([100, 86_400_000] as const);
const HOLD_UNSTAMPED_RANGE = Object.freeze([0, 86_400_000] as const);
/** Below 5 s the keep-alives alone load the platform; above 1 h a NAT mapping surely expires. */
export const KEEP_ALIVE_RANGE = Object.freeze([5_000, 3_600_000] as const);
/** A health report rides with the batches, so even every second adds no write of its own; 0 turns it off. */
export const HEALTH_INTERVAL_RANGE = Object.freeze([1_000, 86_400_000] as const);
/** A collection per second at most: the trace is for watching the heap, not for loading the device. */
const MEMORY_TRACE_RANGE = Object.freeze([1_000, 86_400_000] as const);

/**
 * Reads every setting from `values` (missing keys take DEFAULT_SETTINGS), checks each one and
 * how they fit together, and returns the frozen result. Other keys in `values` (ssid, sntp, …)
 * belong to others and are ignored. `board` gives the pins that sensor and actuator entries may
 * leave out (io-specs.ts); the Moddable adapter reads them from the SDK, elsewhere the fallbacks
 * apply. Throws ConfigError.
 */
export function parseDeviceConfig(values: Readonly<Record<string, unknown>>, board: BoardPins = {}): DeviceConfig {
  const setting = (key: SettingKey): unknown => {
    const value = Object.hasOwn(values, key) ? values[key] : undefined;
    return value === undefined ? DEFAULT_SETTINGS[key] : value;
  };
  const bufferSize = parseInteger("bufferSize", setting("bufferSize"), 1, MAX_BUFFER_SIZE);
  const batch = parseInteger("batch", setting("batch"), 1, MAX_BUFFER_SIZE);
  if (batch > bufferSize) throw new ConfigError("batch", `${batch} is larger than bufferSize ${bufferSize}`);
  const intervalMs = parseDuration("interval", setting("interval"), INTERVAL_RANGE[0], INTERVAL_RANGE[1]);
  const maxDelayMs = parseDuration("maxDelay", setting("maxDelay"), MAX_DELAY_RANGE[0], MAX_DELAY_RANGE[1]);
  const persistAfterText = asText("persistAfter", setting("persistAfter")).toLowerCase();
  const persistAfterMs =
    persistAfterText === "auto"
      ? undefined
      : parseDuration("persistAfter", persistAfterText, PERSIST_AFTER_RANGE[0], PERSIST_AFTER_RANGE[1]);
  const outboxSize = parseInteger("outboxSize", setting("outboxSize"), 0, MAX_OUTBOX_SIZE);
  const holdUnstampedMs = parseDuration(
    "holdUnstamped",
    setting("holdUnstamped"),
    HOLD_UNSTAMPED_RANGE[0],
    HOLD_UNSTAMPED_RANGE[1],
  );
  let telemetry: TelemetryConfig;
  try {
    telemetry = resolveTelemetryConfig({
      intervalMs,
      batch,
      maxDelayMs,
      bufferSize,
      persistAfterMs,
      outboxSize,
      holdUnstampedMs,
    });
  } catch (error) {
    throw new ConfigError("telemetry", error instanceof Error ? error.message : String(error));
  }

  const sensors = parseSensors("sensors", setting("sensors"), board);
  const actuators = parseActuators("actuators", setting("actuators"), board);
  const droppedKey = DEFAULT_TELEMETRY_CONFIG.droppedKey;
  for (const spec of sensors) {
    for (const reading of spec.readings) {
      const problem = reservedKeyProblem(reading.key, droppedKey);
      if (problem !== undefined)
        throw new ConfigError("sensors", `${shown(spec.entry)}: key ${shown(reading.key)} ${problem}`);
    }
  }
  for (const spec of actuators) {
    const problem = reservedKeyProblem(spec.key, droppedKey);
    if (problem !== undefined)
      throw new ConfigError("actuators", `${shown(spec.entry)}: key ${shown(spec.key)} ${problem}`);
    // The platform pushes the device's own writes back to its subscription, so a key that is
    // both telemetry and a command would have every sample drive the output.
    const clash = sensors.find((sensor) => sensor.readings.some((reading) => reading.key === spec.key));
    if (clash !== undefined)
      throw new ConfigError(
        "actuators",
        `${shown(spec.entry)}: key ${shown(spec.key)} is also written by sensor ${shown(clash.entry)}`,
      );
    // Driving a sensor's pin would corrupt its readings (an I2C line held low hangs the bus); with
    // pins taken from the board's defaults this is easy to do without typing a number.
    const wired = sensors.find((sensor) => sensorPins(sensor).includes(spec.pin));
    if (wired !== undefined)
      throw new ConfigError(
        "actuators",
        `${shown(spec.entry)}: pin ${spec.pin} is also used by sensor ${shown(wired.entry)}`,
      );
  }

  return Object.freeze({
    activationCode: parseCredential("activationCode", setting("activationCode")),
    productId: parseCredential("productId", setting("productId")),
    server: parseServer("server", setting("server")),
    telemetry,
    persistAfter: persistAfterMs ?? "auto",
    keepAliveMs: parseDuration("keepAlive", setting("keepAlive"), KEEP_ALIVE_RANGE[0], KEEP_ALIVE_RANGE[1]),
    reactivateOnAuthFailure: parseBoolean("reactivateOnAuthFailure", setting("reactivateOnAuthFailure")),
    sensors,
    actuators,
    logLevel: parseLogLevel("logLevel", setting("logLevel")),
    setup: parseSetupConfig(setting, board),
    healthIntervalMs: parseDurationOrOff(
      "healthInterval",
      setting("healthInterval"),
      HEALTH_INTERVAL_RANGE[0],
      HEALTH_INTERVAL_RANGE[1],
    ),
    memoryTraceMs: parseDurationOrOff("memory", setting("memory"), MEMORY_TRACE_RANGE[0], MEMORY_TRACE_RANGE[1]),
  });
}
