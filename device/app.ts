// The device: composes provisioning, the theThings.IO client, telemetry and actuator commands on
// one CoAP endpoint. Both adapters (moddable/ via main.ts, host/ via the PC runner) build the
// ports and call `new Device(...).start()`; nothing here knows which one it runs on.
import { CoapEndpoint, type EndpointOptions } from "../coap/endpoint.js";
import type { Clock, TimerHandle } from "../kernel/clock.js";
import type { DatagramPort } from "../coap/datagram-port.js";
import type { LogSink } from "../kernel/log.js";
import type { PeerAddress } from "../coap/peer-address.js";
import type { RandomSource } from "../kernel/random.js";
import type { SensorBinding } from "../sensors/sensor-binding.js";
import { Telemetry, type TelemetryCounters } from "../sensors/telemetry.js";
import { type BatchWriter, ThethingsBatchSink } from "../sensors/thethings-batch-sink.js";
import { ThethingsClient } from "../thethings/client.js";
import { ThethingsError } from "../thethings/errors.js";
import type { ThingSubscription } from "../thethings/subscription.js";
import { redactSecret } from "../thethings/token.js";
import { restoreActuators } from "./actuator-restore.js";
import { Backoff } from "../kernel/backoff.js";
import { type ActuatorBinding, CommandDispatcher } from "./commands.js";
import type { DeviceConfig } from "./config.js";
import type { KeyValueStore } from "../kernel/key-value-store.js";
import type { WallClock } from "../kernel/wall-clock.js";
import { Provisioning } from "./provisioning.js";

export interface DevicePorts {
  readonly udp: DatagramPort;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly wallClock: WallClock;
  readonly store: KeyValueStore;
  readonly log: LogSink;
  readonly sensors: readonly SensorBinding[];
  readonly actuators: readonly ActuatorBinding[];
  /**
   * Resolves the server's host name to an address (DNS). Needed only when the configured server
   * is not an IP literal; rejects or resolves undefined when the name cannot be resolved now.
   */
  readonly resolve?: (host: string) => Promise<string | undefined>;
}

export type DeviceEvent =
  | { readonly event: "activated"; readonly token: string }
  | { readonly event: "subscribed" }
  | { readonly event: "subscription-lost"; readonly reason: string }
  | { readonly event: "sent"; readonly count: number }
  | { readonly event: "command"; readonly key: string; readonly value: unknown; readonly level: number; readonly source: string }
  | { readonly event: "error"; readonly message: string };

export interface DeviceStats {
  readonly sampled: number;
  readonly sent: number;
  readonly buffered: number;
  readonly dropped: number;
  readonly retransmissions: number;
  readonly telemetry: TelemetryCounters;
  readonly endpoint: CoapEndpoint["stats"] | undefined;
}

export interface DeviceOptions {
  readonly config: DeviceConfig;
  readonly ports: DevicePorts;
  readonly onEvent?: (event: DeviceEvent) => void;
  /** Endpoint settings beyond the defaults (transmission parameters in tests, message size …). */
  readonly endpoint?: Omit<Partial<EndpointOptions>, "port" | "server" | "clock" | "random" | "log">;
}

/** Reads of the outputs' last commands after a subscription gap, at most, while reads fail. */
const CATCH_UP_ATTEMPTS = 6;

/** Waits between DNS attempts while the server's name does not resolve. */
const RESOLVE_BACKOFF = Object.freeze({ initialMs: 1_000, maxMs: 60_000 });

export class Device {
  readonly #config: DeviceConfig;
  readonly #ports: DevicePorts;
  readonly #emit: (event: DeviceEvent) => void;
  readonly #endpointSettings: DeviceOptions["endpoint"];
  readonly #telemetry: Telemetry;
  readonly #dispatcher: CommandDispatcher;
  readonly #provisioning: Provisioning;
  #endpoint: CoapEndpoint | undefined;
  #client: ThethingsClient | undefined;
  #subscription: ThingSubscription | undefined;
  #resolveTimer: TimerHandle | undefined;
  #reauthorizing = false;
  #subscriptionLost = false;
  /** A subscription was confirmed before: the next confirmation follows a gap (loss, new token, restart). */
  #subscribedBefore = false;
  /** The boot's read of the outputs' last commands did not get every answer. */
  #restoreIncomplete = false;
  #catchUpTimer: TimerHandle | undefined;
  /** Which catch-up is current: an older one's late result does not schedule retries. */
  #catchUpGeneration = 0;
  #closed = false;

