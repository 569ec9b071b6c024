// UTC time for value datetimes. On the board Date starts near 1970 and only becomes real once
// SNTP (config.sntp, moddable/esp32/clock-sync.ts) has set it; in the simulator it is the host
// clock. Until it is plausible the port says "unknown", and the core sends values without a
// datetime rather than stamping them 1970.
import type { WallClock } from "../wall-clock.js";

export class SystemWallClock implements WallClock {
  /** 2020-01-01T00:00:00Z: no clock set by SNTP reads earlier than this firmware. */
  static readonly EARLIEST_VALID_MS = 1_577_836_800_000;

  utcNow(): number | undefined {
    const now = Date.now();
    return now >= SystemWallClock.EARLIEST_VALID_MS ? now : undefined;
  }
}
