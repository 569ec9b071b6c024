// A seeded UDP proxy between a device and a platform that loses, duplicates, reorders and delays
// datagrams per direction, and can cut the link for scheduled outages. Loopback only. The device
// talks to the proxy's port; the proxy forwards to the platform from one upstream socket per
// device address, so the platform sees a stable peer (like a NAT that keeps its mapping) unless
// `rebind()` is called (like a NAT that forgets it).
import { createSocket, type Socket } from "node:dgram";

export interface DirectionFaults {
  /** Probability in [0, 1] that a datagram is dropped. */
  readonly loss?: number;
  /** Probability in [0, 1] that a datagram is sent twice. */
  readonly duplicate?: number;
  /** Probability in [0, 1] that a datagram is held back and sent after the next one. */
  readonly reorder?: number;
  /** Fixed delay in ms. */
  readonly delayMs?: number;
  /** Extra uniform random delay in [0, jitterMs). */
  readonly jitterMs?: number;
}

export interface ChaosOptions {
  /** The platform's address. */
  readonly target: { readonly address: string; readonly port: number };
  readonly seed: number;
  readonly toServer?: DirectionFaults;
  readonly toDevice?: DirectionFaults;
  /** Host to listen on; loopback by default. */
  readonly host?: string;
}

export interface DirectionCounters {
  forwarded: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  droppedByOutage: number;
}

/** Mulberry32: small, fast and seedable, so a run can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Held {
  readonly send: () => void;
}

class Direction {
  readonly counters: DirectionCounters = { forwarded: 0, dropped: 0, duplicated: 0, reordered: 0, droppedByOutage: 0 };
  faults: DirectionFaults;
  #held: Held | undefined;
  readonly #random: () => number;
  readonly #timers: Set<NodeJS.Timeout>;

  constructor(faults: DirectionFaults, random: () => number, timers: Set<NodeJS.Timeout>) {
    this.faults = faults;
    this.#random = random;
    this.#timers = timers;
  }

  pass(send: () => void, down: boolean): void {
    if (down) {
      this.counters.droppedByOutage++;
      return;
    }
    const f = this.faults;
    if (this.#random() < (f.loss ?? 0)) {
      this.counters.dropped++;
      return;
    }
    const copies = this.#random() < (f.duplicate ?? 0) ? 2 : 1;
    if (copies === 2) this.counters.duplicated++;
    const emit = (): void => {
      for (let i = 0; i < copies; i++) this.#later(send);
      this.counters.forwarded++;
    };
    // Reordering: hold this one back and release it right after the next datagram.
    if (this.#held === undefined && this.#random() < (f.reorder ?? 0)) {
      this.counters.reordered++;
      this.#held = { send: emit };
      const flush = setTimeout(
        () => {
          this.#timers.delete(flush);
          this.#releaseHeld();
        },
        50 + (f.delayMs ?? 0),
      );
      this.#timers.add(flush);
      return;
    }
    emit();
    this.#releaseHeld();
  }

  #releaseHeld(): void {
    const held = this.#held;
    this.#held = undefined;
    held?.send();
  }

  #later(send: () => void): void {
    const delay = (this.faults.delayMs ?? 0) + this.#random() * (this.faults.jitterMs ?? 0);
    if (delay <= 0) {
      send();
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      send();
    }, delay);
    this.#timers.add(timer);
  }
}

export class ChaosProxy {
  readonly toServer: Direction;
  readonly toDevice: Direction;
  #down = false;
  #listener: Socket | undefined;
  readonly #upstreams = new Map<string, Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #options: ChaosOptions;
  #target: { address: string; port: number };

  constructor(options: ChaosOptions) {
    this.#options = options;
    this.#target = { ...options.target };
    const random = seededRandom(options.seed);
    this.toServer = new Direction(options.toServer ?? {}, random, this.#timers);
    this.toDevice = new Direction(options.toDevice ?? {}, random, this.#timers);
  }

  /** Starts listening; resolves to the port the device should use. */
  async start(port = 0): Promise<number> {
    const host = this.#options.host ?? "127.0.0.1";
    const listener = createSocket(host.includes(":") ? "udp6" : "udp4");
    this.#listener = listener;
    listener.on("message", (bytes, from) => this.#fromDevice(bytes, from.address, from.port));
    await new Promise<void>((resolve) => listener.bind(port, host, resolve));
    return listener.address().port;
  }

  /** Points the proxy at a new platform address (e.g. after the platform restarted on another port). */
  retarget(target: { address: string; port: number }): void {
    this.#target = { ...target };
  }

  /** true: every datagram in both directions is dropped until `setDown(false)`. */
  setDown(down: boolean): void {
    this.#down = down;
  }

  get down(): boolean {
    return this.#down;
  }

  /** Forgets every upstream mapping, as a NAT does when it times out: the platform sees a new source port. */
  rebind(): void {
    for (const socket of this.#upstreams.values()) socket.close();
    this.#upstreams.clear();
  }

  #upstreamFor(address: string, port: number): Socket {
    const key = `${address}|${port}`;
    let socket = this.#upstreams.get(key);
    if (socket === undefined) {
      const upstream = createSocket(this.#target.address.includes(":") ? "udp6" : "udp4");
      upstream.on("message", (bytes) => {
        this.toDevice.pass(() => this.#listener?.send(bytes, port, address), this.#down);
      });
      upstream.on("error", () => undefined);
      upstream.bind(0, this.#target.address.includes(":") ? "::1" : "127.0.0.1");
      this.#upstreams.set(key, upstream);
      socket = upstream;
    }
    return socket;
  }

  #fromDevice(bytes: Buffer, address: string, port: number): void {
    const upstream = this.#upstreamFor(address, port);
    const target = this.#target;
    this.toServer.pass(() => {
      try {
        upstream.send(bytes, target.port, target.address);
      } catch {
        // The upstream socket was closed by rebind() while this datagram waited: it is lost, as on a real NAT.
      }
    }, this.#down);
  }

  async stop(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.rebind();
    const listener = this.#listener;
    this.#listener = undefined;
    if (listener !== undefined) await new Promise<void>((resolve) => listener.close(() => resolve()));
  }
}
