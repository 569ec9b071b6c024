// The SDK's ESP32 resetReason module (build/devices/esp32/modules/resetReason), which neither
// the SDK's typings nor npm @moddable/typings declare; referenced by reset-reason.ts so that
// mcconfig's own tsc sees it too.
declare module "resetReason" {
  /** esp_reset_reason() and its name ("Power-On", "Software", …, "Invalid"). */
  export default function getResetReason(): { reason: number; string: string };
}
