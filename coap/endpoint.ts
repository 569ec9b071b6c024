// The CoAP client endpoint: one UDP port, one server. Composes the two layers of RFC 7252 (the
// message layer over the port, the request/response layer over it), request calls with Block2
// reassembly (RFC 7959), managed observations (RFC 7641) and an optional idle keep-alive, behind
// the CoapClient interface the rest of the core uses.

import type { Clock } from "../kernel/clock.js";
import type { LogSink } from "../kernel/log.js";
import type { RandomSource } from "../kernel/random.js";
import { RequestCall } from "./blockwise-request.js";
import {
  type AbortSignalLike,
  type CoapClient,
  CoapRequestError,
  type CoapResponse,
  type Observation,
  type ObserveHandlers,
  type ObserveOptions,
  type RequestOptions,
  type SentRequest,
} from "./client-api.js";
import { Code } from "./codes.js";
import type { DatagramPort } from "./datagram-port.js";
import { decodeMessage } from "./decoder.js";
import { IdleKeepAlive } from "./keepalive.js";
import { MessageLayer } from "./message-layer.js";
import { ManagedObservation, type ObservationSettings } from "./observation.js";
import { type TransmissionParameters, type TransmissionSettings, transmissionParameters } from "./parameters.js";
import type { PeerAddress } from "./peer-address.js";
import { describePeer, samePeer } from "./peer-address.js";
import type { Exchange, ExchangeSink } from "./pending-exchange.js";
import { RequestLayer } from "./request-layer.js";
import { type RequestTemplate, requestTemplate, templateOf, withBlock2 } from "./request-template.js";
import { type EndpointStats, newStats, statsSnapshot } from "./stats.js";

export interface ReregisterBackoff {
  /** Delay before the second attempt after a loss (the first is immediate); doubled per failure (default 2 s). */
  readonly initialMs?: number;
  /** The cap (default 5 min). Each delay is jittered down by up to half. */
  readonly maxMs?: number;
  /**
   * Retransmissions of one registration attempt (default 2, at most MAX_RETRANSMIT): with the
   * defaults an attempt gives up after 14–21 s instead of 93 s, and the backoff retries it.
   */
  readonly attemptMaxRetransmit?: number;
}

export interface EndpointOptions {
  /** A bound UDP socket; the endpoint owns it from now on and closes it in close(). */
  readonly port: DatagramPort;
  /** The server's resolved address. */
  readonly server: PeerAddress;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly log?: LogSink;
  /** RFC 7252 §4.8 transmission parameters (NSTART included); the rest keep their defaults. */
  readonly parameters?: Partial<TransmissionSettings>;
  /** Requests that may wait for an NSTART slot before request() fails with "queue-full" (default 8). */
  readonly maxQueue?: number;
  /** The largest response body, reassembled from blocks or not (default 16 KiB): larger is "too-large". */
  readonly maxBodySize?: number;
  /**
   * Block size to ask for, as SZX 0..6 (16..1024 bytes): sent early in GET/FETCH (RFC 7959 §2.4) and a cap for follow-
   * ups. Default: the server's choice.
   */
  readonly preferredBlockSzx?: number;
  /** The largest datagram built (default 1152, RFC 7252 §4.6). */
  readonly maxMessageSize?: number;
  /** Token bytes, 4..8 (default 8: plain CoAP has only the token against spoofed responses). */
  readonly tokenLength?: number;
  /** How long an acknowledged request waits for its separate response (default MAX_TRANSMIT_WAIT, 93 s). */
  readonly separateResponseTimeoutMs?: number;
  /** How long a NON request waits for its response (default NON_LIFETIME, 145 s). */
  readonly nonTimeoutMs?: number;
  /** Server message IDs remembered for duplicate detection (default 64). */
  readonly dedupCapacity?: number;
  /** Observations at once (default 8): observe() beyond throws "queue-full". */
  readonly maxObservations?: number;
  /**
   * Added to Max-Age for an observation's liveness window when ObserveOptions.livenessMs is not given (default 10 s).
   */
  readonly observeGraceMs?: number;
  readonly reregisterBackoff?: ReregisterBackoff;
  /**
   * Send a CoAP ping after this much silence toward the server (NAT keep-alive); off by default. A ping that gets no
   * answer re-registers every observation.
   */
  readonly keepAliveIdleMs?: number;
}

/** Transmissions at 0, 2–3 and 6–9 s, giving up at 14–21 s (ACK_TIMEOUT 2 s, ACK_RANDOM_FACTOR 1.5). */
const DEFAULT_ATTEMPT_MAX_RETRANSMIT = 2;

function positive(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(`${name} out of range: ${value}`);
  }
  return value;
}

