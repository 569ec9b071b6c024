// Connectivity as events (kernel/connectivity.ts): the hub itself, and what the device's parts do
// with the events — one re-registration when the network comes back with a new server address
// (the address change and the network-back event together used to register twice).
import { Code, ContentFormat, MessageType } from "../../coap/codes.js";
import { OptionNumber } from "../../coap/options.js";
import { Device } from "../../device/app.js";
import { parseDeviceConfig } from "../../device/config.js";
import { TOKEN_STORE_KEY } from "../../device/provisioning.js";
import { type ConnectivityEvent, ConnectivityEvents } from "../../kernel/connectivity.js";
import { MemoryStore } from "../core-fakes/thethings-fakes.js";
import { deepEqual, equal, ok, throws } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { CLIENT_ADDRESS, endpointFixture } from "../sim/endpoint-fixture.js";
import { FakeClock } from "../sim/fake-clock.js";
import { SeededRandom } from "../sim/seeded-random.js";
import { SimCoapServer } from "../sim/sim-coap-server.js";
import { SimNetwork } from "../sim/sim-network.js";

const TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-ABCDE";

suite("connectivity events", () => {
  test("every listener hears each event in the order it subscribed; unsubscribing is safe twice", () => {
    const hub = new ConnectivityEvents();
    const heard: string[] = [];
    const a = {
      onConnectivity: (e: ConnectivityEvent) => {
        heard.push(`a:${e.kind}`);
      },
    };
    hub.subscribe(a);
    hub.subscribe({
      onConnectivity: (e) => {
        heard.push(`b:${e.kind}`);
      },
    });
    hub.emit({ kind: "reachable", via: "network" });
    hub.unsubscribe(a);
    hub.unsubscribe(a);
    hub.emit({ kind: "token-changed" });
    deepEqual(heard, ["a:reachable", "b:reachable", "b:token-changed"]);
  });

  test("a listener that throws is reported and the others still hear the event", () => {
    const faults: string[] = [];
    const hub = new ConnectivityEvents({ log: (level, text) => faults.push(`${level} ${text}`) });
    const heard: ConnectivityEvent[] = [];
    hub.subscribe({
      onConnectivity: () => {
        throw new Error("boom");
      },
    });
    hub.subscribe({
      onConnectivity: (e) => {
        heard.push(e);
      },
    });
    hub.emit({ kind: "lost", reason: "silence" });
    deepEqual(heard, [{ kind: "lost", reason: "silence" }]);
    deepEqual(faults, ["error connectivity listener threw on lost: Error: boom"]);
  });

  test("a listener that unsubscribes another during an event does not take this event from it", () => {
    const hub = new ConnectivityEvents();
    const heard: string[] = [];
    const b = {
      onConnectivity: (e: ConnectivityEvent) => {
        heard.push(e.kind);
      },
    };
    hub.subscribe({ onConnectivity: () => hub.unsubscribe(b) });
    hub.subscribe(b);
    hub.emit({ kind: "token-changed" });
    hub.emit({ kind: "token-changed" });
    deepEqual(heard, ["token-changed"]);
  });

  test("the listener table is bounded", () => {
    const hub = new ConnectivityEvents();
    for (let i = 0; i < ConnectivityEvents.MAX_LISTENERS; i++) hub.subscribe({ onConnectivity: () => undefined });
    throws(
      () => hub.subscribe({ onConnectivity: () => undefined }),
      (e) => e instanceof RangeError,
    );
  });
});

suite("observation: one registration per instant", () => {
  test("reregister() twice at the same instant sends one registration; later, another", async () => {
    const f = endpointFixture();
    f.server.content("/t", "v0");
    const observation = f.endpoint.observe({ method: "GET", path: "/t" }, { onNotification: () => undefined });
    await f.clock.advance(100);
    const registrations = () => f.server.requests.filter((q) => q.observe === 0).length;
    equal(registrations(), 1);
    observation.reregister();
    observation.reregister();
    await f.clock.advance(100);
    equal(registrations(), 2, "the second request in the same instant changed nothing");
    observation.reregister();
    await f.clock.advance(100);
    equal(registrations(), 3);
    f.endpoint.close();
  });
});

suite("device: network back with a new server address", () => {
  test("the subscription registers once, at the new address", async () => {
    const clock = new FakeClock();
    const net = new SimNetwork({ clock, random: new SeededRandom(9), conditions: { delayMs: 5 } });
    const first = { address: "192.0.2.1", port: 5683 };
    const second = { address: "192.0.2.2", port: 5683 };
    for (const address of [first, second]) {
      const server = new SimCoapServer({ network: net, address });
      server.handle((request, reply) => {
        if (request.observe !== 0) {
          reply.respond({ code: Code.NotFound, payload: '{"status":"error","message":"not here"}' });
          return;
        }
        reply.respond({
          code: Code.Content,
          payload: '{"status":"success","message":"subscribed"}',
          options: [
            { number: OptionNumber.Observe, value: 1 },
            { number: OptionNumber.ContentFormat, value: ContentFormat.Json },
          ],
        });
      });
    }
    const store = new MemoryStore();
    store.write(TOKEN_STORE_KEY, TOKEN);
    let answer = first.address;
    const device = new Device({
      config: parseDeviceConfig({ server: "coap://platform.example:5683", sensors: "", actuators: "" }),
      ports: {
        udp: net.bind(CLIENT_ADDRESS),
        clock,
        random: new SeededRandom(10),
        wallClock: { utcNow: () => undefined },
        store,
        log: () => undefined,
        sensors: [],
        actuators: [],
        resolve: async () => answer,
      },
    });
    device.start();
    await clock.advance(1000);
    const registrationsTo = (address: string) =>
      net
        .sent({ from: CLIENT_ADDRESS, type: MessageType.CON })
        .filter((d) => d.to.address === address && d.message?.options.some((o) => o.number === OptionNumber.Observe));
    equal(registrationsTo(first.address).length, 1, "subscribed at the first address");
    answer = second.address;
    device.networkChanged();
    await clock.advance(1000);
    const moved = registrationsTo(second.address);
    equal(moved.length, 1, "one registration at the new address");
    ok(moved[0]!.sentAt < clock.now(), "sent after the lookup");
    device.close();
  });
});
