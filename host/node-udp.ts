// DatagramPort over Node's dgram: the endpoint's UDP port for host tools, tests and benchmarks.
import * as dgram from "node:dgram";
import type { AddressInfo } from "node:net";
import type { DatagramPort } from "../coap/datagram-port.js";
import type { PeerAddress } from "../coap/peer-address.js";
import type { LogSink } from "../kernel/log.js";

export interface NodeUdpOptions {
  /** "udp4" (default) or "udp6" (dual-stack unless ipv6Only). */
  readonly type?: "udp4" | "udp6";
  /** Local address to bind (default: all interfaces). */
  readonly address?: string;
  /** Local port (default 0: any free port). */
  readonly port?: number;
  readonly ipv6Only?: boolean;
  /** Where socket errors go; the port never throws them at the event loop. */
  readonly log?: LogSink;
}

export class NodeDatagramPort implements DatagramPort {
  readonly #socket: dgram.Socket;
  readonly #log: LogSink | undefined;
  #handler: ((bytes: Uint8Array, from: PeerAddress) => void) | undefined;
  #closed = false;

  /** Binds a socket and resolves once it is listening. */
  static open(options: NodeUdpOptions = {}): Promise<NodeDatagramPort> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket({ type: options.type ?? "udp4", ipv6Only: options.ipv6Only === true });
      const onError = (error: Error): void => {
        socket.close();
        reject(error);
      };
      socket.once("error", onError);
      socket.bind(options.port ?? 0, options.address, () => {
        socket.off("error", onError);
        resolve(new NodeDatagramPort(socket, options.log));
      });
    });
  }

  private constructor(socket: dgram.Socket, log: LogSink | undefined) {
    this.#socket = socket;
    this.#log = log;
    socket.on("message", (message: Buffer, remote: dgram.RemoteInfo) => {
      const handler = this.#handler;
      if (handler === undefined) return;
      handler(new Uint8Array(message.buffer, message.byteOffset, message.length), {
        address: remote.address,
        port: remote.port,
      });
    });
    // An 'error' event without a listener would kill the process; a lost datagram must not.
    socket.on("error", (error: Error) => this.#log?.("warn", `udp: ${error.message}`));
  }

  /** The bound local address and port. */
  get localAddress(): PeerAddress {
    const info: AddressInfo = this.#socket.address();
    return { address: info.address, port: info.port };
  }

  send(bytes: Uint8Array, to: PeerAddress): void {
    if (this.#closed) throw new Error("udp: send on a closed port");
    // Copied: dgram may still hold the buffer after send() returns, and the caller reuses it.
    this.#socket.send(Buffer.from(bytes), to.port, to.address, (error) => {
      if (error) this.#log?.("warn", `udp: send to ${to.address}:${to.port} failed: ${error.message}`);
    });
  }

  onReceive(handler: (bytes: Uint8Array, from: PeerAddress) => void): void {
    this.#handler = handler;
  }

  /** Safe twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handler = undefined;
    this.#socket.close();
  }
}
