// The Wi-Fi side of setup, as a port: on the board the access point, its captive DNS, scanning
// and the station (moddable/network-esp32.ts, on the SDK's classic `wifi` module, one driver for
// station and access point); absent in the simulator and on the PC, whose page has no Wi-Fi part.

export interface WifiNetwork {
  readonly ssid: string;
  /** dBm. */
  readonly rssi: number;
  /** Needs a password. */
  readonly secure: boolean;
}

export type JoinOutcome =
  | { readonly ok: true; readonly address: string }
  | { readonly ok: false; readonly reason: string };

export interface AccessPoint {
  /** `thethings-XXXX`, XXXX from the MAC. */
  readonly ssid: string;
  /** The board's address on it: every DNS name resolves to it, unknown paths redirect to it. */
  readonly address: string;
}

export interface SetupRadio {
  /** The network the station joins (entered at setup, else built in); undefined when none. */
  readonly ssid: string | undefined;
  /** The station is joined with an address. */
  readonly online: boolean;
  /**
   * Starts the access point (WPA2 with `password`, open without) beside the station, and the DNS
   * server that answers every name with its address. Throws when the driver refuses.
   */
  openAccessPoint(password: string | undefined): AccessPoint;
  /** Stops the DNS server and the access point; the station stays. Safe twice. */
  closeAccessPoint(): void;
  /** The networks in reach, strongest first, each name once. Rejects when a scan cannot run now. */
  scan(): Promise<readonly WifiNetwork[]>;
  /**
   * Joins `ssid` with the access point up (it moves to the router's channel: a phone may drop).
   * Resolves once joined with an address or given up; the new credentials are kept for rejoins.
   */
  join(ssid: string, password: string | undefined): Promise<JoinOutcome>;
  /** Drops the credentials and leaves the network ("Forget this device"). */
  forget(): void;
}
