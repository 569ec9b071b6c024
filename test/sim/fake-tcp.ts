// An in-memory TCP listener for the HTTP server's specs: a test opens client connections, sends
// bytes in whatever pieces it likes and reads what came back. Delivery is synchronous, so a
// spec on the fake clock controls every instant. Portable: runs on Node and on XS.

import type { ListenOptions, TcpConnection, TcpConnectionHandlers, TcpListener } from "../../http/tcp-port.js";
import { decodeUtf8, encodeUtf8 } from "../../kernel/utf8.js";

export class FakeTcpClient {
  /** Everything the server wrote. Bound: what one test sends back; tests only. */
  #received: number[] = [];
  #server: FakeServerSide | undefined;
  /** The server ended or destroyed the connection. */
  closedByServer = false;
  /** The server destroyed it without sending what it had queued (end() sends first). */
  destroyed = false;

  attach(server: FakeServerSide): void {
    this.#server = server;
  }

  send(data: string | Uint8Array): void {
    this.#server?.deliver(typeof data === "string" ? encodeUtf8(data) : data);
  }

  /** The client goes away. */
  close(): void {
    this.#server?.peerClosed();
  }

  receive(bytes: Uint8Array): void {
    for (const byte of bytes) this.#received.push(byte);
  }

  get bytes(): Uint8Array {
    return Uint8Array.from(this.#received);
  }

  get text(): string {
    return decodeUtf8(this.bytes);
  }

  /** The status code of the response, or undefined when nothing (or no status line) came. */
  get status(): number | undefined {
    const text = this.text;
    return text.startsWith("HTTP/1.1 ") ? Number(text.slice(9, 12)) : undefined;
  }

  header(name: string): string | undefined {
    const text = this.text;
    const head = text.slice(0, text.indexOf("\r\n\r\n"));
    for (const line of head.split("\r\n").slice(1)) {
      const colon = line.indexOf(":");
      if (line.slice(0, colon).toLowerCase() === name.toLowerCase()) return line.slice(colon + 1).trim();
    }
    return undefined;
  }

  get body(): string {
    const text = this.text;
    const at = text.indexOf("\r\n\r\n");
    return at < 0 ? "" : text.slice(at + 4);
  }
}

class FakeServerSide implements TcpConnection {
  readonly #client: FakeTcpClient;
  #handlers: TcpConnectionHandlers | undefined;
  /** Bytes the client sent before the server installed its handlers. */
  #early: Uint8Array[] = [];
  #closed = false;

  constructor(client: FakeTcpClient) {
    this.#client = client;
  }

  setHandlers(handlers: TcpConnectionHandlers): void {
    this.#handlers = handlers;
    const early = this.#early;
    this.#early = [];
    for (const bytes of early) handlers.onData(bytes);
  }

  write(bytes: Uint8Array): void {
    if (!this.#closed) this.#client.receive(bytes);
  }

  end(): void {
    this.#close(false);
  }

  destroy(): void {
    this.#close(true);
  }

  deliver(bytes: Uint8Array): void {
    if (this.#closed) return;
    if (this.#handlers === undefined) this.#early.push(bytes.slice());
    else this.#handlers.onData(bytes);
  }

  peerClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers?.onClose();
  }

  #close(destroyed: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.closedByServer = true;
    this.#client.destroyed = destroyed;
    this.#handlers?.onClose();
  }
}

export class FakeTcpNetwork {
  #options: ListenOptions | undefined;
  #closed = false;
  /** Ports refused by listen() (to test a port in use). */
  readonly busyPorts = new Set<number>();
  listenedOn: number | undefined;

  readonly listen = (options: ListenOptions): Promise<TcpListener> => {
    if (this.busyPorts.has(options.port)) return Promise.reject(new Error(`port ${options.port} in use`));
    this.#options = options;
    this.#closed = false;
    const port = options.port === 0 ? 49152 : options.port;
    this.listenedOn = port;
    return Promise.resolve({
      port,
      close: () => {
        this.#closed = true;
      },
    });
  };

  get listening(): boolean {
    return this.#options !== undefined && !this.#closed;
  }

  connect(): FakeTcpClient {
    const client = new FakeTcpClient();
    const server = new FakeServerSide(client);
    client.attach(server);
    if (this.#options === undefined || this.#closed) {
      client.closedByServer = true;
      return client;
    }
    this.#options.onConnection(server);
    return client;
  }
}
