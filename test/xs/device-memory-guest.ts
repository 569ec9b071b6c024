// The device core on XS for the measurement of its heap (tools/device-memory.ts): the composition
// of test/xs/device-guest.ts, built only when the host calls "boot", so that the heap can be read
// with the code loaded and nothing made yet. `globalThis.memoryRoots` names the Device and what
// the ports hold for it (bridge-guest.ts BridgeHeld), which is how tools/xs-census.ts divides the
// heap. "read" reads up to 100 values of a key over a second endpoint and reports "read-done".
// The flash (key-value store and the outbox's pages, kept by the host as NVS keeps them off the
// heap) and the wall clock are classes, as the board's adapters are, not objects of closures.
import { CoapEndpoint } from "../../coap/endpoint.js";
import type { PeerAddress } from "../../coap/peer-address.js";
import { Device } from "../../device/app.js";
import { parseDeviceConfig } from "../../device/config.js";
import { openActuators } from "../../device/open-actuators.js";
import { openSensors } from "../../device/open-sensors.js";
import { simulatedBoardIo } from "../../device/simulated-board-io.js";
import type { KeyValueStore } from "../../kernel/key-value-store.js";
import type { PageStore } from "../../kernel/page-store.js";
import type { WallClock } from "../../kernel/wall-clock.js";
import { ThethingsClient } from "../../thethings/client.js";
import { type BridgeHeld, createBridgePorts } from "./bridge-guest.js";

const bridge = createBridgePorts();
const roots: { device: Device | undefined; readonly held: BridgeHeld } = { device: undefined, held: bridge.held };
(globalThis as { memoryRoots?: object }).memoryRoots = roots;

/** Flash, kept by the host; one object with methods, shaped as the board's PreferenceStore. */
class BridgeStore implements KeyValueStore {
  read(key: string): string | undefined {
    return bridge.ask("storeRead", [key]) as string | undefined;
  }

  write(key: string, value: string): void {
    bridge.ask("storeWrite", [key, value]);
  }

  remove(key: string): void {
    bridge.ask("storeRemove", [key]);
  }
}

/** The outbox's pages, kept by the host: the board's PreferencePageStore (16 slots of 1 KB, main.ts). */
class BridgePageStore implements PageStore {
  readonly slots = 16;
  readonly pageBytes = 1024;

  read(slot: number): Uint8Array | undefined {
    const bytes = bridge.ask("pageRead", [slot]) as number[] | undefined;
    return bytes === undefined ? undefined : Uint8Array.from(bytes);
  }

  write(slot: number, page: Uint8Array): void {
    bridge.ask("pageWrite", [slot, Array.from(page)]);
  }

  erase(slot: number): void {
    bridge.ask("pageErase", [slot]);
  }
}

/** The host's UTC, shaped as the board's SystemWallClock. */
class BridgeWallClock implements WallClock {
  readonly #utcAtZero: number;

  constructor(utcAtZero: number) {
    this.#utcAtZero = utcAtZero;
  }

  utcNow(): number {
    return this.#utcAtZero + bridge.clock.now();
  }
}

/** Everything made here lives only as long as the Device holds it. */
function boot(settings: Record<string, string>, utcAtZero: number): Device {
  const config = parseDeviceConfig(settings);
  const log = bridge.log;
  return new Device({
    config,
    ports: {
      udp: bridge.udp,
      clock: bridge.clock,
      random: bridge.random,
      wallClock: new BridgeWallClock(utcAtZero),
      store: new BridgeStore(),
      pages: new BridgePageStore(),
      log,
      sensors: openSensors(config.sensors, { board: simulatedBoardIo, random: bridge.random, log }),
      actuators: openActuators(config.actuators, { board: simulatedBoardIo, log }),
    },
    onEvent: (event) => bridge.emit(event),
  });
}

function read(server: PeerAddress, token: string, key: string, limit: number): void {
  const endpoint = new CoapEndpoint({
    port: bridge.openUdp(),
    server,
    clock: bridge.clock,
    random: bridge.random,
    log: bridge.log,
  });
  const client = new ThethingsClient({ coap: endpoint, log: bridge.log, thingToken: token });
  const done = (event: object): void => {
    endpoint.close();
    bridge.emit(event);
  };
  void client.read(key, { limit }).then(
    (values) => done({ event: "read-done", count: values.length }),
    (error: unknown) => done({ event: "read-done", count: -1, error: String(error) }),
  );
}

bridge.expose("boot", (settings, utcAtZero) => {
  const device = boot(settings as Record<string, string>, utcAtZero as number);
  roots.device = device;
  device.start();
  return true;
});
bridge.expose("stats", () => {
  const stats = roots.device?.stats();
  return stats === undefined
    ? undefined
    : { sampled: stats.sampled, sent: stats.sent, buffered: stats.buffered, dropped: stats.dropped };
});
bridge.expose("read", (server, token, key, limit) =>
  read(server as PeerAddress, token as string, key as string, limit as number),
);
bridge.expose("stop", () => roots.device?.close());
