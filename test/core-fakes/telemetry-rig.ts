// A Telemetry wired to fakes: fake clock, fake sink, settable wall clock, scripted sensor.
import type { ConnectivitySource } from "../../kernel/connectivity.js";
import type { PageStore } from "../../kernel/page-store.js";
import type { RandomSource } from "../../kernel/random.js";
import type { SensorBinding } from "../../sensors/sensor-binding.js";
import { Telemetry } from "../../sensors/telemetry.js";
import type { TelemetrySettings } from "../../sensors/telemetry-config.js";
import { FakeClock } from "../sim/fake-clock.js";
import { ConstantRandom } from "../sim/seeded-random.js";
import { collectingLog, FakeBatchSink, type LogLine, ScriptedSensor, SettableWallClock } from "./telemetry-fakes.js";

/** 2024-05-06T07:08:09Z. */
export const SOME_UTC = Date.UTC(2024, 4, 6, 7, 8, 9);

export interface RigOptions {
  readonly config?: TelemetrySettings;
  /** Defaults to one scripted sensor: {temperature: n} (n: samples taken before) bound to key "temperature". */
  readonly bindings?: (sensor: ScriptedSensor) => readonly SensorBinding[];
  /** The wall clock at the start (default SOME_UTC; undefined: not set). It moves with the fake clock. */
  readonly utc?: number | undefined;
  readonly random?: RandomSource;
  /** Flash for the outbox (the same store again after a "reboot": a new rig on it). */
  readonly pages?: PageStore;
  readonly connectivity?: ConnectivitySource;
  /** The monotonic clock at the start (default 5000). */
  readonly startAt?: number;
}

export interface Rig {
  readonly clock: FakeClock;
  readonly sink: FakeBatchSink;
  readonly wall: SettableWallClock;
  readonly sensor: ScriptedSensor;
  readonly lines: LogLine[];
  readonly telemetry: Telemetry;
}

/** A wall clock that, once set, advances with the fake clock. */
class FollowingWallClock extends SettableWallClock {
  readonly #clock: FakeClock;
  #setAt = 0;

  constructor(clock: FakeClock, utc: number | undefined) {
    super(utc);
    this.#clock = clock;
    this.#setAt = clock.now();
  }

  /** Sets the clock as SNTP would. */
  set(utc: number | undefined): void {
    this.utc = utc;
    this.#setAt = this.#clock.now();
  }

  override utcNow(): number | undefined {
    return this.utc === undefined ? undefined : this.utc + (this.#clock.now() - this.#setAt);
  }
}

export function makeRig(options: RigOptions = {}): Rig & { readonly wall: FollowingWallClock } {
  const clock = new FakeClock({ startAt: options.startAt ?? 5_000 });
  const sink = new FakeBatchSink(() => clock.now());
  const wall = new FollowingWallClock(clock, "utc" in options ? options.utc : SOME_UTC);
  const { lines, log } = collectingLog();
  const sensor = new ScriptedSensor((n) => ({ temperature: n }));
  const bindings = options.bindings?.(sensor) ?? [{ sensor, readings: [{ path: "temperature", key: "temperature" }] }];
  const telemetry = new Telemetry({
    bindings,
    sink,
    clock,
    wallClock: wall,
    random: options.random ?? new ConstantRandom(0),
    log,
    config: options.config ?? {},
    pages: options.pages,
    connectivity: options.connectivity,
  });
  return { clock, sink, wall, sensor, lines, telemetry };
}
