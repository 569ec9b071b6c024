// Link state for the composition: when the network comes back the server is looked up again and
// the endpoint's exchanges can be retried at once instead of waiting out their backoff. The
// manifest maps "moddable/network" to moddable/network-esp32.ts (Wi-Fi, rejoined after a loss)
// or moddable/network-sim.ts (the host's network, always up).
import type { SetupRadio } from "../device/setup-radio.js";
import type { Clock } from "../kernel/clock.js";
import type { LogSink } from "../kernel/log.js";
import type { RandomSource } from "../kernel/random.js";

export interface NetworkWatchOptions {
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly log: LogSink;
  /** Wi-Fi credentials: entered at setup, else from mcconfig (ssid=… password=…); unused in the simulator. */
  readonly ssid: string | undefined;
  readonly password: string | undefined;
  /** The SNTP server that sets the board's clock (config.sntp); unused in the simulator, whose clock is the host's. */
  readonly sntpHost: string | undefined;
  /** Told each change of state: true once the link has an address again, false when it is lost. */
  readonly onChange: (online: boolean) => void;
}

export interface NetworkWatch {
  /** Whether the link has an address now. */
  readonly online: boolean;
  /** The setup portal's access point, scan and station (the board); none in the simulator. */
  readonly radio?: SetupRadio;
  close(): void;
}

export type OpenNetworkWatch = (options: NetworkWatchOptions) => NetworkWatch;
