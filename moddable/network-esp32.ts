// Puts the board on Wi-Fi and keeps it there, and is the setup portal's radio (device/setup-radio.ts):
// the access point, its captive DNS, scanning and the station all go through the SDK's classic
// `wifi` module (modules/network/wifi/esp32), one driver for station and access point, since the
// ECMA-419 embedded:network/interface/wifi has no access point and the two drivers must not both
// initialise Wi-Fi. main starts at once (moddable/esp32/setup-network.ts replaces the SDK's
// blocking setup/network), so this joins right away with the credentials it is given (entered at
// setup, else built in); ESP-IDF retries a few times by itself, then reports "disconnect", and
// this tries again on a backoff (2 s doubling to 5 min, jittered) for as long as it takes, also
// while the access point is up: a router's power cut must never strand a device in setup. Each
// time the link has an address the clock is set by SNTP unless it is fresh
// (moddable/esp32/clock-sync.ts). A new address while joined (a DHCP renewal that moved the
// board) is reported as coming online again, so the observations register again from it at once.
import DNSServer from "dns/server";
import Net from "net";
import WiFi from "wifi";
import type { AccessPoint, JoinOutcome, SetupRadio, WifiNetwork } from "../device/setup-radio.js";
import { Backoff } from "../kernel/backoff.js";
import type { TimerHandle } from "../kernel/clock.js";
import { ClockSync } from "./esp32/clock-sync.js";
import type { NetworkWatch, NetworkWatchOptions } from "./network-types.js";

/** The classic wifi module as modules/network/wifi/esp32/wifi.js and xs6wifi.c define it. */
interface ClassicWiFi {
  new (dictionary: undefined, onNotify: (message: string, reason?: number) => void): { close(): void };
  connect(dictionary?: { ssid: string; password?: string }): void;
  disconnect(): void;
  accessPoint(dictionary: { ssid: string; password?: string; station: boolean; max: number }): void;
  scan(
    dictionary: { hidden: boolean },
    callback: (item: { ssid: string; rssi: number; authentication: string } | null) => void,
  ): void;
  mode: number;
  readonly Mode: { readonly off: -5; readonly none: 0; readonly station: 1; readonly accessPoint: 2 };
}

/** Net.get with the interface argument of modules/network/net/esp/modNet.c ("station" or "ap"). */
interface ClassicNet {
  get(what: "IP" | "MAC", nif: "station" | "ap"): string | undefined;
}

const Driver = WiFi as unknown as ClassicWiFi;
const Network = Net as unknown as ClassicNet;

/** xs6wifi.c reports "disconnect" with -1 when the access point rejected the password. */
const PASSWORD_REJECTED = -1;
/** How long a join asked from the setup page may take before it counts as failed. */
const JOIN_TIMEOUT_MS = 30_000;
/** The SDK's accessPoint() default is 4 stations; said here so the cap is ours. */
const MAX_STATIONS = 4;
/** The address ESP-IDF gives its access point when Net.get cannot tell. */
const DEFAULT_AP_ADDRESS = "192.168.4.1";

interface PendingJoin {
  readonly resolve: (outcome: JoinOutcome) => void;
  readonly timer: TimerHandle;
}

class WiFiWatch implements NetworkWatch, SetupRadio {
  readonly #options: NetworkWatchOptions;
  readonly #backoff: Backoff;
  readonly #clockSync: ClockSync;
  #notifier: { close(): void } | undefined;
  #ssid: string | undefined;
  #password: string | undefined;
  #online = false;
  /** The address last reported online, to tell a real change from the event that comes with joining. */
  #address: string | undefined;
  #timer: TimerHandle | undefined;
  #join: PendingJoin | undefined;
  #dns: DNSServer | undefined;
  #scanning = false;
  #closed = false;

