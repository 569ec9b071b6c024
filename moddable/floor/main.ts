// The floor under the firmware's heap: an app built the way the firmware is (the app manifest's
// SDK manifests and creation settings) that runs the memory trace, one timer, and nothing else.
// What it traces is the SDK's own share: the firmware's figures less these are the device's. Built
// and run as the firmware is (moddable/README.md, "Memory"), from this folder:
// mcconfig -d -m -p lin -t build.
import { startMemoryTrace } from "moddable/memory-trace";

/** As the firmware's `memory=15s`. */
const PERIOD_MS = 15_000;

export default function main(): void {
  startMemoryTrace({ periodMs: PERIOD_MS, log: (_level, text) => trace(`${text}\n`) });
}
