// The device: composes provisioning, the theThings.IO client, telemetry and actuator commands on
// one CoAP endpoint, and owns its lifecycle. Both adapters (moddable/ via main.ts, host/ via the
// PC runner) build the ports and call `new Device(...).start()`; nothing here knows which one it
// runs on. What the parts learn about the network, the platform and the token travels as
// connectivity events (kernel/connectivity.ts) that each part subscribes to; the device only
// reports them. Settings written on the platform reach the parts through the settings service
// (settings-service.ts); device.boot, device.health and device.settings ride with the batches.
import type { SentRequest } from "../coap/client-api.js";
import type { DatagramPort } from "../coap/datagram-port.js";
import { CoapEndpoint, type EndpointOptions } from "../coap/endpoint.js";
import type { PeerAddress } from "../coap/peer-address.js";
import type { Clock } from "../kernel/clock.js";
import { type ConnectivityEvent, ConnectivityEvents } from "../kernel/connectivity.js";
import type { KeyValueStore } from "../kernel/key-value-store.js";
import type { LogLevel, LogSink } from "../kernel/log.js";
import type { PageStore } from "../kernel/page-store.js";
import type { RandomSource } from "../kernel/random.js";
import type { WallClock } from "../kernel/wall-clock.js";
import type { SensorBinding } from "../sensors/sensor-binding.js";
import { Telemetry, type TelemetryChange } from "../sensors/telemetry.js";
import { type BatchWriter, ThethingsBatchSink } from "../sensors/thethings-batch-sink.js";
import { ThethingsClient, type WriteOutcome } from "../thethings/client.js";
import { ThethingsError } from "../thethings/errors.js";
import { redactSecret } from "../thethings/token.js";
import type { JsonObjectValue, WriteValue } from "../thethings/values.js";
import { restoreActuators } from "./actuator-restore.js";
import { CommandCatchUp } from "./command-catch-up.js";
import { type ActuatorBinding, CommandDispatcher } from "./commands.js";
import type { DeviceConfig } from "./config.js";
import type { DeviceEvent, DeviceStats } from "./device-events.js";
import { FIRMWARE_VERSION } from "./firmware-version.js";
import { type HealthCounters, type HealthHost, HealthReporter, type ReadTargetHealth } from "./health-report.js";
import type { LogLevelControl } from "./log-level-gate.js";
import { type Activator, Provisioning } from "./provisioning.js";
import { BOOT_REPORT_KEY, HEALTH_REPORT_KEY, REPORT_KEYS, SETTINGS_REPORT_KEY } from "./reserved-keys.js";
import { type ResolveHost, ServerResolution } from "./server-resolution.js";
import { parseServer, type ServerAddress } from "./server-uri.js";
import type { SettingTargets } from "./settable-settings.js";
import { SettingsCatchUp } from "./settings-catch-up.js";
import { SettingsService } from "./settings-service.js";
import { SetupControl, type SetupHost, type SetupPorts } from "./setup-control.js";
import type { SetupPortal } from "./setup-portal.js";
import { forgetEntered } from "./setup-store.js";
import { type KeeperDevice, SubscriptionKeeper } from "./subscription-keeper.js";
import { ValueRouter } from "./value-router.js";

export type { DeviceEvent, DeviceStats } from "./device-events.js";
export type { SetupPorts } from "./setup-control.js";

export interface DevicePorts {
  readonly udp: DatagramPort;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly wallClock: WallClock;
  readonly store: KeyValueStore;
  /**
   * Flash for telemetry's outbox: values that waited persistAfter survive a reboot there. Without
   * it (or with outboxSize 0) they wait in RAM only.
   */
  readonly pages?: PageStore;
  readonly log: LogSink;
  readonly sensors: readonly SensorBinding[];
  readonly actuators: readonly ActuatorBinding[];
  /**
   * Resolves the server's host name to an address (DNS). Needed only when the configured server
   * is not an IP literal; rejects or resolves undefined when the name cannot be resolved now.
   */
  readonly resolve?: ResolveHost;
  /** Why the board last started (device/reset-reason.ts names); undefined where the target cannot say. */
  readonly resetReason?: string;
  /** The heap and RSSI for device.health where the target can measure them (moddable/health.ts). */
  readonly readHealth?: ReadTargetHealth;
  /** Changes the levels `log` keeps (settings.logLevel); without it they stay as the target set them. */
  readonly logLevel?: LogLevelControl;
  /** The setup portal's ports; without them setup never opens (as with setup=never). */
  readonly setup?: SetupPorts;
}

