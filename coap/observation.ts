// One observation (RFC 7641) as the application sees it: one continuous subscription, kept
// alive underneath by registrations that come and go. Notifications are delivered in order and
// stale ones dropped (§3.4); a block-wise notification is fetched in full (RFC 7959 §2.6).
// When the stream stops — silence past the liveness window (Max-Age + grace or the
// application's keep-alive, §3.3.1), an error or Observe-less notification (§3.2), a failed or
// refused registration — the application hears onLost once and the observation registers again
// with a fresh token, at once and then with jittered exponential backoff while it keeps
// failing. Each registration attempt retransmits fewer times than MAX_RETRANSMIT: with a
// server away, a full CON exchange would spend MAX_TRANSMIT_WAIT (93 s) on one attempt and leave
// gaps of tens of seconds between its last transmissions, while short attempts on the backoff
// keep the next registration at most the backoff cap away from the server's return. The first
// success after a loss is reported by onReestablished. The old token is forgotten, so the
// server's next notification on it gets a RST (reactive cancel, §3.6).
import { Backoff } from "../kernel/backoff.js";
import type { Clock, TimerHandle } from "../kernel/clock.js";
import type { RandomSource } from "../kernel/random.js";
import type { Block2Settings } from "./block2.js";
import { block2Of, type CallHost, RequestCall } from "./blockwise-request.js";
import type { CoapRequestError, CoapResponse, Observation, ObserveHandlers } from "./client-api.js";
import { codeString, isSuccessCode } from "./codes.js";
import { decodeMessage } from "./decoder.js";
import type { DecodedMessage } from "./message.js";
import { optionUint } from "./message.js";
import { ObserveFreshness } from "./observe-freshness.js";
import { decodeUint, OptionNumber } from "./options.js";
import type { ExchangeSink } from "./pending-exchange.js";
import type { NotificationListener } from "./request-layer.js";
import { observeRequest, packTemplate, type RequestTemplate, templateOf } from "./request-template.js";
import { toResponse } from "./response-view.js";
import { Stat, type StatsCounters } from "./stats.js";
import { tokenBytes, tokenKey } from "./tokens.js";

/** RFC 7252 §5.10.5: Max-Age when the option is absent. */
const DEFAULT_MAX_AGE_S = 60;
/**
 * The longest silence a Max-Age can buy (a forged or odd Max-Age reaches 2^32 − 1 s, §5.10.5):
 * one day, so the observation is re-checked at least daily, and well inside the timers' range.
 */
const MAX_LIVENESS_MS = 86_400_000;
const WITHOUT_BLOCK2: readonly number[] = Object.freeze([OptionNumber.Block2]);

/**
 * What every observation of an endpoint shares: one object made by the endpoint, which is also
 * the Block2 settings of every request call (a block-wise notification's too).
 */
export interface ObservationSettings extends Block2Settings {
  /** Added to Max-Age to allow for the notification's travel and the server's timing. */
  readonly graceMs: number;
  /**
   * Delay before the second attempt after a loss (the first goes at once), doubled per failure up to backoffMaxMs
   * (kernel/backoff.ts).
   */
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  /** Retransmissions of one registration attempt: the backoff above does the retrying. */
  readonly registrationMaxRetransmit: number;
}

/** What an observation needs from the endpoint. */
export interface ObservationHost extends CallHost {
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly stats: StatsCounters;
  allocateToken(): Uint8Array;
  releaseToken(key: string): void;
  /** Routes messages carrying `listener.tokenKey` to it once no exchange claims them. */
  listen(listener: NotificationListener): void;
  unlisten(listener: NotificationListener): void;
  /** Runs `callback` in a later turn (application callbacks are never called re-entrantly). */
  defer(callback: () => void): void;
  log(level: "debug" | "info" | "warn" | "error", text: string): void;
  /** The observation ended for good: drop it from the endpoint's table. */
  forget(observation: ManagedObservation): void;
}

