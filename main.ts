// The firmware's composition root (ESP32 and simulator): reads the configuration (what a person
// entered on the setup page, kept in Preference, over the build's values), builds the Moddable
// adapter for every port and starts the device core. Nothing else lives here. On the board main
// runs without waiting for Wi-Fi (moddable/esp32/setup-network.ts): the network watch joins,
// rejoins and sets the clock by SNTP while the device samples and buffers; it is also the setup
// portal's radio (access point, captive DNS, scan). The portal's page is served over ECMA-419 TCP.
// Every native object (socket, timers, IO) is made inside main(), never at module load.
import config from "mc/config";
import boardIo from "moddable/board-io";
import openNetworkWatch from "moddable/network";
import { HostResolver } from "./coap/moddable/host-resolver.js";
import { ModdableDatagramPort } from "./coap/moddable/udp.js";
import { Device } from "./device/app.js";
import { type DeviceConfig, parseDeviceConfig } from "./device/config.js";
import { ConfigError } from "./device/config-error.js";
import { describeDeviceEvent } from "./device/event-text.js";
import { LogLevelGate } from "./device/log-level-gate.js";
import { openActuators } from "./device/open-actuators.js";
import { openSensors } from "./device/open-sensors.js";
import { readEntered, withEntered } from "./device/setup-store.js";
import { listenModdable } from "./http/moddable/listener.js";
import { ModdableClock } from "./kernel/moddable/clock.js";
import { ModdableRandom } from "./kernel/moddable/random.js";
import { createTraceLog } from "./kernel/moddable/trace-log.js";
import { SystemWallClock } from "./kernel/moddable/wall-clock.js";
import { readBoardPins } from "./moddable/board-pins.js";
import { readTargetHealth } from "./moddable/health.js";
import { startMemoryTrace } from "./moddable/memory-trace.js";
import { PreferencePageStore } from "./moddable/preference-page-store.js";
import { PreferenceStore } from "./moddable/preference-store.js";

/** The Preference domain of everything the device keeps in flash (≤ 15 characters). */
const STORE_DOMAIN = "tt";
/**
 * The Preference domain of telemetry's outbox, and its slots: pages of at most 1024 bytes, at
 * most 11 of values (about 800; outboxSize is 500 by default, 7.4 KB of NVS entries) and 4 of
 * reports, one slot always free (moddable/README.md, "Flash outbox").
 */
const OUTBOX_DOMAIN = "ttout";
const OUTBOX_SLOTS = 16;

function optionalText(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function describeConfig(settings: DeviceConfig): string {
  const sensors = settings.sensors.map((spec) => spec.entry).join(",") || "none";
  const actuators = settings.actuators.map((spec) => spec.entry).join(",") || "none";
  const interval = settings.telemetry.intervalMs;
  return `server ${settings.server.uri}, sensors ${sensors}, actuators ${actuators}, every ${interval} ms`;
}

export default function main(): void {
  const clock = new ModdableClock();
  const store = new PreferenceStore({ domain: STORE_DOMAIN });
  const entered = readEntered(store, createTraceLog({ minimum: "info", now: () => clock.now() }));
  let settings: DeviceConfig;
  try {
    // The SDK's host provider names the board's LED, button and I2C pins (undefined in the simulator).
    const pins = readBoardPins(globalThis.device);
    const buttonPin = pins.buttonPin ?? boardIo.fallbackButtonPin;
    settings = parseDeviceConfig(withEntered(config, entered), buttonPin === undefined ? pins : { ...pins, buttonPin });
  } catch (error) {
    const problem = error instanceof ConfigError ? error.message : `config: ${String(error)}`;
    trace(`${problem}\nstopped: fix the value (mcconfig … key=value, or manifest.json "config") and build again\n`);
    return;
  }

  const random = new ModdableRandom();
  // The level is the gate's, which settings.logLevel changes at run time.
  const logLevel = new LogLevelGate(createTraceLog({ minimum: "debug", now: () => clock.now() }), settings.logLevel);
  const log = logLevel.log;
  log("info", `theThings.IO firmware on ${boardIo.name}: ${describeConfig(settings)}`);
  // First traced now, before the device is built: what the app holds before it, then every period.
  if (settings.memoryTraceMs > 0) startMemoryTrace({ periodMs: settings.memoryTraceMs, log });

  const resolver = new HostResolver({ clock });
  const button = settings.setup.buttonPin;
  const setupRequested = button !== undefined && boardIo.isButtonHeld?.(button) === true;
  if (setupRequested) log("info", `setup button (GPIO ${button}) held at boot`);
  // The Wi-Fi entered at setup goes together (an entered open network has no password).
  const ssid = entered.ssid ?? optionalText(config.ssid);
  const password = entered.ssid !== undefined ? entered.password : optionalText(config.password);
  let device: Device | undefined;
  const network = openNetworkWatch({
    clock,
    random,
    log,
    ssid,
    password,
    sntpHost: optionalText(config.sntp),
    onChange: (online) => {
      if (online) device?.networkChanged();
      else device?.networkLost();
    },
  });
  device = new Device({
    config: settings,
    ports: {
      udp: new ModdableDatagramPort({ log }),
      clock,
      random,
      wallClock: new SystemWallClock(),
      store,
      pages: new PreferencePageStore({ domain: OUTBOX_DOMAIN, slots: OUTBOX_SLOTS }),
      log,
      sensors: openSensors(settings.sensors, { board: boardIo, random, log }),
      actuators: openActuators(settings.actuators, { board: boardIo, log }),
      resolve: (host) => resolver.resolve(host),
      resetReason: boardIo.resetReason?.(),
      setup: { listen: listenModdable, radio: network.radio },
      readHealth: readTargetHealth,
      logLevel,
    },
    setupRequested,
    // The parts log their own progress; stored batches are the one thing only the event tells.
    onEvent: (event) => log(event.event === "sent" ? "info" : "debug", describeDeviceEvent(event)),
  });
  device.start();
}
