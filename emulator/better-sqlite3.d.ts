// The part of better-sqlite3 (v12) that emulator/store.ts uses. The package ships no types and
// this subset is small enough not to add @types/better-sqlite3 as a dependency.
declare module "better-sqlite3" {
  interface RunResult {
    changes: number;
    lastInsertRowid: number | bigint;
  }
  interface Statement {
    run(...params: unknown[]): RunResult;
    get(...params: unknown[]): unknown;
    all(...params: unknown[]): unknown[];
  }
  interface Connection {
    prepare(sql: string): Statement;
    exec(sql: string): Connection;
    pragma(source: string, options?: { simple?: boolean }): unknown;
    transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
    close(): Connection;
  }
  const Database: new (filename: string) => Connection;

  export type { Connection, Statement };
  export default Database;
}
