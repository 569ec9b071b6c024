// First boot: a device without a thing token activates itself with the configured activation
// code and keeps the token in flash; every later boot reads it back and goes straight to work.
// Nothing here loops hot: every retry waits a Backoff delay on the injected clock, and each
// distinct problem is explained in one log line (repeats go to debug). The token and the
// activation code never appear whole in a log line.

import { Backoff, type BackoffOptions } from "../kernel/backoff.js";
import type { Clock, TimerHandle } from "../kernel/clock.js";
import type { ConnectivityEvent, ConnectivityListener, ConnectivitySource } from "../kernel/connectivity.js";
import type { KeyValueStore } from "../kernel/key-value-store.js";
import type { LogSink } from "../kernel/log.js";
import type { RandomSource } from "../kernel/random.js";
import type { ThethingsError } from "../thethings/errors.js";
import { checkThingToken, redactSecret } from "../thethings/token.js";

/** The store key of the token: short, since Moddable Preference keys hold at most 15 characters. */
export const TOKEN_STORE_KEY = "thingToken";

/** What provisioning needs from the platform client (ThethingsClient.activate). */
export interface Activator {
  activate(activationCode: string, productId?: string): Promise<string>;
}

/** Why provisioning waits for a person (the setup portal): no code at all, or the code was refused. */
export type CodeWanted =
  | { readonly kind: "no-code" }
  | { readonly kind: "refused"; readonly message: string; readonly code: string | undefined };

export interface ProvisioningOptions {
  readonly activator: Activator;
  readonly store: KeyValueStore;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly log: LogSink;
  /** From config; empty or blank counts as none. */
  readonly activationCode?: string;
  readonly productId?: string;
  /**
   * When the platform refuses the token on a thing path: drop it and activate again (true), or
   * only report it (false, the default: activating again creates a new thing on the platform).
   */
  readonly reactivateOnAuthFailure?: boolean;
  /** Retry timing for activation (random comes from `random`). */
  readonly backoff?: Omit<BackoffOptions, "random">;
  /** When the network comes back, an activation waiting on an unreachable platform goes at once (retryNow). */
  readonly connectivity?: ConnectivitySource;
  /**
   * A person can give a code (the setup portal runs or can be opened). Then a missing code is not
   * polled for and a refused code is not retried: provisioning tells this and waits for useCode().
   * Without it both are retried with backoff (a fleet build nobody attends).
   */
  readonly onCodeWanted?: (why: CodeWanted) => void;
}

export class Provisioning implements ConnectivityListener {
  #activator: Activator;
  #store: KeyValueStore;
  #clock: Clock;
  #log: LogSink;
  #activationCode: string | undefined;
  #productId: string | undefined;
  #reactivate: boolean;
  #backoff: Backoff;
  /** Spaces successive re-activations after refused tokens; not reset within a boot. */
  #reactivationBackoff: Backoff;
  #token: string | undefined;
  #pending: Promise<string | undefined> | undefined;
  /** The last problem explained at warn/error level, so repeats go to debug. */
  #lastProblem: string | undefined;
  /** The token whose refusal was last reported, so each refused token is reported once. */
  #refusedToken: string | undefined;
  #timer: TimerHandle | undefined;
  #wake: (() => void) | undefined;
  /** The activation backoff now running follows a failure to reach the platform (not a refusal). */
  #waitingOnNetwork = false;
  /** The refusal of the attempt just made, for onCodeWanted. */
  #refusal: CodeWanted | undefined;
  readonly #connectivity: ConnectivitySource | undefined;
  readonly #onCodeWanted: ((why: CodeWanted) => void) | undefined;
  /** Waiting for useCode() with no timer (only when onCodeWanted is given). */
  #waitingForCode = false;
  #closed = false;

  constructor(options: ProvisioningOptions) {
    this.#activator = options.activator;
    this.#store = options.store;
    this.#clock = options.clock;
    this.#log = options.log;
    const code = options.activationCode?.trim();
    this.#activationCode = code === undefined || code === "" ? undefined : code;
    const productId = options.productId?.trim();
    this.#productId = productId === undefined || productId === "" ? undefined : productId;
    this.#reactivate = options.reactivateOnAuthFailure ?? false;
    this.#backoff = new Backoff({ ...options.backoff, random: options.random });
    this.#reactivationBackoff = new Backoff({ ...options.backoff, random: options.random });
    this.#onCodeWanted = options.onCodeWanted;
    this.#connectivity = options.connectivity;
    this.#connectivity?.subscribe(this);
  }

