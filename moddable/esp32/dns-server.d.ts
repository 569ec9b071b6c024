// Types for the SDK's DNS server ($(MODDABLE)/modules/network/dns/dnsserver.js, made for captive
// portals), which ships as JavaScript without typings or a manifest (moddable/manifest_esp32.json
// maps it as "dns/server"). Shape per its source: a UDP socket on port 53 (the classic `socket`
// module) that answers each A question with what the callback returns for (1, name), and stays
// silent when it returns nothing; close() is the socket's.
declare module "dns/server" {
  export default class DNSServer {
    static readonly resolve: 1;
    constructor(
      callback: (message: number, value: string) => string | undefined,
      options?: { port?: number; ttl?: number },
    );
    close(): void;
  }
}
