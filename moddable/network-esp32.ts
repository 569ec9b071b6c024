// Puts the board on Wi-Fi and keeps it there. main starts at once (moddable/esp32/setup-network.ts
// replaces the SDK's blocking setup/network), so this joins with the configured ssid/password
// right away, and ESP-IDF does not rejoin by itself, so after a failed join or a loss it tries
// again on a backoff (2 s doubling to 5 min, jittered), reporting each transition. Each time the
// link has an address the clock is set by SNTP unless it is fresh (moddable/esp32/clock-sync.ts).
// A new address while joined (a DHCP renewal that moved the board) is reported as coming online
// again: the server would keep sending notifications to the old address, so the observations
// must be registered again from the new one at once, not after a keep-alive period of silence.
// Without an ssid (Ethernet, or Wi-Fi managed elsewhere) it only reports.
import WiFi, { type WiFiChangedProperty } from "embedded:network/interface/wifi";
import { Backoff } from "../kernel/backoff.js";
import type { TimerHandle } from "../kernel/clock.js";
import { ClockSync } from "./esp32/clock-sync.js";
import type { NetworkWatch, NetworkWatchOptions } from "./network-types.js";

/** ECMA-419 Wi-Fi connection states (modules/io/wifi/esp32): 500 = joined with an address. */
const CONNECTED_WITH_ADDRESS = 500;
const DISCONNECTED = 200;

class WiFiWatch implements NetworkWatch {
  readonly #options: NetworkWatchOptions;
  readonly #backoff: Backoff;
  readonly #clockSync: ClockSync;
  #wifi: WiFi | undefined;
  #online: boolean;
  /** The address last reported online, to tell a real change from the event that comes with joining. */
  #address: string | undefined;
  #timer: TimerHandle | undefined;

  constructor(options: NetworkWatchOptions) {
    this.#options = options;
    this.#backoff = new Backoff({ random: options.random, initialMs: 2_000, maxMs: 300_000 });
    this.#clockSync = new ClockSync({
      host: options.sntpHost,
      clock: options.clock,
      random: options.random,
      log: options.log,
    });
    this.#wifi = new WiFi({ onChanged: (property) => this.#changed(property) });
    this.#online = this.#wifi.connection === CONNECTED_WITH_ADDRESS;
    this.#address = this.#online ? this.#wifi.address : undefined;
    if (this.#online) this.#clockSync.online();
    else if (!this.#canJoin())
      options.log(
        "warn",
        "Wi-Fi: no ssid configured (build with mcconfig … ssid=NAME password=SECRET); sampling and buffering offline",
      );
    else if (this.#wifi.connection <= DISCONNECTED) this.#join();
  }

  get online(): boolean {
    return this.#online;
  }

  close(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#clockSync.close();
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
      this.#options.log(
        online ? "info" : "warn",
        online ? `Wi-Fi: back online, address ${this.#address ?? "?"}` : "Wi-Fi: connection lost",
      );
      if (online) {
        this.#backoff.reset();
        this.#clockSync.online();
      } else this.#clockSync.offline();
      this.#options.onChange(online);
    } else if (online && property === "address" && wifi.address !== this.#address) {
      this.#options.log("info", `Wi-Fi: address changed from ${this.#address ?? "?"} to ${wifi.address ?? "?"}`);
      this.#address = wifi.address;
      this.#options.onChange(true);
    }
    if (connection <= DISCONNECTED) this.#scheduleJoin();
  }

  #scheduleJoin(): void {
    if (this.#timer !== undefined || !this.#canJoin()) return;
    const delay = this.#backoff.next();
    this.#options.log(
      "debug",
      `Wi-Fi: rejoining ${JSON.stringify(this.#options.ssid)} in ${Math.round(delay / 1000)} s`,
    );
    this.#timer = this.#options.clock.setTimer(() => {
      this.#timer = undefined;
      this.#join();
    }, delay);
  }

  #canJoin(): boolean {
    const ssid = this.#options.ssid;
    return ssid !== undefined && ssid !== "" && this.#wifi !== undefined;
  }

  #join(): void {
    const ssid = this.#options.ssid;
    if (ssid === undefined || !this.#canJoin()) return;
    const password = this.#options.password;
    try {
      this.#wifi?.connect(password === undefined || password === "" ? { SSID: ssid } : { SSID: ssid, password });
    } catch (error) {
      this.#options.log("warn", `Wi-Fi: join failed: ${error instanceof Error ? error.message : String(error)}`);
      this.#scheduleJoin();
    }
  }
}

export default function openNetworkWatch(options: NetworkWatchOptions): NetworkWatch {
  return new WiFiWatch(options);
}
