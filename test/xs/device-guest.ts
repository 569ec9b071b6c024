// The device core as a guest on the XS engine (see tools/xs-bridge.ts): the same composition as
// the PC runner, with UDP, time and flash reached through the bridge. The host supplies the
// settings and the flash contents, and reads events and stats back.
import { Device } from "../../device/app.js";
import { parseDeviceConfig } from "../../device/config.js";
import { openActuators } from "../../device/open-actuators.js";
import { openSensors } from "../../device/open-sensors.js";
import { simulatedBoardIo } from "../../device/simulated-board-io.js";
import { createBridgePorts } from "./bridge-guest.js";

const bridge = createBridgePorts();
const settings = bridge.ask("settings", []) as Record<string, string>;
const utcAtZero = bridge.ask("utcAtZero", []) as number;
const config = parseDeviceConfig(settings);
const log = bridge.log;
const device = new Device({
  config,
  ports: {
    udp: bridge.udp,
    clock: bridge.clock,
    random: bridge.random,
    wallClock: { utcNow: () => utcAtZero + bridge.clock.now() },
    store: {
      read: (key) => bridge.ask("storeRead", [key]) as string | undefined,
      write: (key, value) => {
        bridge.ask("storeWrite", [key, value]);
      },
      remove: (key) => {
        bridge.ask("storeRemove", [key]);
      },
    },
    log,
    sensors: openSensors(config.sensors, { board: simulatedBoardIo, random: bridge.random, log }),
    actuators: openActuators(config.actuators, { board: simulatedBoardIo, log }),
  },
  onEvent: (event) => bridge.emit(event),
});
bridge.expose("stats", () => {
  const { sampled, sent, buffered, dropped, retransmissions } = device.stats();
  return { sampled, sent, buffered, dropped, retransmissions };
});
bridge.expose("stopSampling", () => device.stopSampling());
bridge.expose("stop", () => device.close());
device.start();
