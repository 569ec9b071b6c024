// The whole device (device/app.ts) over the simulated network on a fake clock, for what only the
// composition decides: a first boot while the platform cannot be reached, then the network
// comes back (Wi-Fi joins on the board and calls networkChanged). The activation waiting out
// its backoff must go at once, not up to the 5 min cap later.
import { Code, ContentFormat } from "../../coap/codes.js";
import { OptionNumber } from "../../coap/options.js";
import { Device, type DeviceEvent } from "../../device/app.js";
import { parseDeviceConfig } from "../../device/config.js";
import { decodeUtf8 } from "../../kernel/utf8.js";
import { MemoryStore } from "../core-fakes/thethings-fakes.js";
import { equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { CLIENT_ADDRESS, SERVER_ADDRESS } from "../sim/endpoint-fixture.js";
import { FakeClock } from "../sim/fake-clock.js";
import { SeededRandom } from "../sim/seeded-random.js";
import { SimCoapServer } from "../sim/sim-coap-server.js";
import { SimNetwork } from "../sim/sim-network.js";

const TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-ABCDE";
const CODE = "ACT1vationC0de-0123456789abcdefghi";
/** Ten minutes offline: the activation backoff has grown well past a few seconds. */
const OFFLINE_MS = 600_000;

interface Rig {
  readonly clock: FakeClock;
  readonly device: Device;
  readonly events: DeviceEvent[];
  readonly activations: () => number;
  reachable: boolean;
}

function firstBootOffline(): Rig {
  const clock = new FakeClock();
  const net = new SimNetwork({ clock, random: new SeededRandom(3), conditions: { delayMs: 5 } });
  const server = new SimCoapServer({ network: net, address: SERVER_ADDRESS });
  let activations = 0;
  server.handle((request, reply) => {
    const isActivation = request.method === Code.POST && decodeUtf8(request.payload).includes("activationCode");
    if (!isActivation) {
      reply.respond({ code: Code.NotFound, payload: '{"status":"error","message":"not here"}' });
      return;
    }
    activations++;
    reply.respond({
      code: Code.Created,
      payload: JSON.stringify({ status: "created", thingToken: TOKEN }),
      options: [{ number: OptionNumber.ContentFormat, value: ContentFormat.Json }],
    });
  });
  const events: DeviceEvent[] = [];
  const rig: Rig = {
    clock,
    events,
    activations: () => activations,
    reachable: false,
    device: undefined as unknown as Device,
  };
  net.drop({ where: () => !rig.reachable }, { count: Number.MAX_SAFE_INTEGER });
  const config = parseDeviceConfig({
    server: `coap://${SERVER_ADDRESS.address}:${SERVER_ADDRESS.port}`,
    activationCode: CODE,
    sensors: "",
    actuators: "",
  });
  const device = new Device({
    config,
    ports: {
      udp: net.bind(CLIENT_ADDRESS),
      clock,
      random: new SeededRandom(4),
      wallClock: { utcNow: () => undefined },
      store: new MemoryStore(),
      log: () => undefined,
      sensors: [],
      actuators: [],
    },
    onEvent: (event) => events.push(event),
    // Short exchanges and a short EXCHANGE_LIFETIME, so that ten minutes offline are spent in the
    // activation backoff (as on a board offline for hours) rather than inside one exchange.
    endpoint: { parameters: { ackTimeoutMs: 100, maxRetransmit: 1, maxLatencyMs: 100, processingDelayMs: 100 } },
  });
  (rig as { device: Device }).device = device;
  device.start();
  return rig;
}

suite("device: network back", () => {
  test("a first boot offline activates as soon as the network is back, not after its backoff", async () => {
    const rig = firstBootOffline();
    await rig.clock.advance(OFFLINE_MS);
    equal(rig.events.filter((e) => e.event === "activated").length, 0, "nothing reached the platform");
    rig.reachable = true;
    rig.device.networkChanged();
    await rig.clock.advance(1000);
    equal(rig.activations(), 1, "the platform saw the activation within a second");
    ok(
      rig.events.some((e) => e.event === "activated"),
      "activated",
    );
    rig.device.close();
  });

  test("without the network-back signal the same device is still waiting a second later (the control)", async () => {
    const rig = firstBootOffline();
    await rig.clock.advance(OFFLINE_MS);
    rig.reachable = true;
    await rig.clock.advance(1000);
    equal(rig.activations(), 0, "the backoff still runs");
    rig.device.close();
  });
});
