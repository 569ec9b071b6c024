// An optional keep-alive for NAT bindings: when nothing has been sent to the server for
// `idleMs`, a CoAP ping (empty CON, RFC 7252 §4.3) goes out. Home routers and carrier NATs forget
// UDP mappings after 30 s to a few minutes; without outbound traffic, notifications from the
// server would then stop arriving without anyone noticing until the liveness window ran out.
import type { Clock, TimerHandle } from "../kernel/clock.js";

export interface KeepAliveOptions {
  readonly clock: Clock;
  readonly idleMs: number;
  /** When the endpoint last sent anything. */
  readonly lastSentAt: () => number;
  /** Sends the ping; the endpoint decides what a missing answer means. */
  readonly ping: () => void;
}

export class IdleKeepAlive {
  readonly #options: KeepAliveOptions;
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(options: KeepAliveOptions) {
    if (!(options.idleMs > 0)) throw new RangeError(`keep-alive idle time: ${options.idleMs}`);
    this.#options = options;
    this.#schedule();
  }

  /** Checks again when the link would have been idle for idleMs (at least idleMs after a ping). */
  #schedule(minimumMs: number = 0): void {
    if (this.#stopped) return;
    const { clock, idleMs, lastSentAt } = this.#options;
    const due = Math.max(minimumMs, lastSentAt() + idleMs - clock.now());
    this.#timer = clock.setTimer(() => this.#check(), due);
  }

  #check(): void {
    this.#timer = undefined;
    const { clock, idleMs, lastSentAt, ping } = this.#options;
    if (clock.now() - lastSentAt() < idleMs) {
      this.#schedule();
      return;
    }
    ping();
    this.#schedule(idleMs);
  }

  /** Safe twice. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#options.clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }
}
