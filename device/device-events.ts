// What the device tells its host (the Moddable app's trace, the PC runner's JSON lines), and
// its counters.
import type { EndpointStats } from "../coap/stats.js";
import type { TelemetryCounters } from "../sensors/telemetry.js";

export type DeviceEvent =
  | { readonly event: "activated"; readonly token: string }
  | { readonly event: "subscribed" }
  | { readonly event: "subscription-lost"; readonly reason: string }
  | { readonly event: "sent"; readonly count: number }
  | {
      readonly event: "command";
      readonly key: string;
      readonly value: unknown;
      readonly level: number;
      readonly source: string;
    }
  | { readonly event: "error"; readonly message: string }
  /** The setup page is open at `url`. */
  | { readonly event: "setup"; readonly url: string }
  /** Setup is over (done, or no longer needed). */
  | { readonly event: "setup-closed" };

export interface DeviceStats {
  readonly sampled: number;
  readonly sent: number;
  readonly buffered: number;
  readonly dropped: number;
  readonly retransmissions: number;
  readonly telemetry: TelemetryCounters;
  readonly endpoint: EndpointStats | undefined;
}
