// Keeps the board on Wi-Fi after setup/network's first join (manifest_net.json runs it before
// main). ESP-IDF does not rejoin by itself, so after a loss this rejoins with the configured
// ssid/password on a backoff (2 s doubling to 5 min, jittered), and reports each transition.
// A new address while joined (a DHCP renewal that moved the board) is reported as coming online
// again: the server would keep sending notifications to the old address, so the observations
// must be registered again from the new one at once, not after a keep-alive period of silence.
// Without an ssid (Ethernet, or Wi-Fi managed elsewhere) it only reports.
import WiFi, { type WiFiChangedProperty } from "embedded:network/interface/wifi";
import type { TimerHandle } from "../coap/ports.js";
import { Backoff } from "../device/backoff.js";
import type { NetworkWatch, NetworkWatchOptions } from "./network-types.js";

/** ECMA-419 Wi-Fi connection states (modules/io/wifi/esp32): 500 = joined with an address. */
const CONNECTED_WITH_ADDRESS = 500;
const DISCONNECTED = 200;

class WiFiWatch implements NetworkWatch {
  readonly #options: NetworkWatchOptions;
  readonly #backoff: Backoff;
  #wifi: WiFi | undefined;
  #online: boolean;
  /** The address last reported online, to tell a real change from the event that comes with joining. */
  #address: string | undefined;
  #timer: TimerHandle | undefined;

  constructor(options: NetworkWatchOptions) {
    this.#options = options;
    this.#backoff = new Backoff({ random: options.random, initialMs: 2_000, maxMs: 300_000 });
    this.#wifi = new WiFi({ onChanged: (property) => this.#changed(property) });
    this.#online = this.#wifi.connection === CONNECTED_WITH_ADDRESS;
    this.#address = this.#online ? this.#wifi.address : undefined;
    if (!this.#online) this.#scheduleJoin();
  }

  get online(): boolean {
    return this.#online;
  }

  close(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#wifi?.close();
    this.#wifi = undefined;
  }

  #changed(property: WiFiChangedProperty): void {
    const wifi = this.#wifi;
    if (wifi === undefined) return;
    const connection = wifi.connection;
    const online = connection === CONNECTED_WITH_ADDRESS;
    if (online !== this.#online) {
      this.#online = online;
      this.#address = online ? wifi.address : undefined;
      this.#options.log(online ? "info" : "warn", online ? `Wi-Fi: back online, address ${this.#address ?? "?"}` : "Wi-Fi: connection lost");
      if (online) this.#backoff.reset();
      this.#options.onChange(online);
    } else if (online && property === "address" && wifi.address !== this.#address) {
      this.#options.log("info", `Wi-Fi: address changed from ${this.#address ?? "?"} to ${wifi.address ?? "?"}`);
      this.#address = wifi.address;
      this.#options.onChange(true);
    }
    if (connection <= DISCONNECTED) this.#scheduleJoin();
  }

  #scheduleJoin(): void {
    const ssid = this.#options.ssid;
    if (ssid === undefined || ssid === "" || this.#timer !== undefined || this.#wifi === undefined) return;
    const delay = this.#backoff.next();
    this.#options.log("debug", `Wi-Fi: rejoining ${JSON.stringify(ssid)} in ${Math.round(delay / 1000)} s`);
    this.#timer = this.#options.clock.setTimer(() => {
      this.#timer = undefined;
      const password = this.#options.password;
      try {
        this.#wifi?.connect(password === undefined || password === "" ? { SSID: ssid } : { SSID: ssid, password });
      } catch (error) {
        this.#options.log("warn", `Wi-Fi: join failed: ${error instanceof Error ? error.message : String(error)}`);
        this.#scheduleJoin();
      }
    }, delay);
  }
}

export default function openNetworkWatch(options: NetworkWatchOptions): NetworkWatch {
  return new WiFiWatch(options);
}
