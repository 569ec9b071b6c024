// Keeps the thing's subscription: the values it brings go to the commands and the settings
// (value-router.ts); a confirmation after a gap starts their catch-up; what it learns about the
// platform is reported as connectivity events. It re-registers when the network comes back (a
// NAT or a server restart may have forgotten it, RFC 7641 §4.1), when the platform answers again
// while it is lost, and subscribes afresh under a new thing token.
import type { ConnectivityEvent, ConnectivityListener, ConnectivitySource } from "../kernel/connectivity.js";
import type { ThethingsClient } from "../thethings/client.js";
import type { ThethingsError } from "../thethings/errors.js";
import type { SubscriptionHandlers, ThingSubscription } from "../thethings/subscription.js";
import type { ThingValue } from "../thethings/values.js";
import type { DeviceEvent } from "./device-events.js";
import type { ValueSink } from "./value-router.js";

export interface SubscriptionKeeperOptions {
  readonly client: Pick<ThethingsClient, "subscribe">;
  readonly dispatcher: ValueSink;
  /** The first keep-alive; setKeepAlive() changes it. */
  readonly keepAliveMs: number;
  readonly connectivity: ConnectivitySource;
  readonly device: KeeperDevice;
}

/** What the keeper tells the device: an object with methods (the Device's hooks), not three closures kept with it. */
export interface KeeperDevice {
  report(event: ConnectivityEvent): void;
  emit(event: DeviceEvent): void;
  /** The platform refused the token (or another error on the stream). */
  onStreamError(error: ThethingsError): void;
  /** Reads back what was written during a gap (command-catch-up.ts, settings-catch-up.ts). */
  catchUp(): void;
}

/**
 * Also the subscription's handlers and a connectivity listener: it hands itself over, so these
 * are methods rather than closures kept with it.
 */
export class SubscriptionKeeper implements SubscriptionHandlers, ConnectivityListener {
  readonly #options: SubscriptionKeeperOptions;
  #subscription: ThingSubscription | undefined;
  #keepAliveMs: number;
  #lost = false;
  /** A subscription was confirmed before: the next confirmation follows a gap (loss, new token, restart). */
  #subscribedBefore = false;
  /** The boot's read of the outputs' last commands did not get every answer. */
  #catchUpPending = false;

  constructor(options: SubscriptionKeeperOptions) {
    this.#options = options;
    this.#keepAliveMs = options.keepAliveMs;
    options.connectivity.subscribe(this);
  }

  /** Whether the subscription is down (lost and not confirmed since). */
  get lost(): boolean {
    return this.#lost;
  }

  /** Subscribes (again); `catchUp`: read the outputs' last commands once it is confirmed. */
  subscribe(options: { readonly catchUp?: boolean } = {}): void {
    if (options.catchUp === true) this.#catchUpPending = true;
    this.#subscription?.close().catch(() => undefined);
    this.#subscription = this.#options.client.subscribe(this, { keepAliveMs: this.#keepAliveMs });
  }

  /** Drops the subscription until subscribe() is called again (the token was forgotten). */
  pause(): void {
    this.#subscription?.close().catch(() => undefined);
    this.#subscription = undefined;
  }

  /** A new keep-alive: a subscription in place registers again, asking the platform for it. */
  setKeepAlive(keepAliveMs: number): void {
    if (keepAliveMs === this.#keepAliveMs) return;
    this.#keepAliveMs = keepAliveMs;
    if (this.#subscription !== undefined) this.subscribe();
  }

  /** @internal (SubscriptionHandlers) */
  onValues(values: readonly ThingValue[]): void {
    this.#options.dispatcher.dispatch(values);
  }

  /** @internal (SubscriptionHandlers) */
  onSubscribed(): void {
    if (this.#lost || this.#subscribedBefore || this.#catchUpPending) this.#options.device.catchUp();
    this.#catchUpPending = false;
    this.#subscribedBefore = true;
    this.#lost = false;
    this.#options.device.report({ kind: "reachable", via: "platform" });
    this.#options.device.emit({ event: "subscribed" });
  }

  /** @internal (SubscriptionHandlers) */
  onLost(reason: string): void {
    this.#lost = true;
    this.#options.device.report({ kind: "lost", reason });
    this.#options.device.emit({ event: "subscription-lost", reason });
  }

  /** @internal (SubscriptionHandlers) */
  onError(error: ThethingsError): void {
    this.#options.device.emit({ event: "error", message: error.message });
    this.#options.device.onStreamError(error);
  }

  close(): void {
    this.#options.connectivity.unsubscribe(this);
    this.#subscription?.close().catch(() => undefined);
    this.#subscription = undefined;
  }

  /** @internal (ConnectivityListener) */
  onConnectivity(event: ConnectivityEvent): void {
    const subscription = this.#subscription;
    if (subscription === undefined) return;
    if (event.kind === "token-changed") this.subscribe();
    else if (event.kind === "reachable" && (event.via === "network" || this.#lost)) subscription.reregister();
  }
}
