// Where the platform is: an IP literal at once; a host name through the target's DNS, tried
// again on a backoff while it does not resolve (a board may boot before its network is up).
// start() again after the network comes back looks the name up afresh: the answer may differ.
import type { PeerAddress } from "../coap/peer-address.js";
import { Backoff } from "../kernel/backoff.js";
import type { Clock, TimerHandle } from "../kernel/clock.js";
import type { LogSink } from "../kernel/log.js";
import type { RandomSource } from "../kernel/random.js";
import type { ServerAddress } from "./server-uri.js";

/** Resolves a host name to an address; rejects or resolves undefined when it cannot now. */
export type ResolveHost = (host: string) => Promise<string | undefined>;

export interface ServerResolutionOptions {
  readonly server: ServerAddress;
  /** The target's DNS; without it the host is used as given. */
  readonly resolve?: ResolveHost;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly log: LogSink;
  /** Told each address found (again after every start()); an object with the method, not a closure kept with it. */
  readonly host: { serverResolved(server: PeerAddress): void };
}

/** Waits between DNS attempts while the server's name does not resolve. */
const RESOLVE_BACKOFF = Object.freeze({ initialMs: 1_000, maxMs: 60_000 });

export class ServerResolution {
  readonly #options: ServerResolutionOptions;
  #timer: TimerHandle | undefined;
  /** Which lookup is current: a late answer to an older one is ignored. */
  #generation = 0;
  #closed = false;

  constructor(options: ServerResolutionOptions) {
    this.#options = options;
  }

  /** Whether there is nothing to look up (an IP literal, or no DNS on this target). */
  get isFixed(): boolean {
    return this.#options.server.isIpLiteral || this.#options.resolve === undefined;
  }

  /** Looks the server up now (a pending retry is dropped), with a fresh backoff. */
  start(): void {
    if (this.#closed) return;
    this.cancelRetry();
    const generation = ++this.#generation;
    this.attempt(generation, new Backoff({ ...RESOLVE_BACKOFF, random: this.#options.random }));
  }

  close(): void {
    this.#closed = true;
    this.#generation++;
    this.cancelRetry();
  }

  private cancelRetry(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  private attempt(generation: number, backoff: Backoff): void {
    const { host, port } = this.#options.server;
    const resolve = this.#options.resolve;
    if (this.isFixed || resolve === undefined) {
      this.#options.host.serverResolved({ address: host, port });
      return;
    }
    const retry = (why: string): void => {
      const delay = backoff.next();
      this.#options.log("warn", `cannot resolve ${host} (${why}); trying again in ${Math.round(delay / 1000)} s`);
      this.#timer = this.#options.clock.setTimer(() => {
        this.#timer = undefined;
        this.attempt(generation, backoff);
      }, delay);
    };
    resolve(host).then(
      (address) => {
        if (this.#closed || generation !== this.#generation) return;
        if (address === undefined || address === "") retry("no address");
        else this.#options.host.serverResolved({ address, port });
      },
      (error: unknown) => {
        if (!this.#closed && generation === this.#generation) retry(String(error));
      },
    );
  }
}
