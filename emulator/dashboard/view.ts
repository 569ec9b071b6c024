// What the dashboard reads from the platform and does to it, without HTTP: things, keys, history,
// writes and activation codes. Reads go through the platform's read path and writes through its
// write path (handlers.ts), the same functions a CoAP client's requests reach. Things are named by
// their id; a token leaves this module only as its first four characters.
import { PlatformError } from "../errors.js";
import { redactToken } from "../events.js";
import { type PlatformContext, readResource, storeWrite } from "../handlers.js";
import type { StoredValue } from "../store.js";
import { ONLINE_GRACE_MS } from "../subscriptions.js";
import { CSV_HEADER, csvRow, type History, MAX_CSV_ROWS, readHistory } from "./history.js";
import { BOOT_KEY, type Output, parseOutputs } from "./outputs.js";
import { readPages } from "./pages.js";

/** Things listed, at most (the oldest first). */
export const MAX_THINGS_LISTED = 500;
/** Keys listed per thing, at most (in code-point order). */
export const MAX_KEYS_LISTED = 200;
/** Activation codes listed, at most (the oldest first). */
export const MAX_CODES_LISTED = 500;

export interface ThingSummary {
  readonly id: number;
  /** The token's first four characters. */
  readonly token: string;
  readonly activatedAt: number;
  /** Null when not heard from since the platform started. */
  readonly lastHeardAt: number | null;
  readonly online: boolean;
  readonly subscriptions: number;
  /** When one of its subscriptions was last acknowledged; null without a subscription. */
  readonly acknowledgedAt: number | null;
  readonly values: number;
}

export interface KeySummary {
  readonly key: string;
  readonly count: number;
  /** The latest value (as JSON holds it) and its datetime in milliseconds. */
  readonly latest: { readonly value: unknown; readonly datetime: number } | null;
}

export interface ThingKeys {
  readonly keys: readonly KeySummary[];
  /** Whether the thing has more keys than MAX_KEYS_LISTED. */
  readonly more: boolean;
  /** The outputs its latest device.boot declares. */
  readonly outputs: readonly Output[];
}

export interface CodeSummary {
  readonly code: string;
  readonly used: boolean;
  /** The thing it activated, or null. */
  readonly thing: number | null;
}

/** The online rule as the page states it. */
export const ONLINE_RULE =
  `online: one of its subscriptions was acknowledged (registered, or an ACK to a keep-alive or ` +
  `notification) within its keepAlive + ${ONLINE_GRACE_MS / 1000} s`;

export interface PlatformViewOptions {
  readonly ctx: PlatformContext;
  /** Makes an activation code and returns it. */
  readonly addActivationCode: () => string;
}

export class PlatformView {
  readonly #ctx: PlatformContext;
  readonly #addActivationCode: () => string;

  constructor(options: PlatformViewOptions) {
    this.#ctx = options.ctx;
    this.#addActivationCode = options.addActivationCode;
  }

  now(): number {
    return this.#ctx.now();
  }

  things(): ThingSummary[] {
    const ctx = this.#ctx;
    return ctx.store.things(MAX_THINGS_LISTED).map((row) => {
      const status = ctx.subscriptions.status(row.id);
      return {
        id: row.id,
        token: row.token.slice(0, 4),
        activatedAt: row.createdAt,
        lastHeardAt: ctx.activity.lastHeard(row.id) ?? null,
        online: status.online,
        subscriptions: status.count,
        acknowledgedAt: status.acknowledgedAt ?? null,
        values: ctx.activity.valueCount(row.id),
      };
    });
  }

  /** Whether a thing has this id. */
  has(thing: number): boolean {
    return this.#ctx.store.thing(thing) !== undefined;
  }

  /** Its keys with counts and latest values, and its outputs; undefined for an unknown thing. */
  keys(thing: number): ThingKeys | undefined {
    if (!this.has(thing)) return undefined;
    const counts = this.#ctx.store.keys(thing, MAX_KEYS_LISTED + 1);
    let outputs: Output[] = [];
    const keys = counts.slice(0, MAX_KEYS_LISTED).map(({ key, count }) => {
      const [latest] = this.#latest(thing, key);
      if (key === BOOT_KEY && latest !== undefined) outputs = parseOutputs(latest.value);
      return {
        key,
        count,
        latest: latest === undefined ? null : { value: JSON.parse(latest.value) as unknown, datetime: latest.datetime },
      };
    });
    // device.boot may sort past the listed keys; its declaration counts all the same.
    if (counts.length > MAX_KEYS_LISTED && !keys.some((k) => k.key === BOOT_KEY)) {
      const [boot] = this.#latest(thing, BOOT_KEY);
      if (boot !== undefined) outputs = parseOutputs(boot.value);
    }
    return { keys, more: counts.length > MAX_KEYS_LISTED, outputs };
  }

  /** Whether the thing has a value of this key. */
  hasKey(thing: number, key: string): boolean {
    return this.#ctx.store.hasKey(thing, key);
  }

  /** A chart's series of a key over a window (see history.ts). The key must exist. */
  history(thing: number, key: string, window: string, cancelled?: () => boolean): Promise<History> {
    return readHistory({
      read: (query) => readResource(this.#ctx, thing, key, query),
      key,
      window,
      now: this.#ctx.now(),
      ...(cancelled === undefined ? {} : { cancelled }),
    });
  }

  /**
   * A key's values from `startDate` on as CSV, newest first, in chunks to `write`, which may wait
   * (backpressure). At most MAX_CSV_ROWS rows.
   */
  async csv(
    thing: number,
    key: string,
    startDate: number,
    write: (chunk: string) => void | Promise<void>,
    cancelled?: () => boolean,
  ): Promise<void> {
    await write(CSV_HEADER);
    await readPages((query) => readResource(this.#ctx, thing, key, query), {
      startDate,
      maxValues: MAX_CSV_ROWS,
      ...(cancelled === undefined ? {} : { cancelled }),
      visit: (values) => write(values.map(csvRow).join("")),
    });
  }

  /**
   * Writes to the thing through the platform's write path: `body` as a CoAP write's body,
   * `{"values": [...]}`. Stored values reach the thing's subscribers as any write does. Throws
   * PlatformError for a body the platform refuses, or a thing that does not exist.
   */
  write(thing: number, body: Record<string, unknown>, from: string): void {
    const row = this.#ctx.store.thing(thing);
    if (row === undefined) throw new PlatformError("4.04", "Thing not found");
    storeWrite(this.#ctx, { thing, label: redactToken(row.token), from }, body, () => {});
  }

  codes(): CodeSummary[] {
    return this.#ctx.store
      .activationCodes(MAX_CODES_LISTED)
      .map((row) => ({ code: row.code, used: row.thing !== null, thing: row.thing }));
  }

  newCode(): string {
    return this.#addActivationCode();
  }

  #latest(thing: number, key: string): StoredValue[] {
    return readResource(this.#ctx, thing, key, new Map([["limit", "1"]]));
  }
}
