// The transport port of the CoAP endpoint: one bound UDP socket (adapters: coap/moddable/udp.ts
// over ECMA-419 UDP, host/node-udp.ts over dgram, test/sim/sim-network.ts).
import type { PeerAddress } from "./peer-address.js";

/** A bound UDP socket. */
export interface DatagramPort {
  /** Sends one datagram; `bytes` may be reused by the caller as soon as this returns. */
  send(bytes: Uint8Array, to: PeerAddress): void;
  /** Installs the one receiver; `bytes` is only valid during the call. */
  onReceive(handler: (bytes: Uint8Array, from: PeerAddress) => void): void;
  close(): void;
}
