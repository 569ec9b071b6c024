// The `memory` setting: every period, a forced collection and one log line with the SDK's own
// heap figures (modules/base/instrumentation): the XS slot heap and chunk heap in use, the keys
// made at run time, the deepest the stack has been, and where the target has it the system's
// free memory (the ESP32's 8-bit-capable heap; the simulator has none). Slots are 16 bytes on
// the ESP32 and 32 in the simulator on a 64-bit host. The instrumentation answers only in debug
// (-d) and instrumented (-i) builds; in a release build one line says so and nothing is traced.
import Debug from "debug";
import Instrumentation from "instrumentation";
import Timer from "timer";
import type { LogSink } from "../kernel/log.js";

export interface MemoryTraceOptions {
  readonly periodMs: number;
  readonly log: LogSink;
}

/** Traces once now and then every period; returns the function that stops it. */
export function startMemoryTrace(options: MemoryTraceOptions): () => void {
  const slots = Instrumentation.map("XS Slot Heap Used");
  const chunks = Instrumentation.map("XS Chunk Heap Used");
  if (Instrumentation.get(slots) === undefined) {
    options.log("info", "memory: the SDK's instrumentation answers only in debug (-d) and instrumented (-i) builds");
    return () => undefined;
  }
  const keys = Instrumentation.map("XS Keys Used");
  const stack = Instrumentation.map("XS Stack Used");
  const free = Instrumentation.map("System Free Memory");
  const trace = (): void => {
    Debug.gc();
    const systemFree = Instrumentation.get(free) ?? 0;
    options.log(
      "info",
      `memory: slots ${Instrumentation.get(slots)} B, chunks ${Instrumentation.get(chunks)} B, keys ${Instrumentation.get(keys)}, stack peak ${Instrumentation.get(stack)} B${systemFree > 0 ? `, system free ${systemFree} B` : ""}`,
    );
  };
  trace();
  const timer = Timer.repeat(trace, options.periodMs);
  return () => Timer.clear(timer);
}
