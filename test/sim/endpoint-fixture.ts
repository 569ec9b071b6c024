// An endpoint wired to a simulated server over a simulated network, all on one fake clock: the
// starting point of most endpoint specs, and of specs of code built on the endpoint. Portable.
import { CoapEndpoint, type EndpointOptions } from "../../coap/endpoint.js";
import type { PeerAddress } from "../../coap/peer-address.js";
import type { RandomSource } from "../../kernel/random.js";
import { FakeClock } from "./fake-clock.js";
import { SeededRandom } from "./seeded-random.js";
import { SimCoapServer, type SimCoapServerOptions } from "./sim-coap-server.js";
import { type LinkConditions, SimNetwork, type SimPort } from "./sim-network.js";

export const CLIENT_ADDRESS: PeerAddress = Object.freeze({ address: "192.0.2.10", port: 40001 });
export const SERVER_ADDRESS: PeerAddress = Object.freeze({ address: "192.0.2.1", port: 5683 });

export interface FixtureOptions {
  /** Seeds the network's randomness (loss, duplication, jitter). */
  readonly seed?: number;
  /** The endpoint's randomness (default: a SeededRandom from seed + 1). */
  readonly random?: RandomSource;
  readonly conditions?: LinkConditions;
  readonly endpoint?: Partial<Omit<EndpointOptions, "port" | "server" | "clock" | "random">>;
  readonly server?: Partial<Omit<SimCoapServerOptions, "network" | "address">>;
}

export interface Fixture {
  readonly clock: FakeClock;
  readonly net: SimNetwork;
  readonly server: SimCoapServer;
  readonly endpoint: CoapEndpoint;
  readonly clientPort: SimPort;
  /** Everything the endpoint logged, "level: text". */
  readonly log: string[];
}

export function endpointFixture(options: FixtureOptions = {}): Fixture {
  const seed = options.seed ?? 1;
  const clock = new FakeClock();
  const net = new SimNetwork({
    clock,
    random: new SeededRandom(seed),
    conditions: options.conditions ?? { delayMs: 10 },
  });
  const server = new SimCoapServer({ network: net, address: SERVER_ADDRESS, ...options.server });
  const clientPort = net.bind(CLIENT_ADDRESS);
  const log: string[] = [];
  const endpoint = new CoapEndpoint({
    port: clientPort,
    server: SERVER_ADDRESS,
    clock,
    random: options.random ?? new SeededRandom(seed + 1),
    log: (level, text) => {
      log.push(`${level}: ${text}`);
    },
    ...options.endpoint,
  });
  return { clock, net, server, endpoint, clientPort, log };
}

export interface Tracked<T> {
  readonly settled: boolean;
  readonly value: T | undefined;
  readonly error: unknown;
  readonly promise: Promise<T>;
}

/** Watches a promise without awaiting it, so a test can advance the clock and look. */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const state: { settled: boolean; value: T | undefined; error: unknown; promise: Promise<T> } = {
    settled: false,
    value: undefined,
    error: undefined,
    promise,
  };
  promise.then(
    (value) => {
      state.settled = true;
      state.value = value;
    },
    (error: unknown) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}