  constructor(options: DeviceOptions) {
    const { config, ports } = options;
    this.#config = config;
    this.#ports = ports;
    this.#endpointSettings = options.endpoint;
    this.#emit = (event) => {
      try {
        options.onEvent?.(event);
      } catch (error) {
        ports.log("warn", `event handler threw: ${String(error)}`);
      }
    };
    const droppedKey = config.telemetry.droppedKey;
    const sink = new ThethingsBatchSink({ client: this.#batchWriter(droppedKey) });
    this.#telemetry = new Telemetry({
      bindings: ports.sensors,
      sink,
      clock: ports.clock,
      wallClock: ports.wallClock,
      random: ports.random,
      log: ports.log,
      config: config.telemetry,
    });
    const telemetryKeys = ports.sensors.flatMap((binding) => binding.readings.map((reading) => reading.key));
    this.#dispatcher = new CommandDispatcher({
      actuators: ports.actuators,
      telemetryKeys: [...telemetryKeys, droppedKey],
      log: ports.log,
      onApplied: (applied) =>
        this.#emit({ event: "command", key: applied.key, value: applied.value, level: applied.level, source: applied.source }),
    });
    this.#provisioning = new Provisioning({
      activator: {
        activate: async (code, productId) => {
          const token = await this.#requireClient().activate(code, productId);
          this.#emit({ event: "activated", token: redactSecret(token) });
          return token;
        },
      },
      store: ports.store,
      clock: ports.clock,
      random: ports.random,
      log: ports.log,
      activationCode: config.activationCode,
      productId: config.productId,
      reactivateOnAuthFailure: config.reactivateOnAuthFailure,
    });
  }

  /** Starts sampling at once (values buffer until the platform is reachable) and connects. */
  start(): void {
    this.#telemetry.start();
    this.#resolveServer(new Backoff({ ...RESOLVE_BACKOFF, random: this.#ports.random }));
  }

  /**
   * The network came back or changed (new Wi-Fi association, new address): resolve the server
   * again and re-register the subscription at once, since a NAT or a server restart may have
   * forgotten it (RFC 7641 §4.1: the server may drop an observer without telling it).
   */
  networkChanged(): void {
    if (this.#closed) return;
    if (this.#config.server.isIpLiteral || this.#ports.resolve === undefined) {
      this.#endpoint?.reregisterAll();
      this.#telemetry.retryNow();
      this.#provisioning.retryNow();
    } else this.#resolveServer(new Backoff({ ...RESOLVE_BACKOFF, random: this.#ports.random }));
  }

  /**
   * Stops sampling; what is buffered keeps going out (e.g. before a planned power-down: wait for
   * stats().buffered to reach 0, then close()).
   */
  stopSampling(): void {
    this.#telemetry.stop();
  }

  stats(): DeviceStats {
    const telemetry = this.#telemetry.counters;
    const endpoint = this.#endpoint?.stats;
    return {
      sampled: telemetry.sampled,
      sent: telemetry.sent,
      buffered: telemetry.buffered,
      dropped: telemetry.dropped,
      retransmissions: endpoint?.retransmissions ?? 0,
      telemetry,
      endpoint,
    };
  }

  /** Stops everything; safe to call twice. Values still buffered are lost (they live in RAM). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#resolveTimer !== undefined) this.#ports.clock.clearTimer(this.#resolveTimer);
    if (this.#catchUpTimer !== undefined) this.#ports.clock.clearTimer(this.#catchUpTimer);
    this.#telemetry.close();
    this.#provisioning.close();
    this.#dispatcher.close();
    this.#client?.close().catch(() => undefined);
    this.#endpoint?.close();
    this.#ports.udp.close();
  }

  /** Telemetry's writes, through the client once there is one; reports stored batches and refused tokens. */
  #batchWriter(droppedKey: string): BatchWriter {
    return {
      writeOnce: async (values, previous) => {
        const client = this.#client;
        if (client === undefined) throw new ThethingsError("no-token", "write", "not connected to the platform yet");
        const outcome = await client.writeOnce(values, previous);
        if (outcome.ok) {
          this.#emit({ event: "sent", count: values.filter((value) => value.key !== droppedKey).length });
          // The platform answers writes again: a lost subscription need not wait out its backoff.
          if (this.#subscriptionLost) this.#subscription?.reregister();
        }
        else if (outcome.error.kind === "unauthorized") {
          this.#emit({ event: "error", message: outcome.error.message });
          this.#onUnauthorized(outcome.error);
        }
        return outcome;
      },
    };
  }

  #requireClient(): ThethingsClient {
    if (this.#client === undefined) throw new Error("no endpoint yet");
    return this.#client;
  }

  #resolveServer(backoff: Backoff): void {
    const { host, port, isIpLiteral } = this.#config.server;
    const resolve = this.#ports.resolve;
    if (isIpLiteral || resolve === undefined) {
      this.#connect({ address: host, port });
      return;
    }
    const retry = (why: string): void => {
      const delay = backoff.next();
      this.#ports.log("warn", `cannot resolve ${host} (${why}); trying again in ${Math.round(delay / 1000)} s`);
      this.#resolveTimer = this.#ports.clock.setTimer(() => this.#resolveServer(backoff), delay);
    };
    resolve(host).then(
      (address) => {
        if (this.#closed) return;
        if (address === undefined || address === "") retry("no address");
        else this.#connect({ address, port });
      },
      (error: unknown) => {
        if (!this.#closed) retry(String(error));
      },
    );
  }

  #connect(server: PeerAddress): void {
    if (this.#endpoint !== undefined) {
      this.#endpoint.setServer(server);
      this.#endpoint.reregisterAll();
      this.#telemetry.retryNow();
      this.#provisioning.retryNow();
      return;
    }
    const { udp, clock, random, log } = this.#ports;
    this.#endpoint = new CoapEndpoint({
      // Re-registration attempts while the platform is away are at most keepAlive apart, so the
      // subscription is back within about keepAlive + grace of the platform's return.
      reregisterBackoff: { maxMs: this.#config.keepAliveMs },
      ...this.#endpointSettings,
      port: udp,
      server,
      clock,
      random,
      log,
    });
    this.#client = new ThethingsClient({ coap: this.#endpoint, log });
    log("info", `platform at ${server.address}:${server.port}`);
    // An unhandled rejection aborts the XS machine (the board restarts): report it instead.
    this.#bringUp().catch((error: unknown) => this.#ports.log("error", `bring-up failed: ${String(error)}`));
  }

  /** Token → actuator state from the platform → subscription. */
  async #bringUp(): Promise<void> {
    const client = this.#requireClient();
    const token = await this.#provisioning.obtainToken();
    if (token === undefined || this.#closed) return;
    client.setThingToken(token);
    this.#ports.log("info", `thing token ${redactSecret(token)}`);
    // Values sampled while there was no token wait in the buffer behind a backoff: send them now.
    this.#telemetry.retryNow();
    if (this.#ports.actuators.length > 0) {
      const report = await restoreActuators({ reader: client, dispatcher: this.#dispatcher, log: this.#ports.log });
      // Reads lost at boot are made again, with retries, once the subscription is up.
      this.#restoreIncomplete = report.failed.length > 0;
    }
    if (this.#closed) return;
    this.#subscribe(client);
  }

  #subscribe(client: ThethingsClient): void {
    this.#subscription?.close();
    this.#subscription = client.subscribe(
      {
        onValues: (values) => this.#dispatcher.dispatch(values),
        onSubscribed: () => {
          // Commands written while the subscription was away were pushed to nobody: read them.
          if (this.#subscriptionLost || this.#subscribedBefore || this.#restoreIncomplete) this.#catchUp(client);
          this.#restoreIncomplete = false;
          this.#subscribedBefore = true;
          this.#subscriptionLost = false;
          // The platform answers again: whatever waits in the buffer can go now.
          this.#telemetry.retryNow();
          this.#emit({ event: "subscribed" });
        },
        onLost: (reason) => {
          this.#subscriptionLost = true;
          this.#emit({ event: "subscription-lost", reason });
        },
        onError: (error) => {
          this.#emit({ event: "error", message: error.message });
          this.#onUnauthorized(error);
        },
      },
      { keepAliveMs: this.#config.keepAliveMs },
    );
  }

  /**
   * Reads each output's last command after a subscription gap. A read lost on a bad link is
   * tried again (backoff up to keepAlive, at most CATCH_UP_ATTEMPTS reads in all) until every
   * output has its answer; a newer subscription starts its own catch-up instead.
   */
  #catchUp(client: ThethingsClient, backoff = new Backoff({ initialMs: 2_000, maxMs: this.#config.keepAliveMs, random: this.#ports.random }), attempt = 1): void {
    if (this.#ports.actuators.length === 0 || this.#closed) return;
    if (attempt === 1 && this.#catchUpTimer !== undefined) {
      this.#ports.clock.clearTimer(this.#catchUpTimer);
      this.#catchUpTimer = undefined;
    }
    const generation = ++this.#catchUpGeneration;
    restoreActuators({ reader: client, dispatcher: this.#dispatcher, log: this.#ports.log, source: "catch-up" }).then(
      (report) => {
        if (report.failed.length === 0 || this.#closed || generation !== this.#catchUpGeneration) return;
        if (attempt >= CATCH_UP_ATTEMPTS) {
          this.#ports.log("warn", `gave up catching up on commands for ${report.failed.map((f) => f.key).join(", ")} after ${attempt} reads`);
          return;
        }
        this.#catchUpTimer = this.#ports.clock.setTimer(() => {
          this.#catchUpTimer = undefined;
          this.#catchUp(client, backoff, attempt + 1);
        }, backoff.next());
      },
      (error: unknown) => this.#ports.log("warn", `catching up on commands failed: ${String(error)}`),
    );
  }

  /** The platform refused the token: provisioning decides whether to activate again (one at a time). */
  #onUnauthorized(error: ThethingsError): void {
    if (error.kind !== "unauthorized" || this.#closed || this.#reauthorizing) return;
    this.#reauthorizing = true;
    this.#reprovision(error)
      .catch((failure: unknown) => this.#ports.log("error", `re-provisioning failed: ${String(failure)}`))
      .finally(() => {
        this.#reauthorizing = false;
      });
  }

  async #reprovision(error: ThethingsError): Promise<void> {
    const token = await this.#provisioning.handleAuthFailure(error);
    const client = this.#client;
    if (token === undefined || client === undefined || this.#closed) return;
    client.setThingToken(token);
    this.#telemetry.retryNow();
    this.#subscribe(client);
  }
}
