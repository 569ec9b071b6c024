// The output port the platform's commands drive: ECMA-419 Digital or PWM on the board
// (moddable/esp32/), a simulated output in the simulator and on the PC.

/** An output the platform can command: ECMA-419 Digital, PWM, or a simulated one. */
export interface ActuatorOutput {
  /** "digital" takes 0 or 1; "pwm" takes a duty cycle in [0, 1]. */
  readonly kind: "digital" | "pwm";
  write(level: number): void;
  close?(): void;
}
