// Helpers for the end-to-end tests: a local platform on a SQLite file that can be stopped and
// started again on the same port, a device on Node adapters, and waiting for events.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { request } from "coap";
import type { DeviceEvent } from "../../device/app.js";
import type { PlatformEvent } from "../../emulator/events.js";
import { type Platform, startPlatform } from "../../emulator/server.js";
import { type RunDeviceOptions, type RunningDevice, runDevice } from "../../host/run-device.js";

export interface TimedEvent<T> {
  readonly at: number;
  readonly event: T;
}

/** A platform whose database outlives it, so it can be restarted on the same port. */
export class RestartablePlatform {
  readonly dir = mkdtempSync(join(tmpdir(), "e2e-platform-"));
  readonly dbPath = join(this.dir, "platform.sqlite");
  readonly events: TimedEvent<PlatformEvent>[] = [];
  #platform: Platform | undefined;
  #port = 0;
  readonly #codes: readonly string[];

  constructor(codes: readonly string[]) {
    this.#codes = codes;
  }

  get port(): number {
    return this.#port;
  }

  /** Starts (again) on its port, or on `port` the first time (e.g. to take over another platform's). */
  async start(port = this.#port): Promise<void> {
    this.#platform = await startPlatform({
      port,
      dbPath: this.dbPath,
      activationCodes: this.#codes,
      log: (event) => this.events.push({ at: Date.now(), event }),
    });
    this.#port = this.#platform.port;
  }

  async stop(): Promise<void> {
    await this.#platform?.stop();
    this.#platform = undefined;
  }

  /** Every stored value of every thing, read straight from the platform's database. */
  storedValues(): { key: string; value: string; datetime: number }[] {
    const db = new Database(this.dbPath);
    try {
      return db.prepare("SELECT key, value, datetime FROM thing_values ORDER BY id").all() as {
        key: string;
        value: string;
        datetime: number;
      }[];
    } finally {
      db.close();
    }
  }

  count(kind: PlatformEvent["event"]): number {
    return this.events.filter((e) => e.event.event === kind).length;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class DeviceUnderTest {
  readonly events: TimedEvent<DeviceEvent>[] = [];
  readonly logs: string[] = [];
  /** The same lines with the time each was logged. */
  readonly timedLogs: TimedEvent<string>[] = [];
  running: RunningDevice | undefined;
  readonly stateDir: string;

  constructor(stateDir = mkdtempSync(join(tmpdir(), "e2e-device-"))) {
    this.stateDir = stateDir;
  }

  /** `extra` passes endpoint settings (e.g. shorter ACK timeouts) or replacement sensors through to runDevice. */
  async start(
    settings: Record<string, string>,
    extra: Pick<RunDeviceOptions, "endpoint" | "sensors"> = {},
  ): Promise<void> {
    this.running = await runDevice({
      ...extra,
      settings,
      stateDir: this.stateDir,
      log: (level, message) => {
        const line = `[${level}] ${message}`;
        this.logs.push(line);
        this.timedLogs.push({ at: Date.now(), event: line });
      },
      onEvent: (event) => this.events.push({ at: Date.now(), event }),
    });
  }

  stop(): void {
    this.running?.stop();
    this.running = undefined;
  }

  count(kind: DeviceEvent["event"]): number {
    return this.events.filter((e) => e.event.event === kind).length;
  }

  dispose(): void {
    this.stop();
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}

/** Polls `condition` every 20 ms; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Writes values to a thing as another client would, through node-coap (not our stack). */
export function writeAsAnotherClient(port: number, token: string, values: readonly object[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ hostname: "127.0.0.1", port, pathname: `/v2/things/${token}`, method: "POST" });
    req.setOption("Content-Format", "application/json");
    req.on("response", (res: { code: string }) => resolve(res.code));
    req.on("error", reject);
    req.end(JSON.stringify({ values }));
  });
}
