// Who observes which thing. Every write to a thing is pushed to all its observers; each observer
// also gets a keep-alive `{}` every keepAlive ms, which the platform's libraries expect (they
// resubscribe after keepAlive + 1 s of silence).
import type { ObserveWriteStream } from "coap";
import { Observation } from "./observation.js";
import { jsonBytes, KEEP_ALIVE, notificationArrays, SUBSCRIBED } from "./payloads.js";

export interface Registration {
  thing: number;
  /** The thing as logs may name it (see redactToken). */
  label: string;
  /** The client's address and port: with `token`, what names an observation (RFC 7641 §3.1). */
  endpoint: string;
  /** The request's CoAP token, in hex. */
  token: string;
  keepAliveMs: number;
  /** Whether the registration came as CON; data notifications then go as CON too. */
  confirmable: boolean;
}

/** A thing's subscriptions as the dashboard shows them. */
export interface SubscriptionStatus {
  /** Subscriptions open now. */
  count: number;
  /**
   * The latest moment one of them was acknowledged (its registration, or an ACK to a
   * notification), or undefined if none is open.
   */
  acknowledgedAt: number | undefined;
  /** Whether one of them was acknowledged within its keepAlive + ONLINE_GRACE_MS. */
  online: boolean;
}

/**
 * How long past its keepAlive a subscription still counts as live: the device side's own rule
 * (silence for keepAlive + 5 s means the observation is gone), applied from the platform's side.
 */
export const ONLINE_GRACE_MS = 5_000;

export interface SubscriptionsOptions {
  /** Hears of every observation that ends, whichever side ends it. */
  onEnd: (end: SubscriptionEnd) => void;
  /** Milliseconds since the epoch. */
  now: () => number;
}

export interface SubscriptionEnd {
  label: string;
  endpoint: string;
  reason: string;
}

interface Entry extends Registration {
  observation: Observation;
  keepAlive: NodeJS.Timeout;
  /** The registration, then each ACK to one of its notifications. */
  acknowledgedAt: number;
}

export class Subscriptions {
  readonly #byThing = new Map<number, Set<Entry>>();
  // The same entries by node-coap stream, to credit an ACK to its observation; one per entry.
  readonly #byStream = new Map<ObserveWriteStream, Entry>();
  readonly #onEnd: (end: SubscriptionEnd) => void;
  readonly #now: () => number;

  constructor(options: SubscriptionsOptions) {
    this.#onEnd = options.onEnd;
    this.#now = options.now;
  }

  /** Registers an observer and sends it the first notification, `{"status":"success","message":"subscribed"}`. */
  add(registration: Registration, stream: ObserveWriteStream): void {
    // A registration with the token of an existing one from the same client replaces it (RFC 7641 §4.1).
    this.cancel(registration.thing, registration.endpoint, registration.token, "replaced by a new registration");
    const entry: Entry = {
      ...registration,
      observation: new Observation(stream, (reason) => this.#remove(entry, reason)),
      // Keep-alives always go as CON: an unacknowledged one is how a vanished NON observer is
      // found and dropped (RFC 7641 §4.5).
      keepAlive: setInterval(() => entry.observation.notify(jsonBytes(KEEP_ALIVE), true), registration.keepAliveMs),
      // The registration itself: the client has just been heard.
      acknowledgedAt: this.#now(),
    };
    this.#byStream.set(stream, entry);
    let set = this.#byThing.get(entry.thing);
    if (set === undefined) {
      set = new Set();
      this.#byThing.set(entry.thing, set);
    }
    set.add(entry);
    entry.observation.notify(jsonBytes(SUBSCRIBED), registration.confirmable);
  }

  /** Ends the observation with this client and token, if there is one; true if there was. */
  cancel(thing: number, endpoint: string, token: string, reason: string): boolean {
    for (const entry of this.#byThing.get(thing) ?? []) {
      if (entry.endpoint === endpoint && entry.token === token) {
        entry.observation.close();
        this.#remove(entry, reason);
        return true;
      }
    }
    return false;
  }

  /** Pushes the items (each a JSON object's text) to every observer of the thing. */
  publish(thing: number, items: readonly string[]): void {
    const set = this.#byThing.get(thing);
    if (set === undefined) return;
    const arrays = notificationArrays(items);
    for (const entry of set) {
      for (const array of arrays) entry.observation.notify(array, entry.confirmable);
    }
  }

  /**
   * The client acknowledged a notification sent on `stream`; returns the observed thing, or
   * undefined for a stream that is no (longer an) observation.
   */
  acknowledged(stream: ObserveWriteStream): number | undefined {
    const entry = this.#byStream.get(stream);
    if (entry === undefined) return undefined;
    entry.acknowledgedAt = this.#now();
    return entry.thing;
  }

  /** The thing's subscriptions: how many, when last acknowledged, and whether that is recent enough. */
  status(thing: number): SubscriptionStatus {
    const now = this.#now();
    let acknowledgedAt: number | undefined;
    let online = false;
    for (const entry of this.#byThing.get(thing) ?? []) {
      if (acknowledgedAt === undefined || entry.acknowledgedAt > acknowledgedAt) acknowledgedAt = entry.acknowledgedAt;
      if (now - entry.acknowledgedAt <= entry.keepAliveMs + ONLINE_GRACE_MS) online = true;
    }
    return { count: this.count(thing), acknowledgedAt, online };
  }

  /** Observers of one thing, or of all things. */
  count(thing?: number): number {
    if (thing !== undefined) return this.#byThing.get(thing)?.size ?? 0;
    let n = 0;
    for (const set of this.#byThing.values()) n += set.size;
    return n;
  }

  /** Ends every observation without sending anything more. */
  closeAll(reason: string): void {
    for (const set of [...this.#byThing.values()]) {
      for (const entry of [...set]) {
        entry.observation.close();
        this.#remove(entry, reason);
      }
    }
  }

  #remove(entry: Entry, reason: string): void {
    const set = this.#byThing.get(entry.thing);
    if (set === undefined || !set.delete(entry)) return;
    clearInterval(entry.keepAlive);
    this.#byStream.delete(entry.observation.stream);
    if (set.size === 0) this.#byThing.delete(entry.thing);
    this.#onEnd({ label: entry.label, endpoint: entry.endpoint, reason });
  }
}