  /** @internal (ConnectivityListener) */
  onConnectivity(event: ConnectivityEvent): void {
    if (event.kind === "reachable" && event.via === "network") this.retryNow();
  }

  /** The token in use, if any. A credential: log it only through redactSecret. */
  get token(): string | undefined {
    return this.#token;
  }

  /**
   * The thing token: the stored one at once, otherwise after activation, retried with backoff
   * for as long as it takes (no code configured, code refused, network down). Resolves
   * undefined only when close() ends the wait. Concurrent calls share one attempt.
   */
  obtainToken(): Promise<string | undefined> {
    if (this.#token !== undefined) return Promise.resolve(this.#token);
    if (this.#pending === undefined) {
      this.#pending = this.provision().finally(() => {
        this.#pending = undefined;
      });
    }
    return this.#pending;
  }

  /**
   * Call when the platform refused the token on a thing path (a ThethingsError of kind
   * "unauthorized"). Logs it once per token. With reactivateOnAuthFailure, drops the stored
   * token and activates again after a backoff delay: resolves the new token. Otherwise (or for
   * another error kind) resolves undefined and keeps the token.
   */
  async handleAuthFailure(error: ThethingsError): Promise<string | undefined> {
    if (error.kind !== "unauthorized" || this.#closed) return undefined;
    const token = this.#token;
    if (token === undefined) return this.obtainToken();
    const what = `the platform refused thing token ${redactSecret(token)} (${error.code ?? "?"} on ${error.operation})`;
    if (this.#refusedToken !== token) {
      this.#refusedToken = token;
      this.#log(
        "error",
        this.#reactivate
          ? `${what}: dropping it and activating again`
          : `${what}: re-provision the device (erase the stored token, or set reactivateOnAuthFailure=true to activate again by itself)`,
      );
    } else this.#log("debug", what);
    if (!this.#reactivate) return undefined;
    this.#token = undefined;
    this.remove();
    await this.sleep(this.#reactivationBackoff.next());
    return this.obtainToken();
  }

  /**
   * The network came back: an activation waiting out its backoff after failing to reach the
   * platform tries again now, instead of up to the backoff cap later (a first boot offline).
   * A refused code or a missing one keeps its backoff: the network changes nothing for them.
   */
  retryNow(): void {
    if (!this.#waitingOnNetwork || this.#timer === undefined) return;
    this.#log("debug", "provisioning: network back, activating now");
    this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Whether provisioning waits for a code from a person (see onCodeWanted). */
  get waitingForCode(): boolean {
    return this.#waitingForCode;
  }

  /**
   * A code (and product ID) given by a person: used for the next activation, at once if one is
   * waiting. With a token in use (refused by the platform, or replaced on purpose) the token is
   * dropped from flash first and the new code activates a new thing; obtainToken() resolves it.
   */
  useCode(activationCode: string, productId: string | undefined): Promise<string | undefined> {
    this.#activationCode = activationCode;
    this.#productId = productId;
    this.#backoff.reset();
    this.#lastProblem = undefined;
    if (this.#token !== undefined) {
      this.#token = undefined;
      this.remove();
    }
    this.wakeNow();
    return this.obtainToken();
  }

  /** "Forget this device": the token leaves flash and memory, the code is dropped; waits for useCode(). */
  forget(): void {
    this.#token = undefined;
    this.#refusedToken = undefined;
    this.#activationCode = undefined;
    this.#productId = undefined;
    this.remove();
    this.#log("info", "provisioning: thing token forgotten");
  }

  private wakeNow(): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Stops waiting (a pending obtainToken() resolves undefined); safe to call twice. */
  close(): void {
    this.#closed = true;
    this.#connectivity?.unsubscribe(this);
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  private async provision(): Promise<string | undefined> {
    while (!this.#closed) {
      const stored = this.load();
      if (stored !== undefined) {
        this.#token = stored;
        this.#log("info", `using the stored thing token ${redactSecret(stored)}`);
        return stored;
      }
      const code = this.#activationCode;
      this.#waitingOnNetwork = false;
      if (code === undefined && this.#onCodeWanted !== undefined) {
        this.problem("no-code", "warn", "no thing token and no activation code: waiting for one from the setup page");
        await this.waitForCode({ kind: "no-code" });
        continue;
      }
      if (code === undefined) {
        this.problem(
          "no-code",
          "warn",
          "no thing token and no activation code: set activationCode=... on the mcconfig command line (or --activation-code on the host); retrying with backoff",
        );
      } else {
        const token = await this.activate(code);
        if (token !== undefined) return token;
        const refused = this.#refusal;
        this.#refusal = undefined;
        if (refused !== undefined && this.#onCodeWanted !== undefined && !this.#closed) {
          // A refused code is not tried again: the platform answers it the same every time.
          if (this.#activationCode === code) this.#activationCode = undefined;
          await this.waitForCode(refused);
          continue;
        }
      }
      if (this.#closed) break;
      const delay = this.#backoff.next();
      this.#log("debug", `provisioning: next attempt in ${delay} ms`);
      await this.sleep(delay);
    }
    return undefined;
  }

  /** One activation attempt: the token (stored) or undefined after logging why not. */
  private async activate(code: string): Promise<string | undefined> {
    let token: string;
    try {
      token = await this.#activator.activate(code, this.#productId);
    } catch (failure) {
      const error = failure as Partial<ThethingsError>;
      const kind = typeof error.kind === "string" ? error.kind : "failure";
      if (kind === "activation-refused") {
        this.#refusal = {
          kind: "refused",
          message:
            typeof error.platformMessage === "string" ? error.platformMessage : (error.detail ?? String(failure)),
          code: typeof error.code === "string" ? error.code : undefined,
        };
        this.problem(
          `refused ${error.code ?? ""}`,
          "error",
          `activation refused (${error.detail ?? String(failure)}): check activation code ${redactSecret(code)}` +
            `${this.#productId === undefined ? "" : ` and product ID ${this.#productId}`} in the platform's Things Manager; ${this.#onCodeWanted === undefined ? "retrying with backoff" : "waiting for another code from the setup page"}`,
        );
      } else {
        this.#waitingOnNetwork = kind === "network" || kind === "failure";
        this.problem(
          `failed ${kind}`,
          "warn",
          `activation failed (${kind}: ${error.detail ?? String(failure)}); retrying with backoff`,
        );
      }
      return undefined;
    }
    if (this.#closed) return undefined;
    const check = checkThingToken(token);
    if (!check.ok) {
      this.problem(
        "bad-token",
        "error",
        `activation returned an unusable token (${check.reason}); retrying with backoff`,
      );
      return undefined;
    }
    this.#token = token;
    this.#backoff.reset();
    this.#lastProblem = undefined;
    try {
      this.#store.write(TOKEN_STORE_KEY, token);
      this.#log("info", `activated: thing token ${redactSecret(token)} stored`);
    } catch (error) {
      this.#log(
        "error",
        `activated thing token ${redactSecret(token)} but could not store it (${String(error)}): the next boot activates again`,
      );
    }
    return token;
  }

  /** The stored token if usable; a malformed one is removed (it can never work). */
  private load(): string | undefined {
    let stored: string | undefined;
    try {
      stored = this.#store.read(TOKEN_STORE_KEY);
    } catch (error) {
      this.problem("store-read", "error", `could not read the stored thing token (${String(error)})`);
      return undefined;
    }
    if (stored === undefined) return undefined;
    const check = checkThingToken(stored);
    if (!check.ok) {
      this.#log("warn", `the stored thing token is unusable (${check.reason}): removing it`);
      this.remove();
      return undefined;
    }
    if (check.warning !== undefined) this.#log("warn", `stored thing token ${redactSecret(stored)}: ${check.warning}`);
    return stored;
  }

  private remove(): void {
    try {
      this.#store.remove(TOKEN_STORE_KEY);
    } catch (error) {
      this.#log("error", `could not remove the stored thing token (${String(error)})`);
    }
  }

  // One clear line per distinct problem; the same problem again goes to debug.
  private problem(key: string, level: "warn" | "error", message: string): void {
    if (this.#lastProblem === key) {
      this.#log("debug", message);
      return;
    }
    this.#lastProblem = key;
    this.#log(level, message);
  }

  /** Tells onCodeWanted and waits, with no timer, for useCode() or close(). */
  private waitForCode(why: CodeWanted): Promise<void> {
    return new Promise((resolve) => {
      if (this.#closed) {
        resolve();
        return;
      }
      this.#waitingForCode = true;
      this.#wake = () => {
        this.#waitingForCode = false;
        resolve();
      };
      try {
        this.#onCodeWanted?.(why);
      } catch (error) {
        this.#log("warn", `provisioning: onCodeWanted threw: ${String(error)}`);
      }
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.#closed) {
        resolve();
        return;
      }
      this.#wake = resolve;
      this.#timer = this.#clock.setTimer(() => {
        this.#timer = undefined;
        this.#wake = undefined;
        resolve();
      }, ms);
    });
  }
}
