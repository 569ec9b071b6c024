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

export interface SubscriptionEnd {
  label: string;
  endpoint: string;
  reason: string;
}

interface Entry extends Registration {
  observation: Observation;
  keepAlive: NodeJS.Timeout;
}

export class Subscriptions {
  readonly #byThing = new Map<number, Set<Entry>>();
  readonly #onEnd: (end: SubscriptionEnd) => void;

  /** `onEnd` hears of every observation that ends, whichever side ends it. */
  constructor(onEnd: (end: SubscriptionEnd) => void) {
    this.#onEnd = onEnd;
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
    };
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
    if (set.size === 0) this.#byThing.delete(entry.thing);
    this.#onEnd({ label: entry.label, endpoint: entry.endpoint, reason });
  }
}
