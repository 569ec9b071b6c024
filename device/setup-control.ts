// When the setup portal opens and closes (issue 11's rules), apart from the device that composes
// it: at boot (asked for, setup=always, no Wi-Fi, no code and no token), when provisioning waits
// for a person (a refused code), when the platform refuses the token and reactivation is off,
// and after config.setup.afterMs without Wi-Fi. It closes as soon as the stored network is back
// and nothing else is missing, so a router outage never strands a device in setup; and a portal
// opened on demand closes after config.setup.idleMs without a request (WiFiManager's
// configPortalTimeout), so an open access point does not stay up beside a working device
// because nobody came. Nothing of the portal exists while setup is closed.

import type { ListenTcp } from "../http/tcp-port.js";
import type { Clock, TimerHandle } from "../kernel/clock.js";
import type { KeyValueStore } from "../kernel/key-value-store.js";
import type { LogSink } from "../kernel/log.js";
import type { DeviceConfig } from "./config.js";
import { formatDuration } from "./config-values.js";
import type { DeviceEvent } from "./device-events.js";
import { type CodeWanted, TOKEN_STORE_KEY } from "./provisioning.js";
import { SetupPortal, type SetupReason } from "./setup-portal.js";
import type { SetupRadio } from "./setup-radio.js";
import { ENTERED_KEYS, writeEntered } from "./setup-store.js";

export interface SetupPorts {
  /** The page's TCP listener (loopback on the PC; every interface in the simulator and on the board). */
  readonly listen: ListenTcp;
  /** The board's Wi-Fi: access point, scan, station. */
  readonly radio?: SetupRadio;
}

/** What setup asks of the device (the Device's hooks object: methods, not closures kept with it). */
export interface SetupHost {
  /** The thing token in use, if any. */
  setupToken(): string | undefined;
  /** Provisioning waits for a code from a person. */
  setupWaitingForCode(): boolean;
  /** The server in use, as a URI. */
  setupServer(): string;
  /** Another server, entered at setup. */
  setupRetarget(uri: string): void;
  /** A code entered at setup: activate with it and put the token to work. */
  setupActivate(code: string, productId: string | undefined): void;
  /** "Forget this device". */
  setupForget(): void;
  emit(event: DeviceEvent): void;
}

export interface SetupControlOptions {
  readonly config: Pick<DeviceConfig, "setup" | "activationCode">;
  /** Without them setup never opens (as with setup=never). */
  readonly ports: SetupPorts | undefined;
  readonly clock: Clock;
  readonly log: LogSink;
  readonly store: KeyValueStore;
  /** Setup was asked for at boot (the setup button held, `--setup`). */
  readonly requested: boolean;
  readonly host: SetupHost;
}

/** Reasons a person asked for setup while the device may lack nothing: these portals time out. */
const ON_DEMAND: readonly SetupReason[] = Object.freeze(["requested", "always"] as const);

export class SetupControl {
  readonly #options: SetupControlOptions;
  /** The portal while setup runs. */
  #portal: SetupPortal | undefined;
  /** The platform refused the token in use: a new code is needed. */
  #tokenRefused = false;
  /** Wi-Fi has been out of reach since; opens setup after config.setup.afterMs (board). */
  #offlineTimer: TimerHandle | undefined;
  /** While a portal opened on demand runs: checks it for config.setup.idleMs without a request. */
  #idleTimer: TimerHandle | undefined;
  #closed = false;

  constructor(options: SetupControlOptions) {
    this.#options = options;
  }

  /** Setup can open at all: there are setup ports and setup is not `never`. */
  get enabled(): boolean {
    return this.#options.ports !== undefined && this.#options.config.setup.mode !== "never";
  }

  /** The portal while it runs (tests, the memory report). */
  get portal(): SetupPortal | undefined {
    return this.#portal;
  }

  /** Opens setup if the boot calls for it. */
  boot(): void {
    if (!this.enabled) return;
    const { config, requested } = this.#options;
    const radio = this.#options.ports?.radio;
    if (requested) this.open("requested");
    else if (config.setup.mode === "always") this.open("always");
    else if (radio !== undefined && radio.ssid === undefined) this.open("no-wifi");
    else if (config.activationCode === undefined && this.storedToken() === undefined) this.open("no-code");
  }

