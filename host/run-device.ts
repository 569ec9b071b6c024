// Runs the device core on a PC: Node adapters for every port, the simulated sensors and outputs,
// a JSON file for the flash and a folder of page files for telemetry's outbox. Shared by
// `npm run device`, `npm start` and the end-to-end tests.

import { lookup } from "node:dns/promises";
import { join } from "node:path";
import { Device, type DeviceEvent, type DeviceOptions } from "../device/app.js";
import { parseDeviceConfig } from "../device/config.js";
import { LogLevelGate } from "../device/log-level-gate.js";
import { openActuators } from "../device/open-actuators.js";
import { openSensors } from "../device/open-sensors.js";
import { readEntered, withEntered } from "../device/setup-store.js";
import { simulatedBoardIo } from "../device/simulated-board-io.js";
import type { LogSink } from "../kernel/log.js";
import type { SensorBinding } from "../sensors/sensor-binding.js";
import { FilePageStore } from "./file-page-store.js";
import { JsonFileStore } from "./json-file-store.js";
import { NodeClock } from "./node-clock.js";
import { NodeRandom } from "./node-random.js";
import { listenLoopback } from "./node-tcp.js";
import { NodeDatagramPort } from "./node-udp.js";

export interface RunDeviceOptions {
  /** Settings as device/config.ts reads them (strings, as typed on a command line). */
  readonly settings: Readonly<Record<string, string>>;
  /** Folder of the JSON file that stands in for flash, and of the outbox's pages (DIR/outbox/). */
  readonly stateDir: string;
  /** Every line; the runner keeps those at or above the logLevel setting (which settings.logLevel changes). */
  readonly log: LogSink;
  readonly onEvent?: (event: DeviceEvent) => void;
  readonly endpoint?: DeviceOptions["endpoint"];
  /** Sensors to use instead of the ones `settings.sensors` names (tests: e.g. a counter with unique values). */
  readonly sensors?: readonly SensorBinding[];
  /** Open the setup page at once (`--setup`). */
  readonly setup?: boolean;
}

export interface RunningDevice {
  readonly device: Device;
  readonly store: JsonFileStore;
  stop(): void;
}

/**
 * The PC has the simulator's outputs: a simulated LED on the key `led` unless told otherwise; and
 * a disk, so its outbox holds 5,000 values (about 70 of its 256 page files).
 */
export const PC_DEFAULT_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  sensors: "sim",
  actuators: "led:digital:2",
  outboxSize: "5000",
});

export async function runDevice(options: RunDeviceOptions): Promise<RunningDevice> {
  const store = new JsonFileStore(options.stateDir);
  // What a person entered on the setup page wins over the flags (as over the build on a board).
  const config = parseDeviceConfig(
    withEntered({ ...PC_DEFAULT_SETTINGS, ...options.settings }, readEntered(store, options.log)),
  );
  const logLevel = new LogLevelGate(options.log, config.logLevel);
  const log = logLevel.log;
  const random = new NodeRandom();
  const udp = await NodeDatagramPort.open({ type: config.server.host.includes(":") ? "udp6" : "udp4", log });
  const device = new Device({
    config,
    ports: {
      udp,
      clock: new NodeClock(),
      random,
      wallClock: { utcNow: () => Date.now() },
      store,
      pages: new FilePageStore(join(options.stateDir, "outbox")),
      log,
      sensors: options.sensors ?? openSensors(config.sensors, { board: simulatedBoardIo, random, log }),
      actuators: openActuators(config.actuators, { board: simulatedBoardIo, log }),
      resolve: async (host) => (await lookup(host)).address,
      setup: { listen: listenLoopback },
      logLevel,
    },
    setupRequested: options.setup === true,
    onEvent: options.onEvent,
    endpoint: options.endpoint,
  });
  device.start();
  return { device, store, stop: () => device.close() };
}
