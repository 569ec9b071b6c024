// Why the ESP32 last started, from the SDK's resetReason module (included by
// moddable/manifest_esp32.json), as device.boot's stable name (device/reset-reason.ts).
/// <reference path="./reset-reason.d.ts" />
import getResetReason from "resetReason";
import { resetReasonName } from "../../device/reset-reason.js";

export function readResetReason(): string {
  try {
    return resetReasonName(getResetReason().string);
  } catch {
    return "unknown";
  }
}
