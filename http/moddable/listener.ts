// The HTTP server's TCP port on Moddable: ECMA-419 embedded:io/socket/listener and tcp, in the
// simulator (BSD sockets, modules/io/socket/lin) and on the ESP32 (lwIP, modules/io/socket/lwip).
// Neither SDK listener takes an address (lwIP binds IP_ADDR_ANY, lin INADDR_ANY): the page is
// reachable on every interface of the machine. TCP.write() throws "would block" past the room
// its last onWritable gave, so writes queue here and go out as room is reported. Bound: the
// queue holds what the server wrote to one connection, one response.
import Listener from "embedded:io/socket/listener";
import TCP from "embedded:io/socket/tcp";
import type { ListenOptions, TcpConnection, TcpConnectionHandlers, TcpListener } from "../tcp-port.js";

class ModdableTcpConnection implements TcpConnection {
  #socket: TCP | undefined;
  #handlers: TcpConnectionHandlers | undefined;
  /** Bytes not yet taken by the socket. */
  #queue: Uint8Array[] = [];
  /** Room the socket last reported (onWritable), less what was written since. */
  #room = 0;
  #ending = false;
  #closed = false;

  constructor(from: TCP) {
    const self = this;
    this.#socket = new TCP({
      from,
      onReadable(count: number) {
        self.#readable(count);
      },
      onWritable(count: number) {
        self.#room = count;
        self.#flush();
      },
      onError() {
        self.#finish();
      },
    });
  }

  setHandlers(handlers: TcpConnectionHandlers): void {
    this.#handlers = handlers;
  }

  write(bytes: Uint8Array): void {
    if (this.#closed || this.#ending) return;
    this.#queue.push(bytes.slice());
    this.#flush();
  }

  end(): void {
    if (this.#closed) return;
    this.#ending = true;
    this.#flush();
  }

  destroy(): void {
    this.#queue = [];
    this.#finish();
  }

  #readable(count: number): void {
    const socket = this.#socket;
    if (socket === undefined || count <= 0) return;
    const data = socket.read() as ArrayBuffer | undefined;
    if (data !== undefined) this.#handlers?.onData(new Uint8Array(data));
  }

  #flush(): void {
    const socket = this.#socket;
    if (socket === undefined) return;
    try {
      while (this.#queue.length > 0 && this.#room > 0) {
        const head = this.#queue[0]!;
        const take = Math.min(head.length, this.#room);
        const piece = take === head.length ? head : head.subarray(0, take);
        socket.write(
          piece.byteOffset === 0 && piece.length === piece.buffer.byteLength ? piece.buffer : piece.slice().buffer,
        );
        this.#room -= take;
        if (take === head.length) this.#queue.shift();
        else this.#queue[0] = head.subarray(take);
      }
    } catch {
      // The peer went away under the write ("would block" after a reset): nothing more to send.
      this.#queue = [];
      this.#finish();
      return;
    }
    if (this.#ending && this.#queue.length === 0) this.#finish();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.close();
    const handlers = this.#handlers;
    this.#handlers = undefined;
    handlers?.onClose();
  }
}

/** ListenTcp over the ECMA-419 listener. Rejects when the port cannot be bound. */
export function listenModdable(options: ListenOptions): Promise<TcpListener> {
  let listener: Listener;
  try {
    listener = new Listener({
      port: options.port,
      onReadable(count: number) {
        for (let i = 0; i < count; i++) {
          const from = this.read();
          if (from === undefined) break;
          options.onConnection(new ModdableTcpConnection(from));
        }
      },
    });
  } catch (error) {
    return Promise.reject(error);
  }
  let closed = false;
  const port = (listener as { readonly port?: number }).port;
  return Promise.resolve({
    port: typeof port === "number" && port > 0 ? port : options.port,
    close(): void {
      if (closed) return;
      closed = true;
      (listener as unknown as { close(): void }).close();
    },
  });
}
