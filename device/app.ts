// The device: composes provisioning, the theThings.IO client, telemetry and actuator commands on
// one CoAP endpoint, and owns its lifecycle. Both adapters (moddable/ via main.ts, host/ via the
// PC runner) build the ports and call `new Device(...).start()`; nothing here knows which one it
// runs on. What the parts learn about the network, the platform and the token travels as
// connectivity events (kernel/connectivity.ts) that each part subscribes to; the device only
// reports them.
import type { SentRequest } from "../coap/client-api.js";
import type { DatagramPort } from "../coap/datagram-port.js";
import { CoapEndpoint, type EndpointOptions } from "../coap/endpoint.js";
import type { PeerAddress } from "../coap/peer-address.js";
import type { Clock } from "../kernel/clock.js";
import { type ConnectivityEvent, ConnectivityEvents } from "../kernel/connectivity.js";
import type { KeyValueStore } from "../kernel/key-value-store.js";
import type { LogSink } from "../kernel/log.js";
import type { RandomSource } from "../kernel/random.js";
import type { WallClock } from "../kernel/wall-clock.js";
import type { SensorBinding } from "../sensors/sensor-binding.js";
import { Telemetry } from "../sensors/telemetry.js";
import { type BatchWriter, ThethingsBatchSink } from "../sensors/thethings-batch-sink.js";
import { ThethingsClient, type WriteOutcome } from "../thethings/client.js";
import { ThethingsError } from "../thethings/errors.js";
import { redactSecret } from "../thethings/token.js";
import type { WriteValue } from "../thethings/values.js";
import { restoreActuators } from "./actuator-restore.js";
import { CommandCatchUp } from "./command-catch-up.js";
import { type ActuatorBinding, CommandDispatcher } from "./commands.js";
import type { DeviceConfig } from "./config.js";
import type { DeviceEvent, DeviceStats } from "./device-events.js";
import { type Activator, Provisioning } from "./provisioning.js";
import { type ResolveHost, ServerResolution } from "./server-resolution.js";
import { type KeeperDevice, SubscriptionKeeper } from "./subscription-keeper.js";

export type { DeviceEvent, DeviceStats } from "./device-events.js";

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
  readonly resolve?: ResolveHost;
}

export interface DeviceOptions {
  readonly config: DeviceConfig;
  readonly ports: DevicePorts;
  readonly onEvent?: (event: DeviceEvent) => void;
  /** Endpoint settings beyond the defaults (transmission parameters in tests, message size …). */
  readonly endpoint?: Omit<Partial<EndpointOptions>, "port" | "server" | "clock" | "random" | "log">;
}

/** What exists once the server's address is known. */
interface Link {
  readonly endpoint: CoapEndpoint;
  readonly client: ThethingsClient;
  readonly keeper: SubscriptionKeeper;
  readonly catchUp: CommandCatchUp;
}

export class Device {
  /**
   * Provisioning's activator, telemetry's batch writer and what the subscription keeper tells the
   * device: one object with methods, inside this class so that they reach its private members,
   * where closures would each keep a function and its environment for the device's life.
   */
  static readonly #Hooks = class implements Activator, BatchWriter, KeeperDevice {
    readonly #device: Device;
    readonly #droppedKey: string;

    constructor(device: Device, droppedKey: string) {
      this.#device = device;
      this.#droppedKey = droppedKey;
    }

    async activate(code: string, productId: string | undefined): Promise<string> {
      const device = this.#device;
      const token = await device.#requireLink().client.activate(code, productId);
      device.#emit({ event: "activated", token: redactSecret(token) });
      return token;
    }

    report(event: ConnectivityEvent): void {
      this.#device.#report(event);
    }

    emit(event: DeviceEvent): void {
      this.#device.#emit(event);
    }

    onStreamError(error: ThethingsError): void {
      this.#device.#onUnauthorized(error);
    }

    /**
     * Through the client once there is one; reports stored batches and refused tokens. Not an
     * async function, whose suspended frame would live as long as the write is in flight.
     */
    writeOnce(values: readonly WriteValue[], previous?: SentRequest): Promise<WriteOutcome> {
      const device = this.#device;
      const client = device.#link?.client;
      if (client === undefined)
        return Promise.reject(new ThethingsError("no-token", "write", "not connected to the platform yet"));
      const count = values.filter((value) => value.key !== this.#droppedKey).length;
      return client.writeOnce(values, previous).then((outcome) => {
        if (outcome.ok) {
          device.#emit({ event: "sent", count });
          device.#report({ kind: "reachable", via: "platform" });
        } else if (outcome.error.kind === "unauthorized") {
          device.#emit({ event: "error", message: outcome.error.message });
          device.#onUnauthorized(outcome.error);
        }
        return outcome;
      });
    }
  };

  /** Of the configuration only this is needed after construction (the parsed whole took ~1 KB). */
  readonly #keepAliveMs: number;
  /** The ports used after construction; the rest (sensors, store, …) stay with the parts that use them. */
  readonly #ports: Pick<DevicePorts, "udp" | "clock" | "random" | "log">;
  readonly #onEvent: ((event: DeviceEvent) => void) | undefined;
  readonly #endpointSettings: DeviceOptions["endpoint"];
  readonly #connectivity: ConnectivityEvents;
  readonly #telemetry: Telemetry;
  readonly #dispatcher: CommandDispatcher;
  readonly #provisioning: Provisioning;
  readonly #resolution: ServerResolution;
  readonly #hooks: Activator & BatchWriter & KeeperDevice;
  #link: Link | undefined;
  #reauthorizing = false;
  #closed = false;

