// Connectivity as events, after Golioth's client event callback: the composition reports what it
// learns about the network, the platform and the credentials, and every part that retries
// subscribes and decides for itself what an event means to it (telemetry retries its write,
// provisioning its activation, the subscription re-registers). No part calls another's retry.

import type { LogSink } from "./log.js";

export type ConnectivityEvent =
  /**
   * Worth trying now. `via: "network"`: the link came back or changed (new association, new
   * address), so state kept by NATs and the server may be gone; `via: "platform"`: the platform
   * just answered (a write was stored, the subscription was confirmed).
   */
  | { readonly kind: "reachable"; readonly via: "network" | "platform" }
  /** The platform stopped answering on the subscription (silence past its keep-alive, an error). */
  | { readonly kind: "lost"; readonly reason: string }
  /** Another thing token is in use (first activation, or a new one after a refused token). */
  | { readonly kind: "token-changed" };

/**
 * A part that hears the events: an object with this method, usually the part itself, so that
 * nothing is kept for the part's life but its entry in the table (a closure for the listener and
 * another to unsubscribe took about 300 bytes a part on the ESP32).
 */
export interface ConnectivityListener {
  onConnectivity(event: ConnectivityEvent): void;
}

/** Where a part subscribes, and unsubscribes (safe to call twice, or for a listener never subscribed). */
export interface ConnectivitySource {
  subscribe(listener: ConnectivityListener): void;
  unsubscribe(listener: ConnectivityListener): void;
}

export class ConnectivityEvents implements ConnectivitySource {
  /** Telemetry, provisioning, the subscription and a few for the application. */
  static readonly MAX_LISTENERS = 8;
  /** Bound: MAX_LISTENERS. */
  readonly #listeners: ConnectivityListener[] = [];
  readonly #log: LogSink | undefined;

  /** A listener that throws is logged (an error) and the others still hear the event. */
  constructor(options: { readonly log?: LogSink } = {}) {
    this.#log = options.log;
  }

  /** Throws RangeError past MAX_LISTENERS (a listener added in a loop is a bug). */
  subscribe(listener: ConnectivityListener): void {
    if (this.#listeners.length >= ConnectivityEvents.MAX_LISTENERS) {
      throw new RangeError(`at most ${ConnectivityEvents.MAX_LISTENERS} connectivity listeners`);
    }
    this.#listeners.push(listener);
  }

  unsubscribe(listener: ConnectivityListener): void {
    const at = this.#listeners.indexOf(listener);
    if (at >= 0) this.#listeners.splice(at, 1);
  }

  /** Tells every listener, in the order they subscribed; one that unsubscribes meanwhile still hears this event. */
  emit(event: ConnectivityEvent): void {
    for (const listener of this.#listeners.slice()) {
      try {
        listener.onConnectivity(event);
      } catch (error) {
        this.#log?.("error", `connectivity listener threw on ${event.kind}: ${String(error)}`);
      }
    }
  }
}
