// DatagramPort over ECMA-419 `embedded:io/socket/udp`: lwIP on the ESP32, the host's sockets in
// the simulator. One socket for the endpoint's whole life; constructing it is a native call, so
// it happens in main(), never at module load (preload rule).
import UDP from "embedded:io/socket/udp";
import type { LogSink } from "../../kernel/log.js";
import type { DatagramPort } from "../datagram-port.js";
import type { PeerAddress } from "../peer-address.js";

/** The SDK implements close() on UDP sockets; the npm typings leave it out. */
type ClosableUDP = UDP & { close(): void };

export interface ModdableUdpOptions {
  /** Local port to bind (default: any free port). */
  readonly port?: number;
  /** Where receive-side trouble goes; the port never throws it at the event loop. */
  readonly log?: LogSink;
}

export class ModdableDatagramPort implements DatagramPort {
  #socket: ClosableUDP | undefined;
  readonly #log: LogSink | undefined;
  #handler: ((bytes: Uint8Array, from: PeerAddress) => void) | undefined;

  constructor(options: ModdableUdpOptions = {}) {
    this.#log = options.log;
    const settings: ConstructorParameters<typeof UDP>[0] = {
      onReadable: (count: number) => this.#readable(count),
      onError: () => this.#log?.("warn", "udp: socket error"),
    };
    this.#socket = (
      options.port === undefined ? new UDP(settings) : new UDP({ ...settings, port: options.port })
    ) as ClosableUDP;
  }

  /** lwIP throws when it cannot queue the datagram: the endpoint counts that as a lost datagram. */
  send(bytes: Uint8Array, to: PeerAddress): void {
    const socket = this.#socket;
    if (socket === undefined) throw new Error("udp: send on a closed port");
    socket.write(bytes, to.address, to.port);
  }

  onReceive(handler: (bytes: Uint8Array, from: PeerAddress) => void): void {
    this.#handler = handler;
  }

  /** Safe twice. */
  close(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#handler = undefined;
    socket?.close();
  }

  #readable(count: number): void {
    const socket = this.#socket;
    for (let i = 0; i < count && socket !== undefined; i++) {
      const packet = socket.read();
      if (packet === undefined) return;
      const handler = this.#handler;
      if (handler === undefined) continue;
      try {
        handler(new Uint8Array(packet), { address: packet.address, port: packet.port });
      } catch (error) {
        this.#log?.("error", `udp: receive handler threw: ${String(error)}`);
      }
    }
  }
}