  constructor(options: DeviceOptions) {
    const { config, ports } = options;
    this.#keepAliveMs = config.keepAliveMs;
    this.#ports = { udp: ports.udp, clock: ports.clock, random: ports.random, log: ports.log };
    this.#endpointSettings = options.endpoint;
    this.#onEvent = options.onEvent;
    this.#connectivity = new ConnectivityEvents({ log: ports.log });
    const droppedKey = config.telemetry.droppedKey;
    const hooks = new Device.#Hooks(this, droppedKey);
    this.#hooks = hooks;
    this.#telemetry = new Telemetry({
      bindings: ports.sensors,
      sink: new ThethingsBatchSink({ client: hooks }),
      clock: ports.clock,
      wallClock: ports.wallClock,
      random: ports.random,
      log: ports.log,
      config: config.telemetry,
      connectivity: this.#connectivity,
    });
    const telemetryKeys = ports.sensors.flatMap((binding) => binding.readings.map((reading) => reading.key));
    this.#dispatcher = new CommandDispatcher({
      actuators: ports.actuators,
      telemetryKeys: [...telemetryKeys, droppedKey],
      log: ports.log,
      onApplied: (applied) =>
        this.#emit({
          event: "command",
          key: applied.key,
          value: applied.value,
          level: applied.level,
          source: applied.source,
        }),
    });
    this.#provisioning = new Provisioning({
      activator: hooks,
      store: ports.store,
      clock: ports.clock,
      random: ports.random,
      log: ports.log,
      activationCode: config.activationCode,
      productId: config.productId,
      reactivateOnAuthFailure: config.reactivateOnAuthFailure,
      connectivity: this.#connectivity,
    });
    this.#resolution = new ServerResolution({
      server: config.server,
      resolve: ports.resolve,
      clock: ports.clock,
      random: ports.random,
      log: ports.log,
      onResolved: (server) => this.#connect(server),
    });
  }

  /** Starts sampling at once (values buffer until the platform is reachable) and connects. */
  start(): void {
    this.#telemetry.start();
    this.#resolution.start();
  }

  /**
   * The network came back or changed (new Wi-Fi association, new address): the server is looked
   * up again where it has a name, and everything waiting to retry hears that the network is back.
   */
  networkChanged(): void {
    if (this.#closed) return;
    if (this.#resolution.isFixed) this.#report({ kind: "reachable", via: "network" });
    else this.#resolution.start();
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
    const endpoint = this.#link?.endpoint.stats;
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
    this.#resolution.close();
    this.#telemetry.close();
    this.#provisioning.close();
    this.#dispatcher.close();
    const link = this.#link;
    if (link !== undefined) {
      link.catchUp.close();
      link.keeper.close();
      link.client.close().catch(() => undefined);
      link.endpoint.close();
    }
    this.#ports.udp.close();
  }

  #emit(event: DeviceEvent): void {
    try {
      this.#onEvent?.(event);
    } catch (error) {
      this.#ports.log("warn", `event handler threw: ${String(error)}`);
    }
  }

  #report(event: ConnectivityEvent): void {
    if (!this.#closed) this.#connectivity.emit(event);
  }

  #requireLink(): Link {
    if (this.#link === undefined) throw new Error("no endpoint yet");
    return this.#link;
  }

  #connect(server: PeerAddress): void {
    if (this.#link !== undefined) {
      // A changed address re-registers the observations itself; the event tells everyone else.
      this.#link.endpoint.setServer(server);
      this.#report({ kind: "reachable", via: "network" });
      return;
    }
    const { udp, clock, random, log } = this.#ports;
    const endpoint = new CoapEndpoint({
      // Re-registration attempts while the platform is away are at most keepAlive apart, so the
      // subscription is back within about keepAlive + grace of the platform's return.
      reregisterBackoff: { maxMs: this.#keepAliveMs },
      ...this.#endpointSettings,
      port: udp,
      server,
      clock,
      random,
      log,
    });
    const client = new ThethingsClient({ coap: endpoint, log });
    const catchUp = new CommandCatchUp({
      reader: client,
      dispatcher: this.#dispatcher,
      clock,
      random,
      log,
      maxWaitMs: this.#keepAliveMs,
    });
    const keeper = new SubscriptionKeeper({
      client,
      dispatcher: this.#dispatcher,
      catchUp,
      keepAliveMs: this.#keepAliveMs,
      connectivity: this.#connectivity,
      device: this.#hooks,
    });
    this.#link = { endpoint, client, keeper, catchUp };
    log("info", `platform at ${server.address}:${server.port}`);
    // An unhandled rejection aborts the XS machine (the board restarts): report it instead.
    this.#bringUp().catch((error: unknown) => this.#ports.log("error", `bring-up failed: ${String(error)}`));
  }

  /** Token → actuator state from the platform → subscription. */
  async #bringUp(): Promise<void> {
    const link = this.#requireLink();
    const token = await this.#provisioning.obtainToken();
    if (token === undefined || this.#closed) return;
    link.client.setThingToken(token);
    this.#ports.log("info", `thing token ${redactSecret(token)}`);
    // Values sampled while there was no token wait in the buffer behind a backoff: they go now.
    this.#report({ kind: "token-changed" });
    let restoreIncomplete = false;
    if (this.#dispatcher.actuatorKeys.length > 0) {
      const report = await restoreActuators({
        reader: link.client,
        dispatcher: this.#dispatcher,
        log: this.#ports.log,
      });
      // Reads lost at boot are made again, with retries, once the subscription is up.
      restoreIncomplete = report.failed.length > 0;
    }
    if (this.#closed) return;
    link.keeper.subscribe({ catchUp: restoreIncomplete });
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
    const link = this.#link;
    if (token === undefined || link === undefined || this.#closed) return;
    link.client.setThingToken(token);
    this.#report({ kind: "token-changed" });
  }
}
