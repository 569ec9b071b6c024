// Things, activation codes and values in SQLite (better-sqlite3, synchronous). A file path keeps
// them across restarts; ":memory:" keeps them for the life of the process.
import Database, { type Connection, type Statement } from "better-sqlite3";
import type { Geo } from "./validate.js";

/** A value as stored: `value` is its JSON text, `datetime` milliseconds since the epoch. */
export interface StoredValue {
  key: string;
  value: string;
  datetime: number;
  geo?: Geo;
}

/** What makes a request the same request again (RFC 7252 §4.5): its sender, message ID and token. */
export interface WriteRequestKey {
  peer: string;
  messageId: number;
  token: string;
}

export interface ReadRange {
  limit: number;
  startDate: number;
  endDate: number;
}

/** A thing as the dashboard lists it. The token stays on the platform's side of the dashboard API. */
export interface ThingRow {
  id: number;
  token: string;
  /** When it was activated, milliseconds since the epoch. */
  createdAt: number;
}

export interface KeyCount {
  key: string;
  count: number;
}

export interface ActivationCodeRow {
  code: string;
  /** The thing it activated; null while it is unused. */
  thing: number | null;
}

// user_version tells a later schema which one a file holds.
const SCHEMA_VERSION = 1;
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS things (
    id INTEGER PRIMARY KEY,
    token TEXT NOT NULL UNIQUE,
    product_id TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS activation_codes (
    code TEXT PRIMARY KEY,
    thing INTEGER REFERENCES things(id)
  );
  CREATE TABLE IF NOT EXISTS thing_values (
    id INTEGER PRIMARY KEY,
    thing INTEGER NOT NULL REFERENCES things(id),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    datetime INTEGER NOT NULL,
    geo_lat REAL,
    geo_long REAL
  );
  CREATE INDEX IF NOT EXISTS thing_values_by_key_and_date ON thing_values (thing, key, datetime);
  CREATE TABLE IF NOT EXISTS recent_writes (
    peer TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    token TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (peer, message_id, token)
  );
  CREATE INDEX IF NOT EXISTS recent_writes_by_age ON recent_writes (at);
`;

interface ValueRow {
  key: string;
  value: string;
  datetime: number;
  geo_lat: number | null;
  geo_long: number | null;
}

export class Store {
  readonly #db: Connection;
  readonly #insertCode: Statement;
  readonly #codeByName: Statement;
  readonly #insertThing: Statement;
  readonly #useCode: Statement;
  readonly #thingByToken: Statement;
  readonly #insertValue: Statement;
  readonly #readValues: Statement;
  readonly #hasKey: Statement;
  readonly #things: Statement;
  readonly #thingById: Statement;
  readonly #valueCounts: Statement;
  readonly #keyCounts: Statement;
  readonly #codes: Statement;
  readonly #activate: (code: string, productId: string | undefined, token: string, now: number) => boolean;
  readonly #write: (thing: number, values: readonly StoredValue[]) => void;
  readonly #writeOnce: (
    thing: number,
    values: readonly StoredValue[],
    request: WriteRequestKey,
    now: number,
    lifetimeMs: number,
  ) => boolean;

  constructor(path: string) {
    this.#db = new Database(path);
    // WAL with NORMAL sync: a crash may lose the last writes but never corrupts the file, and
    // writes do not wait for an fsync each, which the load test needs.
    this.#db.pragma("journal_mode = WAL");
    this.#db.pragma("synchronous = NORMAL");
    this.#db.pragma("foreign_keys = ON");
    const version = this.#db.pragma("user_version", { simple: true });
    if (version !== 0 && version !== SCHEMA_VERSION) {
      this.#db.close();
      throw new Error(`${path} has schema version ${String(version)}; this platform knows ${SCHEMA_VERSION}`);
    }
    this.#db.exec(SCHEMA);
    this.#db.pragma(`user_version = ${SCHEMA_VERSION}`);

    this.#insertCode = this.#db.prepare("INSERT OR IGNORE INTO activation_codes (code) VALUES (?)");
    this.#codeByName = this.#db.prepare("SELECT thing FROM activation_codes WHERE code = ?");
    this.#insertThing = this.#db.prepare("INSERT INTO things (token, product_id, created_at) VALUES (?, ?, ?)");
    this.#useCode = this.#db.prepare("UPDATE activation_codes SET thing = ? WHERE code = ?");
    this.#thingByToken = this.#db.prepare("SELECT id FROM things WHERE token = ?");
    this.#insertValue = this.#db.prepare(
      "INSERT INTO thing_values (thing, key, value, datetime, geo_lat, geo_long) VALUES (?, ?, ?, ?, ?, ?)",
    );
    // Newest first; among equal datetimes the later write first. The index holds the rowid after
    // (thing, key, datetime), so this is one backward index scan.
    this.#readValues = this.#db.prepare(
      `SELECT key, value, datetime, geo_lat, geo_long FROM thing_values
       WHERE thing = ? AND key = ? AND datetime BETWEEN ? AND ?
       ORDER BY datetime DESC, id DESC LIMIT ?`,
    );
    this.#hasKey = this.#db.prepare("SELECT 1 FROM thing_values WHERE thing = ? AND key = ? LIMIT 1");
    this.#things = this.#db.prepare("SELECT id, token, created_at AS createdAt FROM things ORDER BY id LIMIT ?");
    this.#thingById = this.#db.prepare("SELECT id, token, created_at AS createdAt FROM things WHERE id = ?");
    // Both counts walk the (thing, key, datetime) index, never the table.
    this.#valueCounts = this.#db.prepare("SELECT thing, COUNT(*) AS count FROM thing_values GROUP BY thing");
    this.#keyCounts = this.#db.prepare(
      "SELECT key, COUNT(*) AS count FROM thing_values WHERE thing = ? GROUP BY key ORDER BY key LIMIT ?",
    );
    this.#codes = this.#db.prepare("SELECT code, thing FROM activation_codes ORDER BY rowid LIMIT ?");

    this.#activate = this.#db.transaction((code: string, productId: string | undefined, token: string, now: number) => {
      const row = this.#codeByName.get(code) as { thing: number | null } | undefined;
      if (row === undefined || row.thing !== null) return false;
      const thing = this.#insertThing.run(token, productId ?? null, now).lastInsertRowid;
      this.#useCode.run(thing, code);
      return true;
    });
    this.#write = this.#db.transaction((thing: number, values: readonly StoredValue[]) => {
      for (const v of values) {
        this.#insertValue.run(thing, v.key, v.value, v.datetime, v.geo?.lat ?? null, v.geo?.long ?? null);
      }
    });
    const forgetOld = this.#db.prepare("DELETE FROM recent_writes WHERE at < ?");
    const remember = this.#db.prepare(
      "INSERT OR IGNORE INTO recent_writes (peer, message_id, token, at) VALUES (?, ?, ?, ?)",
    );
    this.#writeOnce = this.#db.transaction(
      (thing: number, values: readonly StoredValue[], request: WriteRequestKey, now: number, lifetimeMs: number) => {
        forgetOld.run(now - lifetimeMs);
        if (remember.run(request.peer, request.messageId, request.token, now).changes === 0) return false;
        this.#write(thing, values);
        return true;
      },
    );
  }

  /**
   * Stores the values unless the same request (peer, message ID, token) was stored within
   * `lifetimeMs`; false for such a duplicate. RFC 7252 §4.5 asks a server to process a message
   * once within EXCHANGE_LIFETIME; node-coap's cache does that in memory, and this record does it
   * across a restart too, where a client's retransmission would otherwise be stored twice.
   * Records older than the lifetime are deleted as new ones come, which bounds the table.
   */
  writeOnce(
    thing: number,
    values: readonly StoredValue[],
    request: WriteRequestKey,
    now: number,
    lifetimeMs: number,
  ): boolean {
    return this.#writeOnce(thing, values, request, now, lifetimeMs);
  }

  /** Makes `code` usable for one activation; a code already known (used or not) is left as it is. */
  addActivationCode(code: string): void {
    this.#insertCode.run(code);
  }

  /** Creates a thing with `token` if `code` exists and is unused; false otherwise. */
  activate(code: string, productId: string | undefined, token: string, now: number): boolean {
    return this.#activate(code, productId, token, now);
  }

  /** The thing's id, or undefined for a token no thing has. */
  thingId(token: string): number | undefined {
    const row = this.#thingByToken.get(token) as { id: number } | undefined;
    return row?.id;
  }

  /** Stores all values in one transaction: all or none. */
  write(thing: number, values: readonly StoredValue[]): void {
    this.#write(thing, values);
  }

  hasKey(thing: number, key: string): boolean {
    return this.#hasKey.get(thing, key) !== undefined;
  }

  /** Values of `key` within [startDate, endDate], newest first, at most `limit`. */
  read(thing: number, key: string, range: ReadRange): StoredValue[] {
    const rows = this.#readValues.all(thing, key, range.startDate, range.endDate, range.limit) as ValueRow[];
    return rows.map((r) => {
      const v: StoredValue = { key: r.key, value: r.value, datetime: r.datetime };
      if (r.geo_lat !== null && r.geo_long !== null) v.geo = { lat: r.geo_lat, long: r.geo_long };
      return v;
    });
  }

  /** The first `limit` things, oldest first. */
  things(limit: number): ThingRow[] {
    return this.#things.all(limit) as ThingRow[];
  }

  thing(id: number): ThingRow | undefined {
    return this.#thingById.get(id) as ThingRow | undefined;
  }

  /** How many values each thing holds; things without values are absent. */
  valueCounts(): Map<number, number> {
    const rows = this.#valueCounts.all() as { thing: number; count: number }[];
    return new Map(rows.map((r) => [r.thing, r.count]));
  }

  /** The thing's keys in code-point order with how many values each holds, at most `limit`. */
  keys(thing: number, limit: number): KeyCount[] {
    return this.#keyCounts.all(thing, limit) as KeyCount[];
  }

  /** The first `limit` activation codes, in the order they were added. */
  activationCodes(limit: number): ActivationCodeRow[] {
    return this.#codes.all(limit) as ActivationCodeRow[];
  }

  close(): void {
    this.#db.close();
  }
}
