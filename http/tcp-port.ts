// The transport port of the HTTP server: a TCP listener that hands over accepted connections
// (adapters: http/moddable/listener.ts over ECMA-419 embedded:io/socket/listener and tcp,
// host/node-tcp.ts over node:net, test/sim/fake-tcp.ts in the specs). The server bounds what it
// writes, so an adapter's send queue is bounded by one response per connection.

export interface TcpConnectionHandlers {
  /** Bytes arrived; `bytes` is only valid during the call. */
  onData(bytes: Uint8Array): void;
  /** The peer closed or the connection failed: nothing more arrives, and writing is pointless. */
  onClose(): void;
}

/** One accepted connection. */
export interface TcpConnection {
  /** Installs the one receiver. */
  setHandlers(handlers: TcpConnectionHandlers): void;
  /** Queues bytes; the adapter sends them as the socket takes them. `bytes` may be reused after the call. */
  write(bytes: Uint8Array): void;
  /** Sends what is queued, then closes; onClose follows. */
  end(): void;
  /** Closes at once, dropping what is queued; onClose follows unless it already came. Safe twice. */
  destroy(): void;
}

export interface TcpListener {
  /** The bound port: the one chosen by the system when 0 was asked for. */
  readonly port: number;
  /** Stops accepting; connections already handed over stay with their owner. Safe twice. */
  close(): void;
}

export interface ListenOptions {
  /** 0: any free port. */
  readonly port: number;
  readonly onConnection: (connection: TcpConnection) => void;
}

/** Binds and listens; rejects when the port cannot be had. */
export type ListenTcp = (options: ListenOptions) => Promise<TcpListener>;
