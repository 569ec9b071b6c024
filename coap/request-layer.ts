// The request/response layer of RFC 7252 (§5) over the message layer (coap/message-layer.ts),
// for one client talking to one server: requests with their tokens (§5.3.1), the bounded queue
// and NSTART (§4.7), matching of responses by token (§5.3.2; the message layer lets only the
// server's datagrams through), piggybacked and separate responses (§5.2), the routing of
// notifications to their observations, the rejections of §4.2 and §5.4.1 for codes and
// options, and the timeouts. Every exchange ends exactly once: answered, failed or cancelled.

import type { Clock } from "../kernel/clock.js";
import type { LogLevel } from "../kernel/log.js";
import type { RandomSource } from "../kernel/random.js";
import { CoapRequestError, type SentRequest } from "./client-api.js";
import { Code, codeClass, isRequestCode, isResponseCode, MessageType } from "./codes.js";
import { decodeMessage } from "./decoder.js";
import { encodeMessage } from "./encoder.js";
import { type DecodedMessage, EMPTY_BYTES, hasOption } from "./message.js";
import { emptyCon, type MessageLayer, type MessageLayerUpper } from "./message-layer.js";
import type { ManagedObservation, ObservationHost } from "./observation.js";
import { OptionNumber } from "./options.js";
import type { TransmissionParameters } from "./parameters.js";
import { Exchange, type ExchangeSink } from "./pending-exchange.js";
import type { RequestTemplate } from "./request-template.js";
import { Stat, type StatsCounters } from "./stats.js";
import { TokenRegistry, tokenKey } from "./tokens.js";

/** Receives the messages that carry the token of an observation (RFC 7641 notifications). */
export interface NotificationListener {
  /** The token listened on, as tokenKey() gives it; unchanged from listen() to unlisten(). */
  readonly tokenKey: string;
  onNotification(message: DecodedMessage): void;
}

export interface RequestLayerOptions {
  /** The layer below; this one attaches to it and is the only one to send through it. */
  readonly messages: MessageLayer;
  /** The endpoint's table of observations, which forget() takes an ended one out of. */
  readonly observations: ManagedObservation[];
  /** Requests waiting for an NSTART slot. */
  readonly maxQueue: number;
  /** How long an acknowledged request waits for its separate response. */
  readonly separateResponseTimeoutMs: number;
  /** How long a NON request waits for its response. */
  readonly nonTimeoutMs: number;
  /** The largest datagram the endpoint builds. */
  readonly maxMessageSize: number;
  readonly tokenLength: number;
}

export interface OutgoingRequest {
  readonly template: RequestTemplate;
  /** The observation's token; omitted, a fresh token is drawn and given back at the end. */
  readonly token?: Uint8Array;
  /** Head of the queue (Block2 follow-ups). */
  readonly priority?: boolean;
  /** Exempt from the queue bound: bounded by the observation table or by its block transfer. */
  readonly internal?: boolean;
  /**
   * Fewer retransmissions than MAX_RETRANSMIT, for an owner that retries on its own backoff
   * (observe registrations): its attempt gives up sooner instead of waiting out MAX_TRANSMIT_WAIT.
   */
  readonly maxRetransmit?: number;
}

/**
 * Also the message layer's upper layer (MessageLayerUpper): it attaches itself, so the four
 * entry points are methods rather than closures kept for the life of the endpoint. And what the
 * observations and request calls reach the endpoint through (ObservationHost, CallHost in it),
 * where an object of its own would keep another copy of the clock, random, stats and log.
 */
export class RequestLayer implements MessageLayerUpper, ObservationHost {
  readonly #messages: MessageLayer;
  readonly #observations: ManagedObservation[];
  readonly #maxQueue: number;
  readonly #separateResponseTimeoutMs: number;
  readonly #nonTimeoutMs: number;
  /** Requests are encoded at their exact size (no buffer of this size is kept). */
  readonly #maxMessageSize: number;
  readonly #tokens: TokenRegistry;

  /** Waiting for a slot. Bound: maxQueue counted entries, plus internal ones bounded by their owners. */
  #queue: Exchange[] = [];
  #countedInQueue = 0;
  /**
   * Sent and waiting for a response, one per token, in the order sent. Bound: NSTART plus
   * acknowledged ones, each ending by timeout; an array searched by token, for so few smaller than a Map.
   */
  readonly #byToken: Exchange[] = [];
  /**
   * Listeners on observation tokens. Bound: the endpoint's observation table; an array searched
   * by token, for so few smaller than a Map.
   */
  readonly #listeners: NotificationListener[] = [];
  /** Exchanges holding an NSTART slot (§4.7). Bound: NSTART. */
  #outstanding = 0;
  #closed = false;

