// Why the board last started, as a stable lower-case name for device.boot. The ESP32's SDK
// module (build/devices/esp32/modules/resetReason) answers one of the strings below; anything
// else, or a target that cannot say (the simulator, the PC), is "unknown".

const NAMES: Readonly<Record<string, string>> = Object.freeze({
  "Power-On": "power-on",
  "External Pin": "external-pin",
  Software: "software",
  Panic: "panic",
  "Interrupt WDT": "interrupt-watchdog",
  "Task WDT": "task-watchdog",
  "Other WDT": "other-watchdog",
  "Deep Sleep": "deep-sleep",
  Brownout: "brownout",
  SDIO: "sdio",
});

export function resetReasonName(sdkString: unknown): string {
  return typeof sdkString === "string" && Object.hasOwn(NAMES, sdkString) ? NAMES[sdkString]! : "unknown";
}
