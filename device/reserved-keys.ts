// The keys the device keeps for itself on its thing. Everything written to the thing comes back
// on the subscription, so a sensor or an output on one of these would feed the device's own
// reports into its settings or its outputs: the configuration refuses them (config.ts).

/** Every boot: the firmware, why the board started, the outputs (app.ts). */
export const BOOT_REPORT_KEY = "device.boot";
/** Every healthInterval: uptime, heap, RSSI, the link's and the buffer's counters (health-report.ts). */
export const HEALTH_REPORT_KEY = "device.health";
/** After settings were applied or refused: the effective settings and the errors (settings-service.ts). */
export const SETTINGS_REPORT_KEY = "device.settings";

export const REPORT_KEYS: readonly string[] = Object.freeze([BOOT_REPORT_KEY, HEALTH_REPORT_KEY, SETTINGS_REPORT_KEY]);

/** Values written to the thing on `settings.NAME` are device settings (settable-settings.ts). */
export const SETTINGS_PREFIX = "settings.";

/** Why a sensor reading or an output may not use `key`, or undefined when it may. */
export function reservedKeyProblem(key: string, droppedKey: string): string | undefined {
  if (key === droppedKey) return "is reserved for drop reports";
  if (REPORT_KEYS.includes(key)) return "is reserved for the device's own reports";
  if (key.startsWith(SETTINGS_PREFIX)) return `is reserved: ${SETTINGS_PREFIX}* keys are device settings`;
  return undefined;
}
