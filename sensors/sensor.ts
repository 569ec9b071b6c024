// The sensor port: an ECMA-419 sensor (Sensor Class Pattern), a simulated one, or a test fake.
// Opened by the target's board IO (device/board-io.ts) and bound to keys by sensor-binding.ts.

/** An ECMA-419 sensor (Sensor Class Pattern): sample() returns an object of readings. */
export interface Sensor {
  sample(): unknown;
  close?(): void;
}
