// Turns the configured server into the address the endpoint sends to. Host names go through
// Moddable's Net.resolve (lwIP's resolver on the board, the host's in the simulator); IP
// literals need no lookup. Resolve again after the network comes back: the platform's address
// may have changed, and a lookup made while offline fails.
import Net from "net";
import type { Clock, PeerAddress, TimerHandle } from "../coap/ports.js";
import type { ServerAddress } from "../device/config.js";

export interface ServerResolverOptions {
  readonly server: ServerAddress;
  readonly clock: Clock;
  /** Gives up on a lookup whose callback never comes (default 15 s). */
  readonly timeoutMs?: number;
}

export class ServerResolver {
  static readonly DEFAULT_TIMEOUT_MS = 15_000;

  readonly #server: ServerAddress;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  /** The lookup in progress; concurrent callers share it, so at most one is queued in lwIP. */
  #pending: Promise<PeerAddress> | undefined;
  #last: PeerAddress | undefined;
  #closed = false;

  constructor(options: ServerResolverOptions) {
    this.#server = options.server;
    this.#clock = options.clock;
    this.#timeoutMs = options.timeoutMs ?? ServerResolver.DEFAULT_TIMEOUT_MS;
  }

  /** The address of the last successful lookup, if any. */
  get last(): PeerAddress | undefined {
    return this.#last;
  }

  /** Looks the server up afresh; rejects with an Error naming the host on failure or timeout. */
  resolve(): Promise<PeerAddress> {
    if (this.#closed) return Promise.reject(new Error("ServerResolver: closed"));
    const server = this.#server;
    if (server.isIpLiteral) {
      this.#last = Object.freeze({ address: server.host, port: server.port });
      return Promise.resolve(this.#last);
    }
    this.#pending ??= this.#lookup().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  close(): void {
    this.#closed = true;
  }

  #lookup(): Promise<PeerAddress> {
    const { host, port } = this.#server;
    return new Promise<PeerAddress>((resolve, reject) => {
      let settled = false;
      let timer: TimerHandle | undefined;
      const finish = (address: string | undefined, problem: string): void => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) this.#clock.clearTimer(timer);
        if (this.#closed) reject(new Error("ServerResolver: closed"));
        else if (address === undefined || address === "") reject(new Error(`cannot resolve ${host}: ${problem}`));
        else resolve((this.#last = Object.freeze({ address, port })));
      };
      timer = this.#clock.setTimer(() => finish(undefined, `no answer in ${this.#timeoutMs} ms`), this.#timeoutMs);
      try {
        // lwIP holds a few lookups at once and throws when its queue is full.
        Net.resolve(host, (_name, address) => finish(address, "no such host or no DNS server"));
      } catch (error) {
        finish(undefined, error instanceof Error ? error.message : String(error));
      }
    });
  }
}
