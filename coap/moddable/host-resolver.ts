// DNS for the device's `resolve` port, on Moddable's Net.resolve: lwIP's resolver on the board,
// the host's (GLib, first IPv4 address only) in the simulator. The device asks again after the
// network comes back, since the platform's address may have changed and a lookup made offline
// fails.
import Net from "net";
import type { Clock, TimerHandle } from "../../kernel/clock.js";

export interface HostResolverOptions {
  readonly clock: Clock;
  /** Gives up on a lookup whose callback never comes (default 15 s). */
  readonly timeoutMs?: number;
}

export class HostResolver {
  static readonly DEFAULT_TIMEOUT_MS = 15_000;

  readonly #clock: Clock;
  readonly #timeoutMs: number;
  /** The lookup in progress and its host; concurrent asks for one host share it. */
  #pending: { readonly host: string; readonly address: Promise<string | undefined> } | undefined;
  #closed = false;

  constructor(options: HostResolverOptions) {
    this.#clock = options.clock;
    this.#timeoutMs = options.timeoutMs ?? HostResolver.DEFAULT_TIMEOUT_MS;
  }

  /**
   * The host's IPv4 address as text, or undefined when it cannot be resolved now (no such host,
   * no network, no answer in time). Rejects only when lwIP's lookup queue is full or after close().
   */
  resolve(host: string): Promise<string | undefined> {
    if (this.#closed) return Promise.reject(new Error("HostResolver: closed"));
    const pending = this.#pending;
    if (pending !== undefined && pending.host === host) return pending.address;
    const address = this.#lookup(host).finally(() => {
      if (this.#pending?.address === address) this.#pending = undefined;
    });
    this.#pending = { host, address };
    return address;
  }

  close(): void {
    this.#closed = true;
  }

  #lookup(host: string): Promise<string | undefined> {
    return new Promise<string | undefined>((resolve, reject) => {
      let timer: TimerHandle | undefined;
      const finish = (address: string | undefined, failure?: unknown): void => {
        if (timer === undefined) return;
        this.#clock.clearTimer(timer);
        timer = undefined;
        if (failure !== undefined) reject(failure instanceof Error ? failure : new Error(String(failure)));
        else if (this.#closed) reject(new Error("HostResolver: closed"));
        else resolve(address === "" ? undefined : address);
      };
      timer = this.#clock.setTimer(() => finish(undefined), this.#timeoutMs);
      try {
        Net.resolve(host, (_name, address) => finish(address));
      } catch (error) {
        // lwIP holds only a few lookups at once and throws when its queue is full.
        finish(undefined, error);
      }
    });
  }
}