  constructor(options: NetworkWatchOptions) {
    this.#options = options;
    this.#ssid = options.ssid === "" ? undefined : options.ssid;
    this.#password = options.password === "" ? undefined : options.password;
    this.#backoff = new Backoff({ random: options.random, initialMs: 2_000, maxMs: 300_000 });
    this.#clockSync = new ClockSync({
      host: options.sntpHost,
      clock: options.clock,
      random: options.random,
      log: options.log,
    });
    this.#notifier = new Driver(undefined, (message, reason) => this.#notified(message, reason));
    if (this.#ssid === undefined)
      options.log("warn", "Wi-Fi: no network yet (set it up on the setup page, or build with ssid=… password=…)");
    else this.#connect();
  }

  get online(): boolean {
    return this.#online;
  }

  get ssid(): string | undefined {
    return this.#ssid;
  }

  get radio(): SetupRadio {
    return this;
  }

  openAccessPoint(password: string | undefined): AccessPoint {
    // The station MAC names the access point; Net.get answers only once the driver runs, and in
    // station + access point mode only for a named interface (modNet.c getNIF).
    if (Driver.mode <= Driver.Mode.none) Driver.mode = Driver.Mode.station;
    const mac = Network.get("MAC", "station") ?? "00:00:00:00:00:00";
    const ssid = `thethings-${mac.slice(-5, -3)}${mac.slice(-2)}`;
    // xs6wifi.c refuses a password under 8 bytes, also an empty one: leave the key out for an open one.
    Driver.accessPoint(
      password === undefined
        ? { ssid, station: true, max: MAX_STATIONS }
        : { ssid, password, station: true, max: MAX_STATIONS },
    );
    const address = Network.get("IP", "ap") ?? DEFAULT_AP_ADDRESS;
    this.#dns?.close();
    // Every name is the board: phones' connectivity checks land on the page (captive portal).
    // dnsserver.js asks (1, name) for each A question, the only message it sends.
    this.#dns = new DNSServer(() => address);
    return { ssid, address };
  }

  closeAccessPoint(): void {
    this.#dns?.close();
    this.#dns = undefined;
    if (Driver.mode === Driver.Mode.station + Driver.Mode.accessPoint || Driver.mode === Driver.Mode.accessPoint)
      Driver.mode = Driver.Mode.station;
  }

  scan(): Promise<readonly WifiNetwork[]> {
    if (this.#scanning) return Promise.reject(new Error("already scanning"));
    return new Promise((resolve, reject) => {
      // Bound: one entry per name, at most MAX_NETWORKS, the weakest dropped.
      const found: WifiNetwork[] = [];
      try {
        this.#scanning = true;
        Driver.scan({ hidden: false }, (item) => {
          if (item === null) {
            this.#scanning = false;
            resolve(Object.freeze(found.sort((a, b) => b.rssi - a.rssi)));
            return;
          }
          if (item.ssid === "") return;
          const known = found.findIndex((network) => network.ssid === item.ssid);
          const network = { ssid: item.ssid, rssi: item.rssi, secure: item.authentication !== "none" };
          if (known >= 0) {
            if (found[known]!.rssi < item.rssi) found[known] = network;
          } else if (found.length < WiFiWatch.MAX_NETWORKS) found.push(network);
          else {
            const weakest = found.reduce((low, each, at) => (each.rssi < found[low]!.rssi ? at : low), 0);
            if (found[weakest]!.rssi < item.rssi) found[weakest] = network;
          }
        });
      } catch (error) {
        this.#scanning = false;
        reject(error);
      }
    });
  }

  join(ssid: string, password: string | undefined): Promise<JoinOutcome> {
    this.#settleJoin({ ok: false, reason: "another join was asked for" });
    this.#ssid = ssid;
    this.#password = password;
    this.#cancelRejoin();
    this.#backoff.reset();
    return new Promise((resolve) => {
      const timer = this.#options.clock.setTimer(() => {
        this.#join = undefined;
        resolve({ ok: false, reason: "the network did not answer" });
        this.#scheduleJoin();
      }, JOIN_TIMEOUT_MS);
      this.#join = { resolve, timer };
      // Joining a new network while joined to another: leave it first (WiFi.connect() clears the config).
      if (this.#online) Driver.disconnect();
      this.#connect();
    });
  }

  forget(): void {
    this.#ssid = undefined;
    this.#password = undefined;
    this.#cancelRejoin();
    this.#settleJoin({ ok: false, reason: "forgotten" });
    try {
      Driver.disconnect();
    } catch (error) {
      this.#options.log("warn", `Wi-Fi: disconnect failed: ${String(error)}`);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelRejoin();
    this.#settleJoin({ ok: false, reason: "closed" });
    this.#clockSync.close();
    this.#dns?.close();
    this.#dns = undefined;
    this.#notifier?.close();
    this.#notifier = undefined;
  }

  static readonly MAX_NETWORKS = 20;

  #notified(message: string, reason: number | undefined): void {
    if (this.#closed) return;
    const { log } = this.#options;
    if (message === "gotIP") {
      const address = Network.get("IP", "station");
      this.#settleJoin({ ok: true, address: address ?? "?" });
      if (!this.#online) {
        this.#online = true;
        this.#address = address;
        log("info", `Wi-Fi: back online, address ${address ?? "?"}`);
        this.#backoff.reset();
        this.#clockSync.online();
        this.#options.onChange(true);
      } else if (address !== this.#address) {
        log("info", `Wi-Fi: address changed from ${this.#address ?? "?"} to ${address ?? "?"}`);
        this.#address = address;
        this.#options.onChange(true);
      }
    } else if (message === "disconnect" || message === "lostIP") {
      this.#settleJoin({
        ok: false,
        reason: reason === PASSWORD_REJECTED ? "wrong password" : "network not found or out of reach",
      });
      if (this.#online) {
        this.#online = false;
        this.#address = undefined;
        log("warn", "Wi-Fi: connection lost");
        this.#clockSync.offline();
        this.#options.onChange(false);
      }
      if (message === "disconnect") this.#scheduleJoin();
    } else if (message === "station_connect" || message === "station_disconnect") {
      log("debug", `Wi-Fi: a phone ${message === "station_connect" ? "joined" : "left"} the access point`);
    }
  }

  #settleJoin(outcome: JoinOutcome): void {
    const join = this.#join;
    if (join === undefined) return;
    this.#join = undefined;
    this.#options.clock.clearTimer(join.timer);
    join.resolve(outcome);
  }

  #cancelRejoin(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  #scheduleJoin(): void {
    if (this.#timer !== undefined || this.#join !== undefined || this.#ssid === undefined || this.#closed) return;
    const delay = this.#backoff.next();
    this.#options.log("debug", `Wi-Fi: rejoining ${JSON.stringify(this.#ssid)} in ${Math.round(delay / 1000)} s`);
    this.#timer = this.#options.clock.setTimer(() => {
      this.#timer = undefined;
      this.#connect();
    }, delay);
  }

  #connect(): void {
    const ssid = this.#ssid;
    if (ssid === undefined || this.#closed) return;
    const password = this.#password;
    try {
      Driver.connect(password === undefined ? { ssid } : { ssid, password });
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      this.#options.log("warn", `Wi-Fi: join failed: ${text}`);
      this.#settleJoin({ ok: false, reason: text });
      this.#scheduleJoin();
    }
  }
}

export default function openNetworkWatch(options: NetworkWatchOptions): NetworkWatch {
  return new WiFiWatch(options);
}
