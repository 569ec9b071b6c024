// device.health, every healthInterval (0: never): how the device is doing, in the manner of
// Tasmota's STATE and ESPHome's debug component. Each report rides with the batches like the
// readings (not urgent: it adds no write of its own) and the newest replaces one still waiting.
// Fields the target cannot measure are left out, never faked: the XS heap where the build has
// instrumentation (a Moddable debug or instrumented build), RSSI where there is Wi-Fi.
import type { Clock, TimerHandle } from "../kernel/clock.js";
import type { LogSink } from "../kernel/log.js";
import type { JsonObjectValue } from "../thethings/values.js";

/** What only the target can measure; a field it cannot is absent. */
export interface TargetHealth {
  /** Bytes of the XS heap in use (slots and chunks). */
  readonly heap?: number;
  /** The Wi-Fi signal of the access point, dBm. */
  readonly rssi?: number;
}

/** The target's health port (moddable/health.ts on Moddable; none on the PC, which runs on V8). */
export type ReadTargetHealth = () => TargetHealth;

/** The device's own counters for the report. */
export interface HealthCounters {
  /** CoAP retransmissions since boot (the endpoint's). */
  readonly retransmissions: number;
  /** Values dropped by the full buffer since boot. */
  readonly dropped: number;
  /** Values waiting now, the batch in flight included. */
  readonly buffered: number;
}

/** What the report asks of the device: methods of one object (the Device's hooks), not closures kept with it. */
export interface HealthHost {
  healthCounters(): HealthCounters;
  /** Writes device.health (Telemetry.report); returns why it could not be queued, or undefined. */
  reportHealth(value: JsonObjectValue): string | undefined;
}

export interface HealthReporterOptions {
  readonly clock: Clock;
  readonly log: LogSink;
  /** The first period; 0: no reports until setInterval() gives one. */
  readonly intervalMs: number;
  readonly host: HealthHost;
  readonly readTarget?: ReadTargetHealth;
}

/** The most negative RSSI a radio reports (int8 on the ESP32). */
const MIN_RSSI = -128;

export class HealthReporter {
  readonly #options: HealthReporterOptions;
  #intervalMs: number;
  #startedAt = 0;
  #started = false;
  #timer: TimerHandle | undefined;
  #closed = false;

  constructor(options: HealthReporterOptions) {
    this.#options = options;
    this.#intervalMs = options.intervalMs;
  }

  /** Counts uptime from now; the first report comes one interval later. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#startedAt = this.#options.clock.now();
    this.schedule();
  }

  /** A new period, counted from now; 0 stops the reports. */
  setInterval(intervalMs: number): void {
    this.#intervalMs = intervalMs;
    if (this.#started) this.schedule();
  }

  /** What device.health carries now. */
  snapshot(): JsonObjectValue {
    const { clock, host, readTarget } = this.#options;
    const body: Record<string, number> = { uptime: Math.floor((clock.now() - this.#startedAt) / 1000) };
    let target: TargetHealth = {};
    try {
      target = readTarget?.() ?? {};
    } catch (error) {
      this.#options.log("debug", `health: the target's figures failed: ${String(error)}`);
    }
    if (Number.isSafeInteger(target.heap) && target.heap! >= 0) body.heap = target.heap!;
    if (Number.isSafeInteger(target.rssi) && target.rssi! >= MIN_RSSI && target.rssi! <= 0) body.rssi = target.rssi!;
    const { retransmissions, dropped, buffered } = host.healthCounters();
    body.retransmissions = retransmissions;
    body.dropped = dropped;
    body.buffered = buffered;
    return body;
  }

  close(): void {
    this.#closed = true;
    this.cancel();
  }

  private cancel(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  private schedule(): void {
    this.cancel();
    if (this.#closed || this.#intervalMs === 0) return;
    this.#timer = this.#options.clock.setTimer(() => {
      this.#timer = undefined;
      this.schedule();
      const problem = this.#options.host.reportHealth(this.snapshot());
      if (problem !== undefined) this.#options.log("warn", `device.health not reported: ${problem}`);
    }, this.#intervalMs);
  }
}
