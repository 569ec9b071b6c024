// node-coap's server with two changes, made before node-coap sees a request:
// - Request bodies sent block-wise (Block1) are refused with 4.13. node-coap keys the blocks of a
//   body by CoAP token, but RFC 7959 lets a client use a new token per block (libcoap does), and
//   then node-coap fails the request with a 5.00. The platform takes request bodies of one
//   message only (PlatformOptions.maxPayloadBytes), so a block-wise body is too large anyway.
// - An Observe option on a method other than GET or FETCH is dropped: it means nothing there
//   (RFC 7641 §2), and node-coap would answer such a request with a 5.00 that carries neither
//   its message ID nor its token.
// And it tells who acknowledged a notification: node-coap handles the ACK itself and says nothing.
import type { AddressInfo } from "node:net";
import { type CoapPacket, type CoapServerOptions, IncomingMessage, ObserveWriteStream, Server } from "coap";
import { generate } from "coap-packet";
import { jsonBytes } from "./payloads.js";

const CONTENT_FORMAT_JSON = 50;
const METHODS: Readonly<Record<string, string>> = Object.freeze({
  "0.01": "GET",
  "0.02": "POST",
  "0.03": "PUT",
  "0.04": "DELETE",
});

export interface PlatformCoapServerOptions {
  coap: CoapServerOptions;
  maxPayloadBytes: number;
  /** A block-wise request body was refused. */
  onRefused: (rsinfo: AddressInfo, method: string) => void;
  /** The client acknowledged a CON notification sent on this observation's stream. */
  onAcknowledged: (stream: ObserveWriteStream) => void;
}

export class PlatformCoapServer extends Server {
  readonly #maxPayloadBytes: number;
  readonly #onRefused: (rsinfo: AddressInfo, method: string) => void;
  readonly #onAcknowledged: (stream: ObserveWriteStream) => void;

  constructor(options: PlatformCoapServerOptions) {
    super(options.coap);
    this.#maxPayloadBytes = options.maxPayloadBytes;
    this.#onRefused = options.onRefused;
    this.#onAcknowledged = options.onAcknowledged;
  }

  override _handle(packet: CoapPacket, rsinfo: AddressInfo): void {
    if (packet.ack === true && packet.code === "0.00") this.#creditAck(packet, rsinfo);
    const isRequest = typeof packet.code === "string" && packet.code.startsWith("0.") && packet.code !== "0.00";
    const options = packet.options ?? [];
    if (isRequest && packet.code !== "0.01" && packet.code !== "0.05") {
      packet.options = options.filter((o) => o.name !== "Observe");
    }
    if (!isRequest || !options.some((o) => o.name === "Block1")) {
      super._handle(packet, rsinfo);
      return;
    }
    // RFC 7959 §2.9.3: 4.13 with Size1, the largest body taken. Piggybacked on the ACK of a CON
    // request, NON for a NON one; a retransmitted block just gets the same answer again.
    const reply = generate({
      messageId: packet.messageId,
      token: packet.token,
      code: "4.13",
      ack: packet.confirmable === true,
      options: [
        { name: "Content-Format", value: Buffer.from([CONTENT_FORMAT_JSON]) },
        { name: "Size1", value: uint(this.#maxPayloadBytes) },
      ],
      payload: jsonBytes({
        status: "error",
        message: `The payload is larger than ${this.#maxPayloadBytes} bytes (no Block1)`,
      }),
    });
    if (this._sock !== null && "send" in this._sock) this._sock.send(reply, rsinfo.port, rsinfo.address);
    this.#onRefused(rsinfo, METHODS[packet.code as string] ?? String(packet.code));
  }

  // node-coap keeps each CON message it sent in its reply cache until the ACK comes (RFC 7252
  // §4.2), under the key it looks the ACK up by; a notification's entry holds its stream. Read
  // here, before node-coap deletes the entry.
  #creditAck(packet: CoapPacket, rsinfo: AddressInfo): void {
    const key = this._toKey(new IncomingMessage(packet, rsinfo), packet, true);
    const cached = this._lru.peek(key) as { response?: unknown } | undefined;
    if (cached?.response instanceof ObserveWriteStream) this.#onAcknowledged(cached.response);
  }
}

/** An unsigned integer option value in the fewest bytes (RFC 7252 §3.2). */
function uint(n: number): Buffer {
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from(bytes);
}