export interface DeviceOptions {
  readonly config: DeviceConfig;
  readonly ports: DevicePorts;
  readonly onEvent?: (event: DeviceEvent) => void;
  /** Endpoint settings beyond the defaults (transmission parameters in tests, message size …). */
  readonly endpoint?: Omit<Partial<EndpointOptions>, "port" | "server" | "clock" | "random" | "log">;
  /** Setup was asked for at boot (the setup button held, `--setup`). */
  readonly setupRequested?: boolean;
}

/** What exists once the server's address is known. */
interface Link {
  readonly endpoint: CoapEndpoint;
  readonly client: ThethingsClient;
  readonly keeper: SubscriptionKeeper;
  readonly catchUp: CommandCatchUp;
  /** The token the client carries now. */
  token: string | undefined;
  /** The keeper holds a subscription (not paused by a forget). */
  subscribed: boolean;
  readonly settingsCatchUp: SettingsCatchUp;
}

export class Device {
  /**
   * Provisioning's activator, telemetry's batch writer and what the subscription keeper tells the
   * device: one object with methods, inside this class so that they reach its private members,
   * where closures would each keep a function and its environment for the device's life.
   */
  static readonly #Hooks = class
    implements Activator, BatchWriter, KeeperDevice, SetupHost, SettingTargets, HealthHost
  {
    readonly #device: Device;
    readonly #droppedKey: string;

    constructor(device: Device, droppedKey: string) {
      this.#device = device;
      this.#droppedKey = droppedKey;
    }

    async activate(code: string, productId: string | undefined): Promise<string> {
      const device = this.#device;
      let token: string;
      try {
        token = await device.requireLink().client.activate(code, productId);
      } catch (error) {
        if (!(error instanceof ThethingsError && error.kind === "activation-refused"))
          device.#setup.activationProblem(error instanceof ThethingsError ? error.kind : String(error));
        throw error;
      }
      device.emit({ event: "activated", token: redactSecret(token) });
      device.#setup.activated(token);
      return token;
    }

    report(event: ConnectivityEvent): void {
      this.#device.report(event);
    }

    emit(event: DeviceEvent): void {
      this.#device.emit(event);
    }

    onStreamError(error: ThethingsError): void {
      this.#device.onUnauthorized(error);
    }

    catchUp(): void {
      const link = this.#device.#link;
      link?.catchUp.run();
      link?.settingsCatchUp.run();
    }

    telemetry(change: TelemetryChange): void {
      const problem = this.#device.#telemetry.reconfigure(change);
      if (problem !== undefined) this.#device.#ports.log("error", `settings: telemetry refused the change: ${problem}`);
    }

    keepAlive(ms: number): void {
      this.#device.#link?.keeper.setKeepAlive(ms);
    }

    logLevel(level: LogLevel): void {
      this.#device.#ports.logLevel?.setLevel(level);
    }

    healthInterval(ms: number): void {
      this.#device.#health.setInterval(ms);
    }

    reportSettings(value: JsonObjectValue, urgent: boolean): string | undefined {
      return this.#device.#telemetry.report(SETTINGS_REPORT_KEY, value, { urgent });
    }

    healthCounters(): HealthCounters {
      return this.#device.stats();
    }

    reportHealth(value: JsonObjectValue): string | undefined {
      return this.#device.#telemetry.report(HEALTH_REPORT_KEY, value);
    }

    serverResolved(server: PeerAddress): void {
      this.#device.connect(server);
    }

    setupToken(): string | undefined {
      return this.#device.#provisioning.token;
    }

    setupWaitingForCode(): boolean {
      return this.#device.#provisioning.waitingForCode;
    }

    setupServer(): string {
      return this.#device.#server.uri;
    }

    setupRetarget(uri: string): void {
      this.#device.retarget(uri);
    }

    setupActivate(code: string, productId: string | undefined): void {
      this.#device.activateWith(code, productId);
    }

    setupForget(): void {
      this.#device.forget();
    }

    /**
     * Through the client once there is one; reports stored batches and refused tokens. Not an
     * async function, whose suspended frame would live as long as the write is in flight.
     */
    writeOnce(values: readonly WriteValue[], previous?: SentRequest): Promise<WriteOutcome> {
      const device = this.#device;
      const client = device.#link?.client;
      // Answered, not thrown: while a person is still to give a code this happens at every
      // round, and a debug build under xsbug breaks on every exception.
      if (client === undefined || !client.hasThingToken) {
        const why = client === undefined ? "not connected to the platform yet" : "no thing token yet";
        return Promise.resolve({ ok: false, error: new ThethingsError("no-token", "write", why) });
      }
      const count = values.filter((value) => value.key !== this.#droppedKey).length;
      return client.writeOnce(values, previous).then((outcome) => {
        if (outcome.ok) {
          device.emit({ event: "sent", count });
          device.report({ kind: "reachable", via: "platform" });
        } else if (outcome.error.kind === "unauthorized") {
          device.emit({ event: "error", message: outcome.error.message });
          device.onUnauthorized(outcome.error);
        }
        return outcome;
      });
    }
  };

  readonly #config: DeviceConfig;
  readonly #ports: DevicePorts;
  readonly #onEvent: ((event: DeviceEvent) => void) | undefined;
  readonly #hooks: Activator &
    BatchWriter &
    KeeperDevice &
    SetupHost &
    SettingTargets &
    HealthHost & { serverResolved(server: PeerAddress): void };
  readonly #endpointSettings: DeviceOptions["endpoint"];
  readonly #connectivity: ConnectivityEvents;
  readonly #telemetry: Telemetry;
  readonly #dispatcher: CommandDispatcher;
  readonly #health: HealthReporter;
  readonly #settings: SettingsService;
  readonly #router: ValueRouter;
  readonly #provisioning: Provisioning;
  #resolution: ServerResolution;
  #server: ServerAddress;
  #link: Link | undefined;
  #reauthorizing = false;
  /** When the setup portal runs; nothing of the portal exists otherwise. */
  readonly #setup: SetupControl;
  #closed = false;

  constructor(options: DeviceOptions) {
    const { config, ports } = options;
    this.#config = config;
    this.#server = config.server;
    this.#ports = ports;
    this.#endpointSettings = options.endpoint;
    this.#onEvent = options.onEvent;
    this.#connectivity = new ConnectivityEvents({ log: ports.log });
    const droppedKey = config.telemetry.droppedKey;
    const hooks = new Device.#Hooks(this, droppedKey);
    this.#hooks = hooks;
    this.#setup = new SetupControl({
      config,
      ports: ports.setup,
      clock: ports.clock,
      log: ports.log,
      store: ports.store,
      requested: options.setupRequested === true,
      host: hooks,
    });
    this.#telemetry = new Telemetry({
      bindings: ports.sensors,
      sink: new ThethingsBatchSink({ client: hooks }),
      clock: ports.clock,
      wallClock: ports.wallClock,
      random: ports.random,
      log: ports.log,
      config: config.telemetry,
      persistAfterAuto: config.persistAfter === "auto",
      connectivity: this.#connectivity,
      pages: ports.pages,
    });
    const telemetryKeys = ports.sensors.flatMap((binding) => binding.readings.map((reading) => reading.key));
    this.#dispatcher = new CommandDispatcher({
      actuators: ports.actuators,
      telemetryKeys: [...telemetryKeys, droppedKey, ...REPORT_KEYS],
      log: ports.log,
      onApplied: (applied) =>
        this.emit({
          event: "command",
          key: applied.key,
          value: applied.value,
          level: applied.level,
          source: applied.source,
        }),
    });
    this.#health = new HealthReporter({
      clock: ports.clock,
      log: ports.log,
      intervalMs: config.healthIntervalMs,
      host: hooks,
      readTarget: ports.readHealth,
    });
    this.#settings = new SettingsService({
      config,
      store: ports.store,
      clock: ports.clock,
      log: ports.log,
      targets: hooks,
    });
    this.#router = new ValueRouter({ commands: this.#dispatcher, settings: this.#settings });
    this.#provisioning = new Provisioning({
      activator: hooks,
      onCodeWanted: this.#setup.enabled ? (why) => this.#setup.codeWanted(why) : undefined,
      store: ports.store,
      clock: ports.clock,
      random: ports.random,
      log: ports.log,
      activationCode: config.activationCode,
      productId: config.productId,
      reactivateOnAuthFailure: config.reactivateOnAuthFailure,
      connectivity: this.#connectivity,
    });
    this.#resolution = this.resolve(config.server);
  }

  /** Starts sampling at once (values buffer until the platform is reachable), connects, and opens setup if due. */
  start(): void {
    this.#telemetry.start();
    this.#health.start();
    this.reportBoot();
    this.#resolution.start();
    this.#setup.boot();
  }

  /** Opens setup now, as the setup button at boot does (a host's own trigger); nothing when setup=never. */
  requestSetup(): void {
    this.#setup.open("requested");
  }

  /** Whether setup runs now. */
  get setupOpen(): boolean {
    return this.#setup.portal !== undefined;
  }

  /** The setup portal while it runs (tests, the memory report). */
  get setupPortal(): SetupPortal | undefined {
    return this.#setup.portal;
  }

  /**
   * The network went away (the board's Wi-Fi). If it stays away for config.setup.afterMs, setup
   * opens; the network watch keeps trying the stored network meanwhile, and setup closes again
   * as soon as it joins (networkChanged), unless a person is in the middle of a submission.
   */
  networkLost(): void {
    if (!this.#closed) this.#setup.networkLost();
  }

  /**
   * The network came back or changed (new Wi-Fi association, new address): the server is looked
   * up again where it has a name, and everything waiting to retry hears that the network is back.
   */
  networkChanged(): void {
    if (this.#closed) return;
    this.#setup.networkBack();
    if (this.#resolution.isFixed) this.report({ kind: "reachable", via: "network" });
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

  /**
   * Stops everything; safe to call twice. Values waiting in RAM are lost; those in the flash
   * outbox (ports.pages) go first at the next boot.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#setup.dispose();
    this.#resolution.close();
    this.#telemetry.close();
    this.#health.close();
    this.#provisioning.close();
    this.#dispatcher.close();
    this.#settings.close();
    const link = this.#link;
    if (link !== undefined) {
      link.catchUp.close();
      link.settingsCatchUp.close();
      link.keeper.close();
      link.client.close().catch(() => undefined);
      link.endpoint.close();
    }
    this.#ports.udp.close();
  }

  /**
   * device.boot, once per boot: the firmware, why the board started, and the outputs the platform
   * can drive (`key:kind`, which a dashboard turns into switches and sliders). It waits with the
   * readings until the platform can take it.
   */
  private reportBoot(): void {
    const outputs = this.#config.actuators.map((spec) => `${spec.key}:${spec.kind}`).join(",");
    const boot = { firmware: FIRMWARE_VERSION, reset: this.#ports.resetReason ?? "unknown", outputs };
    const problem = this.#telemetry.report(BOOT_REPORT_KEY, boot);
    if (problem !== undefined) this.#ports.log("warn", `device.boot not reported: ${problem}`);
  }

  private emit(event: DeviceEvent): void {
    if (event.event === "subscribed") this.#setup.subscribed();
    try {
      this.#onEvent?.(event);
    } catch (error) {
      this.#ports.log("warn", `event handler threw: ${String(error)}`);
    }
  }

  private report(event: ConnectivityEvent): void {
    if (!this.#closed) this.#connectivity.emit(event);
  }

  private requireLink(): Link {
    if (this.#link === undefined) throw new Error("no endpoint yet");
    return this.#link;
  }

  private connect(server: PeerAddress): void {
    if (this.#link !== undefined) {
      // A changed address re-registers the observations itself; the event tells everyone else.
      this.#link.endpoint.setServer(server);
      this.report({ kind: "reachable", via: "network" });
      return;
    }
    const { udp, clock, random, log } = this.#ports;
    const endpoint = new CoapEndpoint({
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
    const client = new ThethingsClient({ coap: endpoint, log });
    const catchUp = new CommandCatchUp({
      reader: client,
      dispatcher: this.#dispatcher,
      clock,
      random,
      log,
      maxWaitMs: this.#config.keepAliveMs,
    });
    const settingsCatchUp = new SettingsCatchUp({
      reader: client,
      settings: this.#settings,
      clock,
      random,
      log,
      maxWaitMs: this.#config.keepAliveMs,
    });
    const keeper = new SubscriptionKeeper({
      client,
      dispatcher: this.#router,
      keepAliveMs: this.#settings.value("keepAlive") as number,
      connectivity: this.#connectivity,
      device: this.#hooks,
    });
    this.#link = { endpoint, client, keeper, catchUp, settingsCatchUp, token: undefined, subscribed: false };
    log("info", `platform at ${server.address}:${server.port}`);
    // An unhandled rejection aborts the XS machine (the board restarts): report it instead.
    this.bringUp().catch((error: unknown) => this.#ports.log("error", `bring-up failed: ${String(error)}`));
  }

  /** Token → actuator state from the platform → subscription. */
  private async bringUp(): Promise<void> {
    const link = this.requireLink();
    const token = await this.#provisioning.obtainToken();
    if (token === undefined || this.#closed) return;
    this.applyToken(link, token);
    // Settings written while the device was off (its flash already holds those it heard).
    link.settingsCatchUp.run();
    let restoreIncomplete = false;
    if (this.#ports.actuators.length > 0) {
      const report = await restoreActuators({
        reader: link.client,
        dispatcher: this.#dispatcher,
        log: this.#ports.log,
      });
      // Reads lost at boot are made again, with retries, once the subscription is up.
      restoreIncomplete = report.failed.length > 0;
    }
    if (this.#closed || link.subscribed) return;
    link.subscribed = true;
    link.keeper.subscribe({ catchUp: restoreIncomplete });
  }

  /** Puts `token` on the link's client once; values waiting behind a backoff go now. */
  private applyToken(link: Link, token: string): void {
    if (link.token === token) return;
    link.token = token;
    link.client.setThingToken(token);
    this.#setup.tokenSettled();
    this.#ports.log("info", `thing token ${redactSecret(token)}`);
    // Values sampled while there was no token wait in the buffer behind a backoff: they go now.
    this.report({ kind: "token-changed" });
  }

  private resolve(server: ServerAddress): ServerResolution {
    const { resolve, clock, random, log } = this.#ports;
    return new ServerResolution({
      server,
      resolve,
      clock,
      random,
      log,
      host: this.#hooks,
    });
  }

  /** Another server, entered at setup: looked up and used from now on (the link follows it). */
  private retarget(uri: string): void {
    const server = parseServer("server", uri);
    if (server.uri === this.#server.uri) return;
    this.#server = server;
    this.#resolution.close();
    this.#resolution = this.resolve(server);
    this.#ports.log("info", `server is now ${server.uri}`);
    this.#resolution.start();
  }

  /** A code entered at setup: activates (a new thing when a token was in use) and puts the token to work. */
  private activateWith(code: string, productId: string | undefined): void {
    this.#provisioning
      .useCode(code, productId)
      .then((token) => {
        const link = this.#link;
        if (token === undefined || link === undefined || this.#closed) return;
        this.applyToken(link, token);
        if (!link.subscribed) {
          link.subscribed = true;
          link.keeper.subscribe();
        }
      })
      .catch((failure: unknown) => this.#ports.log("error", `setup: activation failed: ${String(failure)}`));
  }

  /** "Forget this device": token, Wi-Fi credentials, entered values, values waiting for the old thing. */
  private forget(): void {
    const { log } = this.#ports;
    this.#provisioning.forget();
    forgetEntered(this.#ports.store, log);
    this.#ports.setup?.radio?.forget();
    const discarded = this.#telemetry.discardBuffered();
    const link = this.#link;
    if (link !== undefined) {
      link.keeper.pause();
      link.subscribed = false;
      link.token = undefined;
      link.client.setThingToken(undefined);
    }
    this.#setup.tokenSettled();
    log("warn", `setup: device forgotten (token, Wi-Fi credentials, entered values, ${discarded} unsent values)`);
  }

  /** The platform refused the token: provisioning decides whether to activate again (one at a time). */
  private onUnauthorized(error: ThethingsError): void {
    if (error.kind !== "unauthorized" || this.#closed || this.#reauthorizing) return;
    this.#reauthorizing = true;
    this.reprovision(error)
      .catch((failure: unknown) => this.#ports.log("error", `re-provisioning failed: ${String(failure)}`))
      .finally(() => {
        this.#reauthorizing = false;
      });
  }

  private async reprovision(error: ThethingsError): Promise<void> {
    const token = await this.#provisioning.handleAuthFailure(error);
    const link = this.#link;
    if (this.#closed) return;
    if (token === undefined) {
      // A person can give a new code; sampling and buffering go on meanwhile.
      if (!this.#config.reactivateOnAuthFailure) this.#setup.tokenRefused(error.platformMessage ?? error.detail);
      return;
    }
    if (link !== undefined) this.applyToken(link, token);
  }
}