type State = "registering" | "established" | "waiting" | "ended";

function packed(request: RequestTemplate): Uint8Array | RequestTemplate {
  try {
    return packTemplate(request);
  } catch {
    return request;
  }
}

function responseUint(response: CoapResponse, number: number): number | undefined {
  for (const option of response.options) {
    if (option.number !== number) continue;
    const value = option.value;
    return typeof value === "number" ? value : typeof value === "string" ? undefined : decodeUint(value);
  }
  return undefined;
}

export class ManagedObservation implements Observation, NotificationListener {
  readonly #host: ObservationHost;
  /**
   * The plain request, packed (packTemplate: about 200 bytes on the ESP32 where the template's
   * option objects took 480) and unpacked for each registration; one that cannot be encoded is
   * kept as it is, to fail its registration as before.
   */
  readonly #request: Uint8Array | RequestTemplate;
  readonly #handlers: ObserveHandlers;
  readonly #settings: ObservationSettings;
  /** The application's liveness window (ms), or undefined for Max-Age + grace. */
  readonly #livenessMs: number | undefined;
  /** See ObserveOptions.deliverReordered. */
  readonly #deliverReordered: boolean;
  readonly #freshness = new ObserveFreshness();
  #state: State = "registering";
  /** The current registration's token as hex, "" between registrations (the bytes are derived when needed). */
  #key = "";
  /**
   * While registering, the registration in flight; while established, the fetch of a block-wise
   * notification's remaining blocks. One field: each state has at most one call.
   */
  #call: RequestCall | undefined;
  /** Liveness while established, backoff while waiting. */
  #timer: TimerHandle | undefined;
  /** onLost was reported and onReestablished not yet. */
  #lost = false;
  /** When the registration in flight was started (clock time). */
  #registrationSentAt = Number.NaN;
  /** Registrations failed in a row since the last success (the first retry after a loss goes at once). */
  #failures = 0;
  /** Made when a registration fails and dropped on success: none is kept while the observation works. */
  #backoff: Backoff | undefined;

  /** `request` is the plain request (GET); the observation adds Observe itself. */
  constructor(
    host: ObservationHost,
    request: RequestTemplate,
    handlers: ObserveHandlers,
    settings: ObservationSettings,
    livenessMs: number | undefined,
    deliverReordered: boolean,
  ) {
    this.#host = host;
    this.#request = packed(request);
    this.#handlers = handlers;
    this.#settings = settings;
    this.#livenessMs = livenessMs;
    this.#deliverReordered = deliverReordered;
    // Made once here so that settings it refuses fail observe(), not a later timer.
    this.#backoff = this.newBackoff();
  }

  get active(): boolean {
    return this.#state !== "ended";
  }

  /** The token of the current registration (hex), "" between registrations. */
  get tokenKey(): string {
    return this.#key;
  }

  /** @internal the endpoint starts it once it is in the table. */
  start(): void {
    this.sendRegistration();
  }

  reregister(): void {
    if (this.#state === "ended") return;
    // A registration sent this very instant and still in flight is as fresh as one can be: a
    // second request for one (a new server address and the network-back event together) changes nothing.
    const inFlight = this.#state === "registering" && this.#call !== undefined;
    if (inFlight && this.#registrationSentAt === this.#host.clock.now()) return;
    this.#host.stats[Stat.observeReregistrations]++;
    this.resetBackoff();
    this.sendRegistration();
  }

  /** RFC 7641 §3.6: GET with Observe = 1 on the same token, if the server may hold a registration. */
  cancel(): Promise<void> {
    if (this.#state === "ended") return Promise.resolve();
    const registered =
      this.#state === "established" || (this.#state === "registering" && this.#call?.transmitted === true);
    const key = this.#key;
    this.end();
    if (!registered || key === "") {
      this.dropToken();
      return Promise.resolve();
    }
    // The token stays claimed until the deregistration ends: its answer must match it.
    const token = tokenBytes(key);
    this.#key = "";
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.#host.releaseToken(key);
        resolve();
      };
      const sink: ExchangeSink = { onResponse: done, onFailure: done };
      try {
        this.#host.start({ template: observeRequest(this.request(), 1), token, internal: true }, sink);
      } catch {
        done();
      }
    });
  }

