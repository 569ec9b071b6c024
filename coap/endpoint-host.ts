// What an endpoint's observations and request calls reach it through (ObservationHost, and
// CallHost in it): one object with methods, where a literal of arrow functions would keep a
// closure and its environment for each of them for the life of the endpoint (about 2 KB on the
// ESP32 for these thirteen members).
import type { Clock } from "../kernel/clock.js";
import type { LogLevel } from "../kernel/log.js";
import type { RandomSource } from "../kernel/random.js";
import type { GuardedLog } from "./guarded-log.js";
import type { ManagedObservation, ObservationHost } from "./observation.js";
import type { Exchange, ExchangeSink } from "./pending-exchange.js";
import type { NotificationListener, OutgoingRequest, RequestLayer } from "./request-layer.js";
import { Stat, type StatsCounters } from "./stats.js";

export interface EndpointHostOptions {
  readonly requests: RequestLayer;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly stats: StatsCounters;
  /** The endpoint's log, which never throws. */
  readonly log: GuardedLog | undefined;
  /** The endpoint's table of observations, which forget() takes an ended one out of. */
  readonly observations: Set<ManagedObservation>;
}

export class EndpointHost implements ObservationHost {
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly stats: StatsCounters;
  readonly #requests: RequestLayer;
  readonly #log: GuardedLog | undefined;
  readonly #observations: Set<ManagedObservation>;

  constructor(options: EndpointHostOptions) {
    this.clock = options.clock;
    this.random = options.random;
    this.stats = options.stats;
    this.#requests = options.requests;
    this.#log = options.log;
    this.#observations = options.observations;
  }

  start(request: OutgoingRequest, sink: ExchangeSink): Exchange {
    return this.#requests.start(request, sink);
  }

  cancel(exchange: Exchange, reason: string): void {
    this.#requests.cancel(exchange, reason);
  }

  countBlockRequest(): void {
    this.stats[Stat.blockRequests]++;
  }

  allocateToken(): Uint8Array {
    return this.#requests.allocateToken();
  }

  releaseToken(key: string): void {
    this.#requests.releaseToken(key);
  }

  listen(key: string, listener: NotificationListener): void {
    this.#requests.listen(key, listener);
  }

  unlisten(key: string): void {
    this.#requests.unlisten(key);
  }

  /** Application callbacks run in a later turn, never re-entrantly; one that throws is logged. */
  defer(callback: () => void): void {
    Promise.resolve()
      .then(callback)
      .catch((error: unknown) =>
        this.#log?.write(
          "error",
          `coap: application callback threw: ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
  }

  log(level: LogLevel, text: string): void {
    this.#log?.write(level, text);
  }

  forget(observation: ManagedObservation): void {
    this.#observations.delete(observation);
  }
}
