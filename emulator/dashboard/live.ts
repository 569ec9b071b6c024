// Live updates to open pages as server-sent events (the WHATWG HTML standard's EventSource
// format). Each page watches at most one thing: it gets that thing's stored values, batched every
// flushMs, and everyone gets the things list and the activation codes whenever they change
// (looked at every snapshotMs). Bounded throughout: at most maxClients pages; a page whose
// unsent bytes would pass maxQueueBytes is dropped (it reconnects and reloads), never buffered
// without limit; at most MAX_PENDING_ITEMS values (and half a page's queue in bytes) wait per
// thing between two flushes, and past that the page is told to reload the history instead. No
// timer runs while no page is open, so the write path pays one map lookup per write when nobody
// watches.
import type { StoredValue } from "../store.js";

/** The part of a node:http ServerResponse the hub writes to. */
export interface LiveClient {
  write(chunk: string): boolean;
  readonly writableLength: number;
  destroy(): void;
}

export interface LiveSnapshots {
  /** The things list and the codes list, each as the JSON text the page receives. */
  things(): string;
  codes(): string;
}

export interface LiveHubOptions {
  readonly snapshots: LiveSnapshots;
  /** Pages at once, at most. Default 16. */
  readonly maxClients?: number;
  /** Unsent bytes per page, at most, before it is dropped. Default 256 KiB. */
  readonly maxQueueBytes?: number;
  /** How often values are sent. Default 250 ms. */
  readonly flushMs?: number;
  /** How often the lists are looked at. Default 1000 ms. */
  readonly snapshotMs?: number;
  /** How often an idle stream gets a comment line, so a dead connection is noticed. Default 15 s. */
  readonly heartbeatMs?: number;
}

export interface LiveStats {
  readonly clients: number;
  /** Pages dropped for falling behind. */
  readonly dropped: number;
  /** Pages refused because maxClients were open. */
  readonly refused: number;
}

/** Values waiting per watched thing between two flushes, at most. */
export const MAX_PENDING_ITEMS = 2_000;

interface Watcher {
  readonly client: LiveClient;
  readonly thing: number | undefined;
}

interface Pending {
  items: string[];
  bytes: number;
  overflow: boolean;
}

export class LiveHub {
  readonly #snapshots: LiveSnapshots;
  readonly #maxClients: number;
  readonly #maxQueueBytes: number;
  readonly #flushMs: number;
  readonly #snapshotEvery: number;
  readonly #heartbeatEvery: number;
  // At most maxClients watchers, so at most maxClients watched things and pending batches.
  readonly #watchers = new Map<LiveClient, Watcher>();
  readonly #watching = new Map<number, number>();
  readonly #pending = new Map<number, Pending>();
  #timer: NodeJS.Timeout | undefined;
  #ticks = 0;
  #things = "";
  #codes = "";
  #dropped = 0;
  #refused = 0;
  #closed = false;

  constructor(options: LiveHubOptions) {
    this.#snapshots = options.snapshots;
    this.#maxClients = options.maxClients ?? 16;
    this.#maxQueueBytes = options.maxQueueBytes ?? 256 * 1024;
    this.#flushMs = options.flushMs ?? 250;
    this.#snapshotEvery = Math.max(1, Math.round((options.snapshotMs ?? 1000) / this.#flushMs));
    this.#heartbeatEvery = Math.max(1, Math.round((options.heartbeatMs ?? 15_000) / this.#flushMs));
  }

  /** Whether one more page may open (fewer than maxClients are); counts a refusal if not. */
  hasRoom(): boolean {
    const room = !this.#closed && this.#watchers.size < this.#maxClients;
    if (!room) this.#refused++;
    return room;
  }