  /** @internal endpoint closed: stop without a word on the network or to the application. */
  close(): void {
    if (this.#state === "ended") return;
    this.end();
    this.dropToken();
  }

  private request(): RequestTemplate {
    const request = this.#request;
    return request instanceof Uint8Array ? templateOf(decodeMessage(request)) : request;
  }

  private end(): void {
    this.#state = "ended";
    this.#lost = false;
    this.stopWork();
    this.#host.unlisten(this);
    this.#host.forget(this);
  }

  private stopWork(): void {
    if (this.#timer !== undefined) {
      this.#host.clock.clearTimer(this.#timer);
      this.#timer = undefined;
    }
    const call = this.#call;
    this.#call = undefined;
    call?.cancel("observation changed course");
  }

  private dropToken(): void {
    if (this.#key === "") return;
    this.#host.unlisten(this);
    this.#host.releaseToken(this.#key);
    this.#key = "";
  }

  private sendRegistration(): void {
    this.stopWork();
    this.dropToken();
    const token = this.#host.allocateToken();
    const key = tokenKey(token);
    this.#key = key;
    this.#state = "registering";
    this.#freshness.reset();
    this.#host.listen(this);
    this.#host.stats[Stat.observeRegistrations]++;
    const request = this.request();
    const call = new RequestCall(this.#host, request, this.#settings, {
      onResponse: (response) => {
        if (this.#call === call) this.onRegistered(response);
      },
      onError: (error) => {
        if (this.#call === call) this.onRegistrationFailed(error);
      },
    });
    this.#call = call;
    this.#registrationSentAt = this.#host.clock.now();
    try {
      const maxRetransmit = this.#settings.registrationMaxRetransmit;
      // The registration (Observe 0) is derived each time rather than kept beside the plain request.
      const register = observeRequest(request, 0);
      call.begin((sink) => this.#host.start({ template: register, token, internal: true, maxRetransmit }, sink));
    } catch (error) {
      this.#call = undefined;
      this.lose(`registration not sent: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private onRegistered(response: CoapResponse): void {
    this.#call = undefined;
    const sequence = responseUint(response, OptionNumber.Observe);
    if (!isSuccessCode(response.code) || sequence === undefined) {
      // §3.1: without Observe in the response the server keeps no registration.
      this.deliver(response);
      this.lose(
        isSuccessCode(response.code)
          ? "the server did not accept the observation"
          : `registration answered ${codeString(response.code)}`,
      );
      return;
    }
    this.#freshness.accept(sequence, this.#host.clock.now());
    this.established(responseUint(response, OptionNumber.MaxAge));
    this.deliver(response);
  }

  private onRegistrationFailed(error: CoapRequestError): void {
    this.#call = undefined;
    this.lose(`registration failed: ${error.kind}: ${error.message}`);
  }

  /** @internal the request layer hands over every message carrying the current registration's token. */
  onNotification(message: DecodedMessage): void {
    if (this.#state !== "established") return;
    const sequence = optionUint(message, OptionNumber.Observe);
    if (!isSuccessCode(message.code) || sequence === undefined) {
      // §3.2: a notification without Observe, or with an error code, is the last one.
      this.deliver(toResponse(message, undefined, WITHOUT_BLOCK2));
      this.lose(
        isSuccessCode(message.code)
          ? "the server ended the observation"
          : `notification ${codeString(message.code)} ended the observation`,
      );
      return;
    }
    if (!this.#freshness.accept(sequence, this.#host.clock.now())) {
      this.#host.stats[Stat.staleNotifications]++;
      if (!this.#deliverReordered) {
        this.#host.log("debug", `coap: stale notification ${sequence} dropped`);
        return;
      }
      this.#host.log(
        "debug",
        `coap: notification ${sequence} arrived after a newer one; delivered (events, not states)`,
      );
    }
    this.armLiveness(optionUint(message, OptionNumber.MaxAge));
    const block = block2Of(message);
    if (block !== undefined && (block.more || block.num !== 0)) {
      this.fetchRest(message);
      return;
    }
    this.deliver(toResponse(message, undefined, WITHOUT_BLOCK2));
  }

  /** RFC 7959 §2.6: the rest of a block-wise notification by plain GETs; a newer notification supersedes it. */
  private fetchRest(first: DecodedMessage): void {
    const previous = this.#call;
    this.#call = undefined;
    previous?.cancel("superseded by a newer notification");
    const call = new RequestCall(this.#host, this.request(), this.#settings, {
      onResponse: (response) => {
        if (this.#call !== call) return;
        this.#call = undefined;
        this.deliver(response);
      },
      onError: (error) => {
        if (this.#call === call) this.#call = undefined;
        if (error.kind !== "cancelled")
          this.#host.log("warn", `coap: block-wise notification not completed: ${error.kind}: ${error.message}`);
      },
    });
    this.#call = call;
    call.continueFrom(first);
  }

  private established(maxAge: number | undefined): void {
    this.#state = "established";
    this.resetBackoff();
    if (this.#lost) {
      this.#lost = false;
      this.#host.defer(() => {
        if (this.#state !== "ended") this.#handlers.onReestablished?.();
      });
    }
    this.armLiveness(maxAge);
  }

  private armLiveness(maxAgeSeconds: number | undefined): void {
    const fromMaxAge = Math.min((maxAgeSeconds ?? DEFAULT_MAX_AGE_S) * 1000 + this.#settings.graceMs, MAX_LIVENESS_MS);
    const window = this.#livenessMs ?? fromMaxAge;
    if (this.#timer !== undefined) this.#host.clock.clearTimer(this.#timer);
    this.#timer = this.#host.clock.setTimer(() => {
      this.#timer = undefined;
      this.lose(`no notification for ${window} ms`);
    }, window);
  }

  private lose(reason: string): void {
    if (this.#state === "ended") return;
    this.stopWork();
    this.dropToken();
    this.#state = "waiting";
    this.#host.stats[Stat.observeLost]++;
    this.#host.log("info", `coap: observation lost: ${reason}`);
    if (!this.#lost) {
      this.#lost = true;
      this.#host.defer(() => {
        if (this.#state !== "ended") this.#handlers.onLost?.(reason);
      });
    }
    const delay = this.backoffMs();
    this.#failures++;
    this.#timer = this.#host.clock.setTimer(() => {
      this.#timer = undefined;
      this.#host.stats[Stat.observeReregistrations]++;
      this.sendRegistration();
    }, delay);
  }

  /** At once after a working observation is lost; then the shared backoff (kernel/backoff.ts). */
  private backoffMs(): number {
    if (this.#failures === 0) return 0;
    this.#backoff ??= this.newBackoff();
    return this.#backoff.next();
  }

  /** A fresh Backoff starts at its first delay, as a reset one does. */
  private resetBackoff(): void {
    this.#failures = 0;
    this.#backoff = undefined;
  }

  private newBackoff(): Backoff {
    const settings = this.#settings;
    return new Backoff({
      random: this.#host.random,
      initialMs: settings.backoffInitialMs,
      maxMs: settings.backoffMaxMs,
    });
  }

  private deliver(response: CoapResponse): void {
    this.#host.defer(() => {
      if (this.#state === "ended") return;
      this.#host.stats[Stat.notifications]++;
      this.#handlers.onNotification(response);
    });
  }
}
