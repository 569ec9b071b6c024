// A small HTTP/1.1 server (RFC 9112) for a page served by the device itself: one request per
// connection, every cap of limits.ts enforced, slow clients timed out on the injected clock.
// Hostile input never reaches the handler: malformed or oversized requests are answered here
// (400, 408, 411, 413, 414, 431, 501, 505) and closed. The handler sees a parsed request and
// returns the response (or a promise of it); a handler that throws gets a 500.
import type { Clock, TimerHandle } from "../kernel/clock.js";
import type { LogSink } from "../kernel/log.js";
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from "./limits.js";
import { type HttpRequest, RequestParser } from "./request-parser.js";
import { errorResponse, type HttpResponse, serializeResponse } from "./response.js";
import type { ListenTcp, TcpConnection, TcpListener } from "./tcp-port.js";

export type HttpHandler = (request: HttpRequest) => HttpResponse | Promise<HttpResponse>;

export interface HttpServerOptions {
  readonly listen: ListenTcp;
  /** 0: any free port (listening() tells which). */
  readonly port: number;
  readonly clock: Clock;
  readonly log: LogSink;
  readonly handler: HttpHandler;
  readonly limits?: Partial<HttpLimits>;
}

export interface HttpServerCounters {
  readonly accepted: number;
  /** Connections refused with 503 because `connections` were open. */
  readonly refused: number;
  /** Requests that reached the handler. */
  readonly handled: number;
  /** Requests answered with an error status by the server itself (malformed, too large, slow). */
  readonly rejected: number;
  readonly timedOut: number;
}

interface Client {
  readonly connection: TcpConnection;
  readonly parser: RequestParser;
  timer: TimerHandle | undefined;
  /** The response is queued (or the connection is going): nothing more is read. */
  answered: boolean;
  closed: boolean;
}

export class HttpServer {
  readonly #options: HttpServerOptions;
  readonly #limits: HttpLimits;
  /** Bound: limits.connections. */
  readonly #clients: Client[] = [];
  #listener: TcpListener | undefined;
  #closed = false;
  #accepted = 0;
  #refused = 0;
  #handled = 0;
  #rejected = 0;
  #timedOut = 0;

  constructor(options: HttpServerOptions) {
    this.#options = options;
    this.#limits = Object.freeze({ ...DEFAULT_HTTP_LIMITS, ...options.limits });
  }

  get limits(): HttpLimits {
    return this.#limits;
  }

  get counters(): HttpServerCounters {
    return {
      accepted: this.#accepted,
      refused: this.#refused,
      handled: this.#handled,
      rejected: this.#rejected,
      timedOut: this.#timedOut,
    };
  }

  /** Connections open now. */
  get connections(): number {
    return this.#clients.length;
  }

  /** The bound port once listening. */
  get port(): number | undefined {
    return this.#listener?.port;
  }

  /** Binds the port; resolves the bound port. Rejects when it cannot be had. */
  async listen(): Promise<number> {
    if (this.#closed) throw new Error("HttpServer: closed");
    if (this.#listener !== undefined) return this.#listener.port;
    const listener = await this.#options.listen({
      port: this.#options.port,
      onConnection: (connection) => this.#accept(connection),
    });
    if (this.#closed) {
      listener.close();
      throw new Error("HttpServer: closed while binding");
    }
    this.#listener = listener;
    return listener.port;
  }

  /** Stops listening and drops every connection; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener?.close();
    this.#listener = undefined;
    for (const client of this.#clients.slice()) this.#drop(client);
  }

  #accept(connection: TcpConnection): void {
    if (this.#closed) {
      connection.destroy();
      return;
    }
    if (this.#clients.length >= this.#limits.connections) {
      this.#refused++;
      // RFC 9110 §15.6.4: overloaded; Retry-After tells a browser when to try again.
      connection.setHandlers({ onData: () => undefined, onClose: () => undefined });
      connection.write(serializeResponse(errorResponse(503, "too many connections", [["Retry-After", "1"]])));
      connection.end();
      return;
    }
    this.#accepted++;
    const client: Client = {
      connection,
      parser: new RequestParser(this.#limits),
      timer: undefined,
      answered: false,
      closed: false,
    };
    this.#clients.push(client);
    client.timer = this.#options.clock.setTimer(() => this.#timeout(client), this.#limits.requestTimeoutMs);
    connection.setHandlers({
      onData: (bytes) => this.#receive(client, bytes),
      onClose: () => this.#forget(client),
    });
  }

  #receive(client: Client, bytes: Uint8Array): void {
    if (client.answered || client.closed) return;
    const result = client.parser.push(bytes);
    if (result.kind === "incomplete") return;
    if (result.kind === "error") {
      this.#rejected++;
      this.#options.log("debug", `http: ${result.status} (${result.reason})`);
      this.#respond(client, errorResponse(result.status, result.reason), false);
      return;
    }
    const request = result.request;
    client.answered = true;
    this.#handled++;
    let pending: Promise<HttpResponse>;
    try {
      pending = Promise.resolve(this.#options.handler(request));
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (response) => this.#respond(client, response, request.method === "HEAD"),
      (error: unknown) => {
        this.#options.log("error", `http: handler failed on ${request.method} ${request.path}: ${String(error)}`);
        this.#respond(client, errorResponse(500, "the device could not answer"), false);
      },
    );
  }

  #timeout(client: Client): void {
    client.timer = undefined;
    if (client.closed) return;
    if (client.answered || !client.parser.started) {
      this.#drop(client);
      return;
    }
    this.#timedOut++;
    this.#rejected++;
    this.#respond(client, errorResponse(408, "the request took too long"), false);
  }

  #respond(client: Client, response: HttpResponse, head: boolean): void {
    client.answered = true;
    if (client.closed) return;
    this.#cancel(client);
    client.connection.write(serializeResponse(response, head));
    client.connection.end();
    // A client that never reads the response must not hold its slot for ever.
    client.timer = this.#options.clock.setTimer(() => {
      client.timer = undefined;
      this.#drop(client);
    }, this.#limits.lingerMs);
  }

  #cancel(client: Client): void {
    if (client.timer !== undefined) this.#options.clock.clearTimer(client.timer);
    client.timer = undefined;
  }

  #drop(client: Client): void {
    if (client.closed) return;
    this.#forget(client);
    client.connection.destroy();
  }

  #forget(client: Client): void {
    if (client.closed) return;
    client.closed = true;
    this.#cancel(client);
    const at = this.#clients.indexOf(client);
    if (at >= 0) this.#clients.splice(at, 1);
  }
}