  /** Opens setup, or shows the new reason on the portal already open. */
  open(reason: SetupReason, error?: string): void {
    const ports = this.#options.ports;
    if (this.#closed || ports === undefined || !this.enabled) return;
    if (this.#portal !== undefined) {
      this.#portal.reopen(reason, error);
      return;
    }
    const { clock, log, store, host, config } = this.#options;
    const portal = new SetupPortal({
      listen: ports.listen,
      port: config.setup.port,
      clock,
      log,
      radio: ports.radio,
      accessPointPassword: config.setup.password,
      reason,
      error,
      actions: {
        token: () => host.setupToken(),
        server: () => host.setupServer(),
        codeRequired: () => this.codeRequired(),
        store: (values) => {
          try {
            writeEntered(store, values, log);
          } catch (failure) {
            log("error", `setup: could not store what was entered (${String(failure)})`);
          }
        },
        retarget: (uri) => host.setupRetarget(uri),
        activate: (code, productId) => host.setupActivate(code, productId),
        forget: () => host.setupForget(),
      },
      onOpen: (url) => host.emit({ event: "setup", url }),
      onClosed: () => {
        if (this.#portal === portal) this.#portal = undefined;
        this.stopIdleTimer();
        host.emit({ event: "setup-closed" });
      },
    });
    this.#portal = portal;
    if (ON_DEMAND.includes(reason)) this.armIdleTimer(config.setup.idleMs);
    portal.open().catch((failure: unknown) => {
      log("error", `setup: could not open the page (${String(failure)})`);
      if (this.#portal === portal) this.#portal = undefined;
      portal.close();
    });
  }

  /** Provisioning waits for a person: setup opens (or shows the refusal, verbatim). */
  codeWanted(why: CodeWanted): void {
    if (why.kind !== "refused") {
      this.open("no-code");
      return;
    }
    // The refused code must not come back at the next boot either.
    try {
      this.#options.store.remove(ENTERED_KEYS.activationCode);
    } catch (error) {
      this.#options.log("error", `setup: could not remove the refused code (${String(error)})`);
    }
    this.open("refused", why.message);
    this.#portal?.refused(why.message);
  }

  /** The platform refused the token and will not be asked again by itself: a person can give a new code. */
  tokenRefused(message: string): void {
    if (!this.enabled || this.#tokenRefused) return;
    this.#tokenRefused = true;
    this.open("token-refused", message);
  }

  /** A token is in use again (or none is, after a forget): no refusal to show. */
  tokenSettled(): void {
    this.#tokenRefused = false;
  }

  /** Activation failed for another reason than a refused code: the page says so. */
  activationProblem(problem: string): void {
    this.#portal?.activationProblem(problem);
  }

  activated(token: string): void {
    this.#portal?.activated(token);
  }

  subscribed(): void {
    this.#portal?.subscribed();
  }

  /** The Wi-Fi went away: setup opens if it stays away for config.setup.afterMs (board only). */
  networkLost(): void {
    if (this.#closed || !this.enabled || this.#options.ports?.radio === undefined) return;
    if (this.#offlineTimer !== undefined) return;
    this.#offlineTimer = this.#options.clock.setTimer(() => {
      this.#offlineTimer = undefined;
      this.open("wifi-unreachable");
    }, this.#options.config.setup.afterMs);
  }

  /**
   * The network is back: never stranded in setup. A portal opened for the Wi-Fi closes when
   * nothing else is missing (a token) and no submission is under way.
   */
  networkBack(): void {
    if (this.#offlineTimer !== undefined) this.#options.clock.clearTimer(this.#offlineTimer);
    this.#offlineTimer = undefined;
    const portal = this.#portal;
    if (
      portal !== undefined &&
      !portal.busy &&
      (portal.reason === "wifi-unreachable" || portal.reason === "no-wifi") &&
      this.#options.host.setupToken() !== undefined
    ) {
      this.#options.log("info", "setup: the Wi-Fi network is back; closing setup");
      this.close();
    }
  }

  /** Closes the portal if it runs (setup-closed is told). */
  close(): void {
    const portal = this.#portal;
    this.#portal = undefined;
    this.stopIdleTimer();
    if (portal === undefined) return;
    portal.close();
    if (!this.#closed) this.#options.host.emit({ event: "setup-closed" });
  }

  /** For good: the portal closes without an event, the Wi-Fi timer stops. */
  dispose(): void {
    this.#closed = true;
    if (this.#offlineTimer !== undefined) this.#options.clock.clearTimer(this.#offlineTimer);
    this.#offlineTimer = undefined;
    this.close();
  }

  private armIdleTimer(ms: number): void {
    if (ms <= 0) return;
    this.#idleTimer = this.#options.clock.setTimer(() => {
      this.#idleTimer = undefined;
      this.closeIfIdle();
    }, ms);
  }

  private stopIdleTimer(): void {
    if (this.#idleTimer !== undefined) this.#options.clock.clearTimer(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  /**
   * An on-demand portal with nobody at it closes, but only when the device lacks nothing: a
   * portal that now asks for a code (no token after Forget, a refused token) or for Wi-Fi (none
   * stored, or the stored one out of reach) stays until setup is done or the network is back.
   */
  private closeIfIdle(): void {
    const portal = this.#portal;
    if (portal === undefined) return;
    const { clock, config, log, ports } = this.#options;
    const idleMs = config.setup.idleMs;
    const lacking =
      portal.reason === "wifi-unreachable" ||
      this.codeRequired() ||
      (ports?.radio !== undefined && ports.radio.ssid === undefined);
    const idleFor = clock.now() - portal.lastRequestAt;
    if (!lacking && !portal.busy && idleFor >= idleMs) {
      log("info", `setup: no request for ${formatDuration(idleMs)} (setupTimeout); closing setup`);
      this.close();
      return;
    }
    this.armIdleTimer(lacking || portal.busy ? idleMs : idleMs - idleFor);
  }

  /** A code must be given: no token, a refused one, or provisioning waits for a person. */
  private codeRequired(): boolean {
    const { host } = this.#options;
    return host.setupToken() === undefined || this.#tokenRefused || host.setupWaitingForCode();
  }

  private storedToken(): string | undefined {
    try {
      return this.#options.store.read(TOKEN_STORE_KEY);
    } catch {
      return undefined;
    }
  }
}
