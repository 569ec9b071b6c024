// Opens the configured outputs and pairs each with the theThings.IO key that commands it. An
// output that fails to open (a pin the chip lacks, a PWM channel shortage) is logged and left
// out; commands for its key are then ignored as unknown.
import type { LogSink } from "../kernel/log.js";
import type { BoardIo } from "./board-io.js";
import type { ActuatorBinding } from "./commands.js";
import type { ActuatorSpec } from "./io-specs.js";

export interface OpenActuatorsOptions {
  readonly board: BoardIo;
  readonly log: LogSink;
}

export function openActuators(specs: readonly ActuatorSpec[], options: OpenActuatorsOptions): ActuatorBinding[] {
  const bindings: ActuatorBinding[] = [];
  for (const spec of specs) {
    try {
      bindings.push(Object.freeze({ key: spec.key, output: options.board.openActuator(spec, options.log) }));
      options.log("info", `actuator ${spec.key}: ${spec.kind} pin ${spec.pin} on ${options.board.name}`);
    } catch (error) {
      options.log(
        "error",
        `actuator ${spec.entry}: ${error instanceof Error ? error.message : String(error)}; left out`,
      );
    }
  }
  return bindings;
}
