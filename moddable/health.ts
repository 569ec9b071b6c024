// The figures of device.health that only the target has (device/health-report.ts): the XS heap
// in use, slots and chunks, from the SDK's instrumentation, which debug and instrumented builds
// have (a release build answers undefined, and the field is left out), and the Wi-Fi signal from
// Net.get("RSSI") (the ESP32 while associated; the simulator answers undefined).
import Instrumentation from "instrumentation";
import Net from "net";
import type { TargetHealth } from "../device/health-report.js";

export function readTargetHealth(): TargetHealth {
  const slots = Instrumentation.get(Instrumentation.map("XS Slot Heap Used"));
  const chunks = Instrumentation.get(Instrumentation.map("XS Chunk Heap Used"));
  const rssi: unknown = Net.get("RSSI");
  return {
    heap: typeof slots === "number" && typeof chunks === "number" ? slots + chunks : undefined,
    rssi: typeof rssi === "number" ? rssi : undefined,
  };
}
