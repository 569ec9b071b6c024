// Durations on the local platform's command line, in the device's grammar (device/config-values.ts
// parseDuration): a number with a unit (`500ms`, `10s`, `2m`, `1h`, any case) or a bare number of
// milliseconds. Written out again here because the platform imports nothing from the device core;
// test/node/emulator-units.test.ts runs both over the same inputs so the two cannot drift apart.

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS: Readonly<Record<string, number>> = Object.freeze({ ms: 1, s: 1_000, m: 60_000, h: 3_600_000 });

/** Whole milliseconds, or undefined for anything else (a bad form, a fraction of a millisecond). */
export function parseDurationMs(text: string): number | undefined {
  const match = DURATION.exec(text.trim().toLowerCase());
  if (match === null) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] ?? "ms"]!;
  return Number.isSafeInteger(ms) ? ms : undefined;
}