  /** Starts a page's stream with the current lists; false (nothing sent) without room. */
  open(client: LiveClient, thing: number | undefined): boolean {
    if (this.#closed || this.#watchers.size >= this.#maxClients) return false;
    this.#watchers.set(client, { client, thing });
    if (thing !== undefined) this.#watching.set(thing, (this.#watching.get(thing) ?? 0) + 1);
    if (this.#timer === undefined) {
      this.#things = this.#snapshots.things();
      this.#codes = this.#snapshots.codes();
      this.#timer = setInterval(() => this.#tick(), this.#flushMs);
    }
    this.#send(client, `retry: 2000\n\n${event("things", this.#things)}${event("codes", this.#codes)}`);
    return true;
  }

  /** The page went away. */
  remove(client: LiveClient): void {
    const watcher = this.#watchers.get(client);
    if (watcher === undefined) return;
    this.#watchers.delete(client);
    if (watcher.thing !== undefined) {
      const left = (this.#watching.get(watcher.thing) ?? 1) - 1;
      if (left > 0) this.#watching.set(watcher.thing, left);
      else {
        this.#watching.delete(watcher.thing);
        this.#pending.delete(watcher.thing);
      }
    }
    if (this.#watchers.size === 0) this.#stop();
  }

  /** The platform stored these values for the thing (PlatformContext.onStored). */
  stored(thing: number, values: readonly StoredValue[]): void {
    if (!this.#watching.has(thing)) return;
    let pending = this.#pending.get(thing);
    if (pending === undefined) {
      pending = { items: [], bytes: 0, overflow: false };
      this.#pending.set(thing, pending);
    }
    for (const v of values) {
      // The stored value is JSON text already; spliced in, not parsed again.
      const item = `{"key":${JSON.stringify(v.key)},"value":${v.value},"datetime":${v.datetime}}`;
      const bytes = Buffer.byteLength(item) + 1;
      if (pending.items.length === MAX_PENDING_ITEMS || pending.bytes + bytes > this.#maxQueueBytes / 2) {
        pending.overflow = true;
        break;
      }
      pending.items.push(item);
      pending.bytes += bytes;
    }
  }

  /** The lists changed (a code was made): send them at the next flush rather than the next look. */
  listsChanged(): void {
    this.#ticks = this.#snapshotEvery - 1;
  }

  clientCount(): number {
    return this.#watchers.size;
  }

  stats(): LiveStats {
    return { clients: this.#watchers.size, dropped: this.#dropped, refused: this.#refused };
  }

  /** Ends every stream; no page is taken after. Safe to call twice. */
  close(): void {
    this.#closed = true;
    for (const client of [...this.#watchers.keys()]) {
      this.remove(client);
      client.destroy();
    }
  }

  #tick(): void {
    this.#ticks++;
    for (const [thing, pending] of this.#pending) {
      const data = `{"thing":${thing},"items":[${pending.items.join(",")}],"overflow":${pending.overflow}}`;
      this.#broadcast(event("values", data), thing);
    }
    this.#pending.clear();
    if (this.#ticks % this.#snapshotEvery === 0) {
      const things = this.#snapshots.things();
      if (things !== this.#things) this.#broadcast(event("things", (this.#things = things)));
      const codes = this.#snapshots.codes();
      if (codes !== this.#codes) this.#broadcast(event("codes", (this.#codes = codes)));
    }
    if (this.#ticks % this.#heartbeatEvery === 0) this.#broadcast(": still here\n\n");
  }

  /** To every page, or to the pages watching `thing`. */
  #broadcast(text: string, thing?: number): void {
    for (const watcher of [...this.#watchers.values()]) {
      if (thing === undefined || watcher.thing === thing) this.#send(watcher.client, text);
    }
  }

  #send(client: LiveClient, text: string): void {
    if (client.writableLength + Buffer.byteLength(text) > this.#maxQueueBytes) {
      this.#dropped++;
      this.remove(client);
      client.destroy();
      return;
    }
    client.write(text);
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#pending.clear();
    this.#ticks = 0;
  }
}

function event(name: string, data: string): string {
  return `event: ${name}\ndata: ${data}\n\n`;
}
