// The firmware's composition root (ESP32 and simulator): reads the configuration, builds the
// Moddable adapter for every port and starts the device core. Nothing else lives here. On the
// board main runs without waiting for Wi-Fi (moddable/esp32/setup-network.ts): the network watch
// joins, rejoins and sets the clock by SNTP while the device samples and buffers.
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
import { openActuators } from "./device/open-actuators.js";
import { openSensors } from "./device/open-sensors.js";
import { ModdableClock } from "./kernel/moddable/clock.js";
import { ModdableRandom } from "./kernel/moddable/random.js";
import { createTraceLog } from "./kernel/moddable/trace-log.js";
import { SystemWallClock } from "./kernel/moddable/wall-clock.js";
import { readBoardPins } from "./moddable/board-pins.js";
import { startMemoryTrace } from "./moddable/memory-trace.js";
import { PreferenceStore } from "./moddable/preference-store.js";

/** The Preference domain of everything the device keeps in flash (≤ 15 characters). */
const STORE_DOMAIN = "tt";

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
  let settings: DeviceConfig;
  try {
    // The SDK's host provider names the board's LED and I2C pins (undefined in the simulator).
    settings = parseDeviceConfig(config, readBoardPins(globalThis.device));
  } catch (error) {
    const problem = error instanceof ConfigError ? error.message : `config: ${String(error)}`;
    trace(`${problem}\nstopped: fix the value (mcconfig … key=value, or manifest.json "config") and build again\n`);
    return;
  }

  const clock = new ModdableClock();
  const random = new ModdableRandom();
  const log = createTraceLog({ minimum: settings.logLevel, now: () => clock.now() });
  log("info", `theThings.IO firmware on ${boardIo.name}: ${describeConfig(settings)}`);
  // First traced now, before the device is built: what the app holds before it, then every period.
  if (settings.memoryTraceMs !== undefined) startMemoryTrace({ periodMs: settings.memoryTraceMs, log });

  const resolver = new HostResolver({ clock });
  const device = new Device({
    config: settings,
    ports: {
      udp: new ModdableDatagramPort({ log }),
      clock,
      random,
      wallClock: new SystemWallClock(),
      store: new PreferenceStore({ domain: STORE_DOMAIN }),
      log,
      sensors: openSensors(settings.sensors, { board: boardIo, random, log }),
      actuators: openActuators(settings.actuators, { board: boardIo, log }),
      resolve: (host) => resolver.resolve(host),
    },
    // The parts log their own progress; stored batches are the one thing only the event tells.
    onEvent: (event) => log(event.event === "sent" ? "info" : "debug", describeDeviceEvent(event)),
  });
  openNetworkWatch({
    clock,
    random,
    log,
    ssid: optionalText(config.ssid),
    password: optionalText(config.password),
    sntpHost: optionalText(config.sntp),
    onChange: (online) => {
      if (online) device.networkChanged();
    },
  });
  device.start();
}
