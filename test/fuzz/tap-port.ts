// A DatagramPort between the endpoint and its real port that watches the traffic for a hostile
// peer (the last few datagrams each way, the LiveTraffic an on-path attacker sees) and lets
// the test hand the endpoint a datagram claiming any source, as a socket would. Portable.

import type { DatagramPort } from "../../coap/datagram-port.js";
import { decodeMessage } from "../../coap/decoder.js";
import type { PeerAddress } from "../../coap/peer-address.js";
import type { LiveTraffic, SeenDatagram } from "./hostile-peer.js";

/** Datagrams remembered each way: enough for the attacker to pick a live token or ID. */
const SEEN_LIMIT = 16;

function seen(bytes: Uint8Array): SeenDatagram | undefined {
  const copy = bytes.slice();
  try {
    const message = decodeMessage(copy);
    return { bytes: copy, type: message.type, code: message.code, messageId: message.messageId, token: message.token };
  } catch {
    return undefined;
  }
}

function remember(list: SeenDatagram[], bytes: Uint8Array): void {
  const entry = seen(bytes);
  if (entry === undefined) return;
  list.push(entry);
  if (list.length > SEEN_LIMIT) list.shift();
}

export class TapPort implements DatagramPort, LiveTraffic {
  readonly #inner: DatagramPort;
  #handler: ((bytes: Uint8Array, from: PeerAddress) => void) | undefined;
  /** Bound: SEEN_LIMIT each. */
  readonly fromClient: SeenDatagram[] = [];
  readonly fromServer: SeenDatagram[] = [];
  /** Datagrams the real port delivered. */
  delivered = 0;
  /** Datagrams the endpoint sent. */
  sent = 0;

  constructor(inner: DatagramPort) {
    this.#inner = inner;
    inner.onReceive((bytes, from) => {
      this.delivered++;
      remember(this.fromServer, bytes);
      this.#handler?.(bytes, from);
    });
  }

  send(bytes: Uint8Array, to: PeerAddress): void {
    this.sent++;
    remember(this.fromClient, bytes);
    this.#inner.send(bytes, to);
  }

  onReceive(handler: (bytes: Uint8Array, from: PeerAddress) => void): void {
    this.#handler = handler;
  }

  /** Hands `bytes` to the endpoint as if they came from `from`; what the handler throws propagates. */
  inject(bytes: Uint8Array, from: PeerAddress): void {
    this.#handler?.(bytes, from);
  }

  close(): void {
    this.#handler = undefined;
    this.#inner.close();
  }
}
