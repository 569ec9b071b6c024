// The ports of the device core (provisioning, telemetry, commands). Adapters: moddable/ for the
// board and simulator, host/ for the PC. Sensors and outputs are opened through the target's
// BoardIo (board-io.ts).

/** Small persistent key/value storage (Moddable Preference: keys ≤ 15 characters, values ≤ 4000 bytes). */
export interface KeyValueStore {
  read(key: string): string | undefined;
  write(key: string, value: string): void;
  remove(key: string): void;
}

/** Wall-clock UTC time, unknown until set (SNTP on the board). */
export interface WallClock {
  /** Milliseconds since 1970-01-01 UTC, or undefined while the clock is not set. */
  utcNow(): number | undefined;
}

/** An ECMA-419 sensor (Sensor Class Pattern): sample() returns an object of readings. */
export interface Sensor {
  sample(): unknown;
  close?(): void;
}

/** An output the platform can command: ECMA-419 Digital, PWM, or a simulated one. */
export interface ActuatorOutput {
  /** "digital" takes 0 or 1; "pwm" takes a duty cycle in [0, 1]. */
  readonly kind: "digital" | "pwm";
  write(level: number): void;
  close?(): void;
}
