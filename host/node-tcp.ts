// The HTTP server's TCP port on Node (node:net), bound to loopback only: the PC runner's setup
// page is for the person at this computer, never for the LAN.
import { createServer, type Socket } from "node:net";
import type { ListenOptions, TcpConnection, TcpConnectionHandlers, TcpListener } from "../http/tcp-port.js";

/** The loopback address the page binds. */
export const LOOPBACK = "127.0.0.1";

class NodeTcpConnection implements TcpConnection {
  readonly #socket: Socket;
  #handlers: TcpConnectionHandlers | undefined;
  #closed = false;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on("data", (data: Buffer) => {
      if (!this.#closed) this.#handlers?.onData(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    });
    socket.on("error", () => undefined);
    socket.on("close", () => this.#finish());
  }

  setHandlers(handlers: TcpConnectionHandlers): void {
    this.#handlers = handlers;
  }

  write(bytes: Uint8Array): void {
    if (!this.#closed && !this.#socket.destroyed) this.#socket.write(Buffer.from(bytes));
  }

  end(): void {
    if (!this.#socket.destroyed) this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
    this.#finish();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    const handlers = this.#handlers;
    this.#handlers = undefined;
    handlers?.onClose();
  }
}

/** ListenTcp on 127.0.0.1; port 0 picks a free one. */
export function listenLoopback(options: ListenOptions): Promise<TcpListener> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => options.onConnection(new NodeTcpConnection(socket)));
    server.once("error", reject);
    server.listen({ port: options.port, host: LOOPBACK }, () => {
      server.off("error", reject);
      server.on("error", () => undefined);
      const address = server.address();
      let closed = false;
      resolve({
        port: typeof address === "object" && address !== null ? address.port : options.port,
        close(): void {
          if (closed) return;
          closed = true;
          server.close();
        },
      });
    });
  });
}
