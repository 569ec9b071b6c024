// An actuator without hardware, for the simulator build (its IO manifests have no Digital or
// PWM) and for tests: it keeps the level it was given and reports each change.
import type { ActuatorOutput } from "./actuator-output.js";

export interface SimulatedActuatorOptions {
  readonly kind: "digital" | "pwm";
  /** Told every level written (e.g. to draw it or log it). */
  readonly onWrite?: (level: number) => void;
}

export class SimulatedActuator implements ActuatorOutput {
  readonly kind: "digital" | "pwm";
  #level: number | undefined;
  #writes = 0;
  #onWrite: ((level: number) => void) | undefined;
  #closed = false;

  constructor(options: SimulatedActuatorOptions) {
    this.kind = options.kind;
    this.#onWrite = options.onWrite;
  }

  /** The last level written, undefined before the first write. */
  get level(): number | undefined {
    return this.#level;
  }

  get writes(): number {
    return this.#writes;
  }

  /** Digital takes 0 or 1, PWM a duty cycle in [0, 1]; anything else is a caller bug and throws. */
  write(level: number): void {
    if (this.#closed) throw new Error("simulated actuator: closed");
    const valid =
      this.kind === "digital" ? level === 0 || level === 1 : Number.isFinite(level) && level >= 0 && level <= 1;
    if (!valid) throw new RangeError(`simulated ${this.kind} actuator: level ${level} out of range`);
    this.#level = level;
    this.#writes++;
    this.#onWrite?.(level);
  }

  close(): void {
    this.#closed = true;
    this.#onWrite = undefined;
  }
}
