// Declarations the Moddable SDK (≥ 8.2) ships in its own typings but npm @moddable/typings 5.6.0
// lacks, for `npm run typecheck` without the SDK. mcconfig builds use the SDK's typings and never
// see this file (the manifest maps only the top of moddable/ and moddable/esp32/).
declare module "embedded:network/interface/wifi" {
  export type WiFiChangedProperty = "connection" | "address";

  export interface WiFiConnectOptions {
    SSID: string;
    password?: string;
  }

  class WiFi {
    constructor(options: { onChanged?: (property: WiFiChangedProperty) => void });
    close(): void;
    connect(options: WiFiConnectOptions): void;
    disconnect(): void;
    readonly connection: number;
    readonly address: string | undefined;
    readonly SSID: string | undefined;
    readonly RSSI: number | undefined;
  }

  export default WiFi;
}