  constructor(options: RequestLayerOptions) {
    this.#messages = options.messages;
    this.#observations = options.observations;
    this.#maxQueue = options.maxQueue;
    this.#separateResponseTimeoutMs = options.separateResponseTimeoutMs;
    this.#nonTimeoutMs = options.nonTimeoutMs;
    this.#maxMessageSize = options.maxMessageSize;
    this.#tokens = new TokenRegistry(options.messages.random, options.tokenLength);
    this.#messages.attach(this);
  }

  // The clock, random source, counters, parameters and log are the message layer's (no copies kept).
  get clock(): Clock {
    return this.#messages.clock;
  }

  get random(): RandomSource {
    return this.#messages.random;
  }

  get stats(): StatsCounters {
    return this.#messages.stats;
  }

  /** The endpoint's transmission parameters (RFC 7252 §4.8). */
  get parameters(): TransmissionParameters {
    return this.#messages.parameters;
  }

  allocateToken(): Uint8Array {
    return this.#tokens.allocate();
  }

  releaseToken(key: string): void {
    this.#tokens.release(key);
  }

  /** Routes messages carrying `listener.tokenKey` to it once no exchange claims them. */
  listen(listener: NotificationListener): void {
    if (!this.#listeners.includes(listener)) this.#listeners.push(listener);
  }

  unlisten(listener: NotificationListener): void {
    const at = this.#listeners.indexOf(listener);
    if (at >= 0) this.#listeners.splice(at, 1);
  }

  /** @internal (CallHost) */
  countBlockRequest(): void {
    this.stats[Stat.blockRequests]++;
  }

  /** @internal (ObservationHost): application callbacks run in a later turn, never re-entrantly; a throw is logged. */
  defer(callback: () => void): void {
    Promise.resolve()
      .then(callback)
      .catch((error: unknown) =>
        this.#messages.logging?.log(
          "error",
          `coap: application callback threw: ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
  }

  /** @internal (ObservationHost) */
  log(level: LogLevel, text: string): void {
    this.#messages.logging?.log(level, text);
  }

  /** @internal (ObservationHost) */
  forget(observation: ManagedObservation): void {
    const at = this.#observations.indexOf(observation);
    if (at >= 0) this.#observations.splice(at, 1);
  }

  /**
   * Queues a request. Throws CoapRequestError: "bad-request" (cannot be encoded), "queue-full", "cancelled" (closed).
   */
  start(request: OutgoingRequest, sink: ExchangeSink): Exchange {
    this.checkOpen();
    const counted = request.internal !== true;
    this.checkRoom(counted);
    const ownsToken = request.token === undefined;
    const token = request.token ?? this.#tokens.allocate();
    const key = tokenKey(token);
    let bytes: Uint8Array;
    try {
      const t = request.template;
      bytes = encodeMessage(
        { type: t.type, code: t.code, messageId: 0, token, options: t.options, payload: t.payload },
        this.#maxMessageSize,
      );
    } catch (error) {
      if (ownsToken) this.#tokens.release(key);
      throw new CoapRequestError(
        "bad-request",
        `cannot encode the request: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const exchange = new Exchange({
      bytes,
      confirmable: request.template.type === MessageType.CON,
      token,
      tokenKey: key,
      ownsToken,
      ping: false,
      priority: request.priority === true,
      counted,
      maxRetransmit: request.maxRetransmit,
      sink,
    });
    this.enqueue(exchange);
    return exchange;
  }

  /** Queues a CoAP ping: an empty CON the server must answer with RST (RFC 7252 §4.3). */
  startPing(sink: ExchangeSink): Exchange {
    this.checkOpen();
    const exchange = new Exchange({
      bytes: emptyCon(),
      confirmable: true,
      token: EMPTY_BYTES,
      tokenKey: "",
      ownsToken: false,
      ping: true,
      priority: false,
      counted: false,
      sink,
    });
    this.enqueue(exchange);
    return exchange;
  }

  /**
   * Queues `sent` again as the same message (same ID and token) so that a server with duplicate
   * detection answers it without acting twice (RFC 7252 §4.5). Only while the server can still
   * remember it: every transmission happens before firstSentAt + EXCHANGE_LIFETIME (§4.8.2).
   */
  startResend(sent: SentRequest, sink: ExchangeSink): Exchange {
    this.checkOpen();
    const deadline = sent.firstSentAt + this.#messages.parameters.exchangeLifetimeMs;
    if (this.clock.now() >= deadline) {
      throw new CoapRequestError(
        "expired",
        "EXCHANGE_LIFETIME has passed since the first transmission; send a new request",
      );
    }
    let message: DecodedMessage;
    try {
      message = decodeMessage(sent.bytes);
    } catch (error) {
      throw new CoapRequestError(
        "bad-request",
        `sent.bytes is not a CoAP message: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const key = tokenKey(sent.token);
    if (
      message.messageId !== sent.messageId ||
      tokenKey(message.token) !== key ||
      !isRequestCode(message.code) ||
      (message.type !== MessageType.CON && message.type !== MessageType.NON)
    ) {
      throw new CoapRequestError("bad-request", "sent.bytes does not hold the request described by sent");
    }
    if (
      this.#messages.isAwaiting(sent.messageId) ||
      this.#queue.some((e) => e.fixedMessageId && e.messageId === sent.messageId)
    ) {
      throw new CoapRequestError("bad-request", "that request is still pending");
    }
    this.checkRoom(true);
    if (!this.#tokens.claim(key)) throw new CoapRequestError("bad-request", "that request's token is in use");
    const exchange = new Exchange({
      bytes: sent.bytes.slice(),
      confirmable: message.type === MessageType.CON,
      token: sent.token.slice(),
      tokenKey: key,
      ownsToken: true,
      messageId: sent.messageId,
      firstSentAt: sent.firstSentAt,
      deadline,
      ping: false,
      priority: false,
      counted: true,
      sink,
    });
    this.enqueue(exchange);
    return exchange;
  }

  /** Ends `exchange` with a "cancelled" error unless it has already ended. */
  cancel(exchange: Exchange, reason: string = "cancelled"): void {
    if (exchange.state === "done") return;
    this.stats[Stat.cancelled]++;
    this.fail(exchange, new CoapRequestError("cancelled", reason));
  }

  /** Ends every exchange with "cancelled" and forgets every token and listener. Safe twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const all = new Set<Exchange>([...this.#queue, ...this.#messages.awaiting(), ...this.#byToken]);
    for (const exchange of all) this.cancel(exchange, "endpoint closed");
    this.#listeners.length = 0;
    this.#tokens.clear();
  }

  private listenerOn(key: string): NotificationListener | undefined {
    for (const listener of this.#listeners) if (listener.tokenKey === key) return listener;
    return undefined;
  }

  private withToken(key: string): Exchange | undefined {
    for (const exchange of this.#byToken) if (exchange.tokenKey === key) return exchange;
    return undefined;
  }

  private checkOpen(): void {
    if (this.#closed) throw new CoapRequestError("cancelled", "endpoint closed");
  }

  private checkRoom(counted: boolean): void {
    // Room counts the free NSTART slots too: a request that can go out at once never waits.
    const free = this.#messages.parameters.nstart - this.#outstanding - this.#queue.length;
    if (counted && free <= 0 && this.#countedInQueue >= this.#maxQueue) {
      this.stats[Stat.queueFull]++;
      throw new CoapRequestError("queue-full", `${this.#countedInQueue} requests already waiting`);
    }
  }

  private enqueue(exchange: Exchange): void {
    if (exchange.priority) {
      let at = 0;
      while (at < this.#queue.length && this.#queue[at]!.priority) at++;
      this.#queue.splice(at, 0, exchange);
    } else {
      this.#queue.push(exchange);
    }
    if (exchange.counted) this.#countedInQueue++;
    this.pump();
  }

  /** Starts queued exchanges while NSTART allows (§4.7). */
  private pump(): void {
    while (!this.#closed && this.#outstanding < this.#messages.parameters.nstart && this.#queue.length > 0) {
      const exchange = this.#queue.shift()!;
      if (exchange.counted) this.#countedInQueue--;
      this.begin(exchange);
    }
  }

  private begin(exchange: Exchange): void {
    const now = this.clock.now();
    if (exchange.deadline !== undefined && now >= exchange.deadline) {
      exchange.state = "done";
      this.releaseTokenOf(exchange);
      this.notifyFailure(
        exchange,
        new CoapRequestError("expired", "waited in the queue past EXCHANGE_LIFETIME; send a new request"),
      );
      return;
    }
    exchange.firstSentAt ??= now;
    exchange.holdsSlot = true;
    this.#outstanding++;
    if (!exchange.ping) {
      const previous = this.withToken(exchange.tokenKey);
      if (previous === undefined) this.#byToken.push(exchange);
      else this.#byToken[this.#byToken.indexOf(previous)] = exchange;
    }
    if (!exchange.confirmable) {
      // A CON first waits for its ACK, in the message layer; a NON only for its response.
      exchange.state = "awaiting-response";
      this.awaitResponse(exchange, this.#nonTimeoutMs);
    }
    if (exchange.ping) this.stats[Stat.pings]++;
    else this.stats[Stat.requestsSent]++;
    this.#messages.send(exchange);
  }

  private awaitResponse(exchange: Exchange, delayMs: number): void {
    exchange.responseTimer = this.clock.setTimer(() => {
      exchange.responseTimer = undefined;
      this.timedOut(exchange);
    }, delayMs);
  }

  /** No ACK (from the message layer) or no response in time. */
  private timedOut(exchange: Exchange): void {
    if (exchange.ping) this.stats[Stat.pingTimeouts]++;
    this.stats[Stat.timeouts]++;
    const what =
      exchange.state === "awaiting-ack" ? "no ACK after MAX_RETRANSMIT retransmissions" : "no response in time";
    this.fail(exchange, new CoapRequestError("timeout", `${what} (mid=${exchange.messageId})`, exchange.sent()));
  }

  /** Takes `exchange` out of every table and timer; its slot goes back (without pumping yet). */
  private retire(exchange: Exchange): void {
    if (exchange.state === "queued") {
      const at = this.#queue.indexOf(exchange);
      if (at >= 0) {
        this.#queue.splice(at, 1);
        if (exchange.counted) this.#countedInQueue--;
      }
    }
    exchange.state = "done";
    if (exchange.responseTimer !== undefined) {
      this.clock.clearTimer(exchange.responseTimer);
      exchange.responseTimer = undefined;
    }
    this.#messages.forget(exchange);
    const at = this.#byToken.indexOf(exchange);
    if (at >= 0) this.#byToken.splice(at, 1);
    this.releaseSlot(exchange);
    this.releaseTokenOf(exchange);
  }

  private releaseSlot(exchange: Exchange): void {
    if (!exchange.holdsSlot) return;
    exchange.holdsSlot = false;
    this.#outstanding--;
  }

  private releaseTokenOf(exchange: Exchange): void {
    if (exchange.ownsToken) this.#tokens.release(exchange.tokenKey);
  }

  private complete(exchange: Exchange, message: DecodedMessage): void {
    this.retire(exchange);
    if (!exchange.ping) this.stats[Stat.responses]++;
    try {
      exchange.sink.onResponse(message);
    } catch (error) {
      this.#messages.logging?.log("error", `coap: response handler threw: ${String(error)}`);
    }
    // After the sink, so that a follow-up it queued (Block2) takes the freed slot first.
    this.pump();
  }

  private fail(exchange: Exchange, error: CoapRequestError): void {
    this.retire(exchange);
    this.notifyFailure(exchange, error);
    this.pump();
  }

  private notifyFailure(exchange: Exchange, error: CoapRequestError): void {
    try {
      exchange.sink.onFailure(error);
    } catch (thrown) {
      this.#messages.logging?.log("error", `coap: failure handler threw: ${String(thrown)}`);
    }
  }

  /** @internal (MessageLayerUpper) */
  onAckTimeout(exchange: Exchange): void {
    this.timedOut(exchange);
  }

  /** @internal (MessageLayerUpper) */
  onAck(message: DecodedMessage, byMessageId: Exchange | undefined): void {
    const exchange = byMessageId ?? this.acknowledgedAwaiting(message);
    if (exchange === undefined || (exchange.state !== "awaiting-ack" && exchange.state !== "awaiting-response")) {
      this.#messages.dropUnmatched(`ACK mid=${message.messageId} matches no pending CON`);
      return;
    }
    if (exchange.ping) {
      // An ACK to a ping is not what §4.3 asks for, but it proves the server alive just as well.
      this.complete(exchange, message);
      return;
    }
    if (message.code === Code.Empty) {
      if (exchange.state === "awaiting-response") {
        this.#messages.dropUnmatched(`a second empty ACK mid=${message.messageId}`);
        return;
      }
      // §5.2.2: the request arrived; stop retransmitting and wait for the separate response.
      // The exchange is no longer outstanding in the sense of NSTART (§4.7).
      this.#messages.forget(exchange);
      exchange.state = "awaiting-response";
      this.releaseSlot(exchange);
      this.awaitResponse(exchange, this.#separateResponseTimeoutMs);
      this.pump();
      return;
    }
    if (!isResponseCode(message.code)) {
      this.#messages.dropUnmatched(`ACK mid=${message.messageId} carries code ${message.code}, not a response`);
      return;
    }
    // §5.3.2: a piggybacked response must match the token as well as the message ID.
    if (tokenKey(message.token) !== exchange.tokenKey) {
      this.#messages.dropUnmatched(`piggybacked response mid=${message.messageId} with a foreign token`);
      return;
    }
    if (message.unrecognisedCritical.length > 0) {
      // §5.4.1 and §4.2: rejecting an ACK means ignoring it.
      this.stats[Stat.rejectedCritical]++;
      this.#messages.logging?.log(
        "warn",
        `coap: ignored a response with unrecognised critical options ${message.unrecognisedCritical.join(",")}`,
      );
      return;
    }
    this.complete(exchange, message);
  }

  /**
   * The exchange a piggybacked response belongs to when an empty ACK (perhaps forged: plain CoAP
   * cannot tell) already moved it to waiting for a separate response: same message ID, same
   * token. Without this the real response would match nothing and the request would time out.
   */
  private acknowledgedAwaiting(message: DecodedMessage): Exchange | undefined {
    if (message.code === Code.Empty) return undefined;
    const exchange = this.withToken(tokenKey(message.token));
    return exchange !== undefined && exchange.state === "awaiting-response" && exchange.messageId === message.messageId
      ? exchange
      : undefined;
  }

  /** @internal (MessageLayerUpper) */
  onReset(message: DecodedMessage, exchange: Exchange): void {
    if (exchange.ping) {
      this.complete(exchange, message);
      return;
    }
    this.stats[Stat.resetsReceived]++;
    this.fail(exchange, new CoapRequestError("reset", `the server answered mid=${message.messageId} with RST`));
  }

  /** @internal (MessageLayerUpper): a CON or NON with a code from the server, neither a duplicate nor empty. */
  onMessage(message: DecodedMessage): void {
    const con = message.type === MessageType.CON;
    if (!isResponseCode(message.code)) {
      // A request to a client, or a reserved code class (§4.2): rejected.
      this.#messages.dropUnmatched(`${con ? "CON" : "NON"} with code class ${codeClass(message.code)}`);
      if (con) this.#messages.reject(message);
      return;
    }
    if (message.unrecognisedCritical.length > 0) {
      // §5.4.1: the response is rejected: RST for a CON, ignored if NON.
      this.stats[Stat.rejectedCritical]++;
      this.#messages.logging?.log(
        "warn",
        `coap: rejected a response with unrecognised critical options ${message.unrecognisedCritical.join(",")}`,
      );
      if (con) this.#messages.reject(message);
      return;
    }
    const key = tokenKey(message.token);
    const exchange = this.withToken(key);
    if (exchange !== undefined) {
      // A separate response (§5.2.2), or the response to a NON request; when it comes before
      // the empty ACK it acknowledges the request all the same.
      this.#messages.accept(message);
      this.complete(exchange, message);
      return;
    }
    const listener = this.listenerOn(key);
    if (listener !== undefined) {
      this.#messages.accept(message);
      try {
        listener.onNotification(message);
      } catch (error) {
        this.#messages.logging?.log("error", `coap: notification listener threw: ${String(error)}`);
      }
      return;
    }
    // Unknown token: RST to a CON (§5.3.2, §4.2) and to a notification, which also cancels a
    // forgotten observation at the server (RFC 7641 §3.6); any other NON is ignored (§4.3).
    const notification = hasOption(message, OptionNumber.Observe);
    this.#messages.dropUnmatched(`${con ? "CON" : "NON"} response for unknown token ${key}`);
    if (con || notification) this.#messages.reject(message);
  }
}
