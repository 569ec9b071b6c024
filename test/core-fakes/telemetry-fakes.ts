// Fakes for the telemetry specs: a batch sink the test answers by hand, a settable wall clock,
// a sensor driven by a function, and a log that keeps its lines. Portable (Node and XS).
import type { LogSink } from "../../kernel/log.js";
import { utf8Length } from "../../kernel/utf8.js";
import type { WallClock } from "../../kernel/wall-clock.js";
import type { BatchAttempt, BatchOutcome, BatchSink, BatchValue } from "../../sensors/batch-sink.js";
import type { Sensor } from "../../sensors/sensor.js";

/** One send() call, pending until the test answers it. */
export interface SinkCall {
  readonly values: readonly BatchValue[];
  readonly previous: BatchAttempt | undefined;
  /** Clock time of the call. */
  readonly at: number;
  answer(outcome: BatchOutcome): void;
  readonly answered: boolean;
}

/**
 * Records every send(). Each call stays pending until answered, either by the test
 * (`calls[i].answer(...)`) or at once by `autoAnswer` when it is set.
 */
export class FakeBatchSink implements BatchSink {
  readonly calls: SinkCall[] = [];
  autoAnswer: ((values: readonly BatchValue[], previous: BatchAttempt | undefined) => BatchOutcome) | undefined;
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  send(values: readonly BatchValue[], previous?: BatchAttempt): Promise<BatchOutcome> {
    return new Promise((resolve) => {
      let answered = false;
      const call: SinkCall = {
        values,
        previous,
        at: this.#now(),
        answer(outcome: BatchOutcome) {
          if (answered) throw new Error("fake sink: call answered twice");
          answered = true;
          resolve(outcome);
        },
        get answered() {
          return answered;
        },
      };
      this.calls.push(call);
      if (this.autoAnswer !== undefined) call.answer(this.autoAnswer(values, previous));
    });
  }

  get last(): SinkCall {
    const call = this.calls[this.calls.length - 1];
    if (call === undefined) throw new Error("fake sink: no call yet");
    return call;
  }

  /** Calls still waiting for an answer. */
  get pending(): number {
    return this.calls.filter((c) => !c.answered).length;
  }
}

/** "YYYYMMDDHHmmss" by another route than the code under test (toISOString). */
export function isoCompact(utcMs: number): string {
  return new Date(utcMs).toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/** The write body for `values` built independently of sensors/batch-payload.ts. */
export function independentPayload(values: readonly BatchValue[]): string {
  return JSON.stringify({
    values: values.map((v) =>
      v.datetime === undefined
        ? { key: v.key, value: v.value }
        : { key: v.key, value: v.value, datetime: isoCompact(v.datetime) },
    ),
  });
}

export function payloadSize(values: readonly BatchValue[]): number {
  return utf8Length(independentPayload(values));
}

export class SettableWallClock implements WallClock {
  utc: number | undefined;

  constructor(utc?: number) {
    this.utc = utc;
  }

  utcNow(): number | undefined {
    return this.utc;
  }
}

/** A sensor whose sample() is whatever the test says; counts its calls. */
export class ScriptedSensor implements Sensor {
  samples = 0;
  /** Called with the number of earlier samples; may be swapped mid-test. */
  produce: (n: number) => unknown;

  constructor(produce: (n: number) => unknown) {
    this.produce = produce;
  }

  sample(): unknown {
    return this.produce(this.samples++);
  }
}

export interface LogLine {
  readonly level: string;
  readonly message: string;
}

export function collectingLog(): { readonly lines: LogLine[]; readonly log: LogSink } {
  const lines: LogLine[] = [];
  return { lines, log: (level, message) => lines.push({ level, message }) };
}
