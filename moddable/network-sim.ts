// The simulator uses the host's network: it is up for as long as the app runs.
import type { NetworkWatch, NetworkWatchOptions } from "./network-types.js";

export default function openNetworkWatch(_options: NetworkWatchOptions): NetworkWatch {
  return Object.freeze({ online: true, close(): void {} });
}
