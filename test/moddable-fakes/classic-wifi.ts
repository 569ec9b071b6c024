// Stand-ins for the SDK modules behind the ESP32 Wi-Fi watch and setup radio
// (moddable/network-esp32.ts): the classic `wifi` module (modules/network/wifi/esp32/wifi.js and
// xs6wifi.c), `net` (modules/network/net/esp/modNet.c) and the DNS server
// (modules/network/dns/dnsserver.js). Shaped after those sources: the same dictionaries and
// their checks ("ssid too long - 32 bytes max", "password too short - 8 bytes min", "already
// scanning"), the notification messages with the disconnect reason (-1: password rejected), the
// mode numbers, and Net.get answering only for an interface the current mode has. Bound: each
// log holds what one test does.

type Notify = (message: string, reason?: number) => void;

function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

export const radio = {
  /** Every WiFi instance with its onNotify, in construction order. */
  notifiers: [] as FakeClassicWiFi[],
  /** WiFi.connect() calls: the dictionary, or undefined for a disconnect. */
  connects: [] as ({ ssid: string; password?: string } | undefined)[],
  accessPoints: [] as Record<string, unknown>[],
  /** -5 before the driver starts (xs_wifi_get_mode with gWiFiState <= 0), then 1, 2 or 3. */
  mode: -5,
  modeSets: [] as number[],
  /** Addresses Net.get("IP", nif) answers, when the mode has that interface. */
  ip: { station: undefined as string | undefined, ap: "192.168.4.1" },
  mac: "24:0A:C4:12:A1:B2",
  /** The callback of the scan in progress. */
  scan: undefined as ((item: { ssid: string; rssi: number; authentication: string } | null) => void) | undefined,
  failNextConnect: undefined as string | undefined,
  dnsServers: [] as FakeDNSServer[],
  reset(): void {
    this.notifiers.length = 0;
    this.connects.length = 0;
    this.accessPoints.length = 0;
    this.mode = -5;
    this.modeSets.length = 0;
    this.ip = { station: undefined, ap: "192.168.4.1" };
    this.mac = "24:0A:C4:12:A1:B2";
    this.scan = undefined;
    this.failNextConnect = undefined;
    this.dnsServers.length = 0;
  },
  /** What the driver posts to every WiFi object with a callback (wifiEventPending, ipEventPending). */
  emit(message: string, reason?: number): void {
    for (const wifi of this.notifiers.slice()) wifi.notify(message, reason);
  },
};

export class FakeClassicWiFi {
  static readonly Mode = Object.freeze({ off: -5, none: 0, station: 1, accessPoint: 2 });
  #onNotify: Notify | undefined;

  constructor(dictionary: unknown, onNotify: Notify) {
    if (dictionary !== undefined) FakeClassicWiFi.connect(dictionary as { ssid: string });
    this.#onNotify = onNotify;
    radio.notifiers.push(this);
  }

  close(): void {
    this.#onNotify = undefined;
  }

  notify(message: string, reason?: number): void {
    if (message === "disconnect") this.#onNotify?.(message, reason ?? 0);
    else this.#onNotify?.(message);
  }

  static connect(dictionary?: { ssid: string; password?: string }): void {
    if (dictionary === undefined) {
      radio.connects.push(undefined);
      return;
    }
    if (radio.failNextConnect !== undefined) {
      const message = radio.failNextConnect;
      radio.failNextConnect = undefined;
      throw new Error(message);
    }
    if (!dictionary.ssid) throw new Error("ssid required");
    if (utf8Bytes(dictionary.ssid) > 32) throw new Error("ssid too long - 32 bytes max");
    if (dictionary.password !== undefined && utf8Bytes(dictionary.password) > 64)
      throw new Error("password too long - 64 bytes max");
    if (radio.mode <= 0) radio.mode = 1;
    radio.connects.push({ ...dictionary });
  }

  static disconnect(): void {
    FakeClassicWiFi.connect();
  }

  static accessPoint(dictionary: Record<string, unknown>): void {
    const ssid = String(dictionary.ssid);
    if (utf8Bytes(ssid) > 32) throw new Error("ssid too long - 32 bytes max");
    if ("password" in dictionary) {
      const password = String(dictionary.password);
      if (password.length > 64) throw new Error("password too long - 64 bytes max");
      if (password.length < 8) throw new Error("password too short - 8 bytes min");
    }
    if (radio.mode !== 2 && radio.mode !== 3) radio.mode = dictionary.station === true ? 3 : 2;
    radio.accessPoints.push({ ...dictionary });
  }

  static scan(dictionary: unknown, callback: NonNullable<typeof radio.scan>): void {
    if (radio.scan !== undefined) throw new Error("already scanning");
    if (typeof dictionary !== "object" || dictionary === null) throw new Error("invalid");
    if (radio.mode <= 0) radio.mode = 1;
    radio.scan = callback;
  }

  static get mode(): number {
    return radio.mode;
  }

  static set mode(value: number) {
    radio.modeSets.push(value);
    radio.mode = value;
  }
}

/** The scan ends: each item, then null (reportScan in xs6wifi.c). */
export function finishScan(items: readonly { ssid: string; rssi: number; authentication: string }[]): void {
  const callback = radio.scan;
  radio.scan = undefined;
  for (const item of items) callback?.(item);
  callback?.(null);
}

export const FakeNet = {
  get(what: string, nif?: string): string | undefined {
    const hasStation = radio.mode === 1 || radio.mode === 3;
    const hasAp = radio.mode === 2 || radio.mode === 3;
    // modNet.c getNIF: a named interface the mode lacks, or no name in station + AP mode, is NULL.
    const station = nif === "station" ? hasStation : nif === "ap" ? false : radio.mode === 1;
    const ap = nif === "ap" ? hasAp : nif === "station" ? false : radio.mode === 2;
    if (what === "MAC") return station || ap ? radio.mac : undefined;
    if (what === "IP") return station ? radio.ip.station : ap ? radio.ip.ap : undefined;
    return undefined;
  },
};

export class FakeDNSServer {
  static readonly resolve = 1;
  readonly #callback: (message: number, value: string) => string | undefined;
  closed = false;

  constructor(callback: (message: number, value: string) => string | undefined) {
    this.#callback = callback;
    radio.dnsServers.push(this);
  }

  /** What an A question for `name` gets back (undefined: no answer). */
  query(name: string): string | undefined {
    return this.closed ? undefined : this.#callback(FakeDNSServer.resolve, name);
  }

  close(): void {
    this.closed = true;
  }
}