function asRequestError(error: unknown): CoapRequestError {
  return error instanceof CoapRequestError
    ? error
    : new CoapRequestError("bad-request", error instanceof Error ? error.message : String(error));
}

export class CoapEndpoint implements CoapClient {
  readonly #messages: MessageLayer;
  readonly #requests: RequestLayer;
  /** The Block2 settings of every request call, and what every observation shares. */
  readonly #settings: ObservationSettings;
  readonly #maxObservations: number;
  /** Bound: maxObservations. */
  readonly #observations: ManagedObservation[] = [];
  readonly #keepAlive: IdleKeepAlive | undefined;
  #closed = false;

  constructor(options: EndpointOptions) {
    // The clock, log, counters and parameters are kept by the layers only (read back through #requests).
    const p = transmissionParameters(options.parameters);
    const stats = newStats();
    const szx = options.preferredBlockSzx;
    if (szx !== undefined && (!Number.isInteger(szx) || szx < 0 || szx > 6))
      throw new RangeError(`preferredBlockSzx must be 0..6: ${szx}`);
    const maxBodySize = positive("maxBodySize", options.maxBodySize, 16_384);
    this.#maxObservations = positive("maxObservations", options.maxObservations, 8);
    const graceMs = positive("observeGraceMs", options.observeGraceMs, 10_000, true);
    const backoffInitialMs = positive("reregisterBackoff.initialMs", options.reregisterBackoff?.initialMs, 2000);
    const backoffMaxMs = positive("reregisterBackoff.maxMs", options.reregisterBackoff?.maxMs, 300_000);
    const attemptMaxRetransmit = options.reregisterBackoff?.attemptMaxRetransmit ?? DEFAULT_ATTEMPT_MAX_RETRANSMIT;
    if (!Number.isInteger(attemptMaxRetransmit) || attemptMaxRetransmit < 0) {
      throw new RangeError(`reregisterBackoff.attemptMaxRetransmit out of range: ${attemptMaxRetransmit}`);
    }
    // RetransmissionSchedule caps registrationMaxRetransmit at MAX_RETRANSMIT.
    this.#settings = Object.freeze({
      maxBodySize,
      preferredSzx: szx,
      graceMs,
      backoffInitialMs,
      backoffMaxMs,
      registrationMaxRetransmit: attemptMaxRetransmit,
    });
    const maxQueue = positive("maxQueue", options.maxQueue, 8, true);
    const separateResponseTimeoutMs = positive(
      "separateResponseTimeoutMs",
      options.separateResponseTimeoutMs,
      p.maxTransmitWaitMs,
    );
    const nonTimeoutMs = positive("nonTimeoutMs", options.nonTimeoutMs, p.nonLifetimeMs);
    const dedupCapacity = positive("dedupCapacity", options.dedupCapacity, 64);
    const maxMessageSize = positive("maxMessageSize", options.maxMessageSize, 1152);
    const messages = new MessageLayer({
      port: options.port,
      server: options.server,
      clock: options.clock,
      random: options.random,
      log: options.log,
      stats,
      parameters: p,
      dedupCapacity,
    });
    const requests = new RequestLayer({
      messages,
      observations: this.#observations,
      maxQueue,
      separateResponseTimeoutMs,
      nonTimeoutMs,
      maxMessageSize,
      tokenLength: options.tokenLength ?? 8,
    });
    this.#messages = messages;
    this.#requests = requests;
    this.#keepAlive =
      options.keepAliveIdleMs === undefined
        ? undefined
        : new IdleKeepAlive({
            clock: options.clock,
            idleMs: positive("keepAliveIdleMs", options.keepAliveIdleMs, 0),
            lastSentAt: () => messages.lastSentAt,
            ping: () => this.keepAlivePing(),
          });
  }

  /** This endpoint's frozen transmission parameters, derived values included. */
  get parameters(): TransmissionParameters {
    return this.#requests.parameters;
  }

  /** A snapshot of the counters. */
  get stats(): EndpointStats {
    return statsSnapshot(this.#requests.stats);
  }

  get server(): PeerAddress {
    return this.#messages.server;
  }

  /** Observations currently held (each re-registering or not). */
  get observationCount(): number {
    return this.#observations.length;
  }

  /**
   * The server's address changed (DNS answered differently): pending requests retransmit to
   * the new address and every observation registers there again. The same address does nothing.
   */
  setServer(server: PeerAddress): void {
    if (this.#closed || samePeer(server, this.#messages.server)) return;
    this.#requests.log("info", `coap: server is now ${describePeer(server)}`);
    this.#messages.setServer(server);
    this.reregisterAll();
  }

  request(options: RequestOptions): Promise<CoapResponse> {
    return new Promise<CoapResponse>((resolve, reject) => {
      let template: RequestTemplate;
      try {
        template = requestTemplate(options);
      } catch (error) {
        reject(asRequestError(error));
        return;
      }
      const first = this.withEarlyBlock2(template);
      this.run(template, (sink) => this.#requests.start({ template: first }, sink), options.signal, resolve, reject);
    });
  }

  resend(sent: SentRequest): Promise<CoapResponse> {
    return new Promise<CoapResponse>((resolve, reject) => {
      let template: RequestTemplate;
      try {
        template = templateOf(decodeMessage(sent.bytes));
      } catch (error) {
        reject(
          new CoapRequestError(
            "bad-request",
            `sent.bytes is not a CoAP message: ${error instanceof Error ? error.message : String(error)}`,
          ),
        );
        return;
      }
      this.run(template, (sink) => this.#requests.startResend(sent, sink), undefined, resolve, reject);
    });
  }

  /**
   * Starts observing; the Observation keeps itself registered until cancel() or close().
   * Throws CoapRequestError "queue-full" past maxObservations, "bad-request" for a request
   * that cannot be built, "cancelled" after close().
   */
  observe(options: RequestOptions, handlers: ObserveHandlers, observeOptions: ObserveOptions = {}): Observation {
    if (this.#closed) throw new CoapRequestError("cancelled", "endpoint closed");
    if (this.#observations.length >= this.#maxObservations) {
      throw new CoapRequestError("queue-full", `already ${this.#observations.length} observations`);
    }
    const livenessMs =
      observeOptions.livenessMs === undefined ? undefined : positive("livenessMs", observeOptions.livenessMs, 0);
    const template = this.withEarlyBlock2(requestTemplate(options));
    const observation = new ManagedObservation(
      this.#requests,
      template,
      handlers,
      this.#settings,
      livenessMs,
      observeOptions.deliverReordered === true,
    );
    this.#observations.push(observation);
    observation.start();
    return observation;
  }

  /** Re-registers every observation now (network back, server known to have restarted). */
  reregisterAll(): void {
    for (const observation of this.#observations.slice()) observation.reregister();
  }

  /** A CoAP ping (RFC 7252 §4.3); resolves with the round-trip time in ms, rejects with "timeout". */
  ping(): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const clock = this.#requests.clock;
      const startedAt = clock.now();
      try {
        this.#requests.startPing({ onResponse: () => resolve(clock.now() - startedAt), onFailure: reject });
      } catch (error) {
        reject(asRequestError(error));
      }
    });
  }

  /** Rejects everything pending with "cancelled", stops every observation and timer, closes the port. Safe twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#keepAlive?.stop();
    for (const observation of this.#observations.slice()) observation.close();
    this.#requests.close();
    this.#messages.close();
  }

  /** RFC 7959 §2.4 early negotiation: ask for the preferred block size from the first GET/FETCH on. */
  private withEarlyBlock2(template: RequestTemplate): RequestTemplate {
    const szx = this.#settings.preferredSzx;
    if (szx === undefined || (template.code !== Code.GET && template.code !== Code.FETCH)) return template;
    return withBlock2(template, { num: 0, more: false, szx });
  }

  private run(
    template: RequestTemplate,
    startFirst: (sink: ExchangeSink) => Exchange,
    signal: AbortSignalLike | undefined,
    resolve: (response: CoapResponse) => void,
    reject: (error: CoapRequestError) => void,
  ): void {
    if (signal?.aborted === true) {
      reject(new CoapRequestError("cancelled", "aborted before it was sent"));
      return;
    }
    if (signal === undefined) {
      // The promise's own functions end the call: no closures made for it.
      const call = new RequestCall(this.#requests, template, this.#settings, { onResponse: resolve, onError: reject });
      try {
        call.begin(startFirst);
      } catch (error) {
        reject(asRequestError(error));
      }
      return;
    }
    let onAbort: (() => void) | undefined;
    const detach = (): void => {
      if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
      onAbort = undefined;
    };
    const call = new RequestCall(this.#requests, template, this.#settings, {
      onResponse: (response) => {
        detach();
        resolve(response);
      },
      onError: (error) => {
        detach();
        reject(error);
      },
    });
    onAbort = () => call.cancel("aborted");
    signal.addEventListener("abort", onAbort);
    try {
      call.begin(startFirst);
    } catch (error) {
      detach();
      reject(asRequestError(error));
    }
  }

  private keepAlivePing(): void {
    if (this.#closed) return;
    this.ping().catch((error: unknown) => {
      if (this.#closed) return;
      this.#requests.log(
        "warn",
        `coap: keep-alive ping failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      if (error instanceof CoapRequestError && error.kind === "timeout") this.reregisterAll();
    });
  }
}
