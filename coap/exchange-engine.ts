// The message and request/response layers of RFC 7252 for one client talking to one server:
// the bounded queue and NSTART (§4.7), transmission and retransmission (§4.2), matching of
// ACK/RST by message ID and of responses by token and source (§5.3.2), separate responses
// (§5.2.2), duplicate detection (§4.5), and the rejections of §4.2, §4.3 and §5.4.1. Everything
// that arrives is either matched, answered as the RFC says, or dropped and counted.
import { Code, codeClass, isRequestCode, isResponseCode, MessageType } from "./codes.js";
import { decodeMessage } from "./decoder.js";
import { DuplicateCache } from "./dedup-cache.js";
import { MessageEncoder } from "./encoder.js";
import { Exchange, type ExchangeSink } from "./pending-exchange.js";
import { CoapRequestError, type SentRequest } from "./client-api.js";
import { EMPTY_BYTES, hasOption, type DecodedMessage } from "./message.js";
import { MessageIdSequence } from "./message-ids.js";
import { OptionNumber } from "./options.js";
import type { TransmissionParameters } from "./parameters.js";
import { describePeer, samePeer } from "./peer-address.js";
import type { Clock } from "../kernel/clock.js";
import type { DatagramPort } from "./datagram-port.js";
import type { LogSink } from "../kernel/log.js";
import type { PeerAddress } from "./peer-address.js";
import type { RandomSource } from "../kernel/random.js";
import type { RequestTemplate } from "./request-template.js";
import { RetransmissionSchedule } from "./retransmission.js";
import type { StatsCounters } from "./stats.js";
import { TokenRegistry, tokenKey } from "./tokens.js";

/** Receives the messages that carry the token of an observation (RFC 7641 notifications). */
export type NotificationListener = (message: DecodedMessage) => void;

export interface ExchangeEngineOptions {
  readonly port: DatagramPort;
  readonly server: PeerAddress;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly log: LogSink | undefined;
  readonly stats: StatsCounters;
  readonly parameters: TransmissionParameters;
  /** Requests waiting for an NSTART slot. */
  readonly maxQueue: number;
  /** How long an acknowledged request waits for its separate response. */
  readonly separateResponseTimeoutMs: number;
  /** How long a NON request waits for its response. */
  readonly nonTimeoutMs: number;
  readonly dedupCapacity: number;
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

/** The first byte's version bits (RFC 7252 §3). */
const VERSION_1 = 0x40;

export class ExchangeEngine {
  readonly #port: DatagramPort;
  #server: PeerAddress;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #log: LogSink | undefined;
  readonly #stats: StatsCounters;
  readonly #parameters: TransmissionParameters;
  readonly #maxQueue: number;
  readonly #separateResponseTimeoutMs: number;
  readonly #nonTimeoutMs: number;
  readonly #encoder: MessageEncoder;
  readonly #messageIds: MessageIdSequence;
  readonly #tokens: TokenRegistry;
  readonly #duplicates: DuplicateCache;

  /** Waiting for a slot. Bound: maxQueue counted entries, plus internal ones bounded by their owners. */
  #queue: Exchange[] = [];
  #countedInQueue = 0;
  /** Sent and waiting for ACK or RST (CON), or for RST or response (NON). Bound: NSTART plus pings. */
  readonly #byMessageId = new Map<number, Exchange>();
  /** Sent and waiting for a response. Bound: NSTART plus acknowledged ones, each ending by timeout. */
  readonly #byToken = new Map<string, Exchange>();
  /** Observation tokens. Bound: the endpoint's observation table. */
  readonly #listeners = new Map<string, NotificationListener>();
  #outstanding = 0;
  #lastSentAt: number;
  readonly #emptyReply = new Uint8Array(4);
  #closed = false;

  constructor(options: ExchangeEngineOptions) {
    this.#port = options.port;
    this.#server = options.server;
    this.#clock = options.clock;
    this.#random = options.random;
    this.#log = options.log;
    this.#stats = options.stats;
    this.#parameters = options.parameters;
    this.#maxQueue = options.maxQueue;
    this.#separateResponseTimeoutMs = options.separateResponseTimeoutMs;
    this.#nonTimeoutMs = options.nonTimeoutMs;
    this.#encoder = new MessageEncoder(options.maxMessageSize);
    this.#messageIds = new MessageIdSequence(options.random);
    this.#tokens = new TokenRegistry(options.random, options.tokenLength);
    this.#duplicates = new DuplicateCache(options.dedupCapacity);
    this.#lastSentAt = options.clock.now();
    this.#port.onReceive((bytes, from) => this.#receive(bytes, from));
  }

  get server(): PeerAddress {
    return this.#server;
  }

  /** A new server address (DNS changed): later transmissions, retransmissions included, go there. */
  setServer(server: PeerAddress): void {
    this.#server = server;
    // The message IDs remembered belong to the old peer (§4.5 is per endpoint).
    this.#duplicates.clear();
  }

  /** When the last datagram went out (for an idle keep-alive). */
  get lastSentAt(): number {
    return this.#lastSentAt;
  }

  get queueLength(): number {
    return this.#queue.length;
  }

  get outstanding(): number {
    return this.#outstanding;
  }

  get closed(): boolean {
    return this.#closed;
  }

  allocateToken(): Uint8Array {
    return this.#tokens.allocate();
  }

  releaseToken(key: string): void {
    this.#tokens.release(key);
  }

  /** Routes messages carrying `key` to `listener` once no exchange claims them. */
  listen(key: string, listener: NotificationListener): void {
    this.#listeners.set(key, listener);
  }

  unlisten(key: string): void {
    this.#listeners.delete(key);
  }

  /** Queues a request. Throws CoapRequestError: "bad-request" (cannot be encoded), "queue-full", "cancelled" (closed). */
  start(request: OutgoingRequest, sink: ExchangeSink): Exchange {
    this.#checkOpen();
    const counted = request.internal !== true;
    this.#checkRoom(counted);
    const ownsToken = request.token === undefined;
    const token = request.token ?? this.#tokens.allocate();
    const key = tokenKey(token);
    let bytes: Uint8Array;
    try {
      const t = request.template;
      bytes = this.#encoder.encode({ type: t.type, code: t.code, messageId: 0, token, options: t.options, payload: t.payload }).slice();
    } catch (error) {
      if (ownsToken) this.#tokens.release(key);
      throw new CoapRequestError("bad-request", `cannot encode the request: ${error instanceof Error ? error.message : String(error)}`);
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
    this.#enqueue(exchange);
    return exchange;
  }

  /** Queues a CoAP ping: an empty CON the server must answer with RST (RFC 7252 §4.3). */
  startPing(sink: ExchangeSink): Exchange {
    this.#checkOpen();
    const bytes = new Uint8Array([VERSION_1 | (MessageType.CON << 4), Code.Empty, 0, 0]);
    const exchange = new Exchange({ bytes, confirmable: true, token: EMPTY_BYTES, tokenKey: "", ownsToken: false, ping: true, priority: false, counted: false, sink });
    this.#enqueue(exchange);
    return exchange;
  }

  /**
   * Queues `sent` again as the same message (same ID and token) so that a server with duplicate
   * detection answers it without acting twice (RFC 7252 §4.5). Only while the server can still
   * remember it: every transmission happens before firstSentAt + EXCHANGE_LIFETIME (§4.8.2).
   */
  startResend(sent: SentRequest, sink: ExchangeSink): Exchange {
    this.#checkOpen();
    const deadline = sent.firstSentAt + this.#parameters.exchangeLifetimeMs;
    if (this.#clock.now() >= deadline) {
      throw new CoapRequestError("expired", "EXCHANGE_LIFETIME has passed since the first transmission; send a new request");
    }
    let message: DecodedMessage;
    try {
      message = decodeMessage(sent.bytes);
    } catch (error) {
      throw new CoapRequestError("bad-request", `sent.bytes is not a CoAP message: ${error instanceof Error ? error.message : String(error)}`);
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
    if (this.#byMessageId.has(sent.messageId) || this.#queue.some((e) => e.fixedMessageId && e.messageId === sent.messageId)) {
      throw new CoapRequestError("bad-request", "that request is still pending");
    }
    this.#checkRoom(true);
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
    this.#enqueue(exchange);
    return exchange;
  }

  /** Ends `exchange` with a "cancelled" error unless it has already ended. */
  cancel(exchange: Exchange, reason: string = "cancelled"): void {
    if (exchange.state === "done") return;
    this.#stats.cancelled++;
    this.#fail(exchange, new CoapRequestError("cancelled", reason));
  }

  /** Ends every exchange with "cancelled", forgets all state and closes the port. Safe twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const all = new Set<Exchange>([...this.#queue, ...this.#byMessageId.values(), ...this.#byToken.values()]);
    for (const exchange of all) this.cancel(exchange, "endpoint closed");
    this.#listeners.clear();
    this.#tokens.clear();
    this.#duplicates.clear();
    try {
      this.#port.close();
    } catch (error) {
      this.#logLine("warn", `closing the port failed: ${String(error)}`);
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new CoapRequestError("cancelled", "endpoint closed");
  }

  #checkRoom(counted: boolean): void {
    // Room counts the free NSTART slots too: a request that can go out at once never waits.
    const free = this.#parameters.nstart - this.#outstanding - this.#queue.length;
    if (counted && free <= 0 && this.#countedInQueue >= this.#maxQueue) {
      this.#stats.queueFull++;
      throw new CoapRequestError("queue-full", `${this.#countedInQueue} requests already waiting`);
    }
  }

  #enqueue(exchange: Exchange): void {
    if (exchange.priority) {
      let at = 0;
      while (at < this.#queue.length && this.#queue[at]!.priority) at++;
      this.#queue.splice(at, 0, exchange);
    } else {
      this.#queue.push(exchange);
    }
    if (exchange.counted) this.#countedInQueue++;
    this.#pump();
  }

  /** Starts queued exchanges while NSTART allows (§4.7). */
  #pump(): void {
    while (!this.#closed && this.#outstanding < this.#parameters.nstart && this.#queue.length > 0) {
      const exchange = this.#queue.shift()!;
      if (exchange.counted) this.#countedInQueue--;
      this.#begin(exchange);
    }
  }

  #begin(exchange: Exchange): void {
    const now = this.#clock.now();
    if (exchange.deadline !== undefined && now >= exchange.deadline) {
      exchange.state = "done";
      this.#releaseToken(exchange);
      this.#notifyFailure(exchange, new CoapRequestError("expired", "waited in the queue past EXCHANGE_LIFETIME; send a new request"));
      return;
    }
    if (!exchange.fixedMessageId) exchange.assignMessageId(this.#messageIds.next((id) => this.#byMessageId.has(id)));
    exchange.firstSentAt ??= now;
    exchange.holdsSlot = true;
    this.#outstanding++;
    this.#byMessageId.set(exchange.messageId, exchange);
    if (!exchange.ping) this.#byToken.set(exchange.tokenKey, exchange);
    if (exchange.confirmable) {
      exchange.state = "awaiting-ack";
      exchange.schedule = new RetransmissionSchedule(this.#parameters, this.#random, exchange.maxRetransmit);
      this.#arm(exchange, exchange.schedule.timeoutMs);
    } else {
      exchange.state = "awaiting-response";
      this.#arm(exchange, this.#nonTimeoutMs);
    }
    if (exchange.ping) this.#stats.pings++;
    else this.#stats.requestsSent++;
    this.#transmit(exchange.bytes);
    this.#logLine("debug", `sent ${exchange.confirmable ? "CON" : "NON"} mid=${exchange.messageId} token=${exchange.tokenKey}`);
  }

  #arm(exchange: Exchange, delayMs: number): void {
    if (exchange.timer !== undefined) this.#clock.clearTimer(exchange.timer);
    exchange.timer = this.#clock.setTimer(() => this.#expire(exchange), delayMs);
  }

  #expire(exchange: Exchange): void {
    exchange.timer = undefined;
    if (exchange.state === "done" || exchange.state === "queued") return;
    if (exchange.state === "awaiting-ack" && exchange.schedule !== undefined) {
      const lastChance = exchange.deadline !== undefined && this.#clock.now() >= exchange.deadline;
      if (!lastChance && exchange.schedule.expire()) {
        this.#stats.retransmissions++;
        this.#arm(exchange, exchange.schedule.timeoutMs);
        this.#transmit(exchange.bytes);
        this.#logLine("debug", `retransmission ${exchange.schedule.retransmissions} mid=${exchange.messageId}`);
        return;
      }
    }
    if (exchange.ping) this.#stats.pingTimeouts++;
    this.#stats.timeouts++;
    const what = exchange.state === "awaiting-ack" ? "no ACK after MAX_RETRANSMIT retransmissions" : "no response in time";
    this.#fail(exchange, new CoapRequestError("timeout", `${what} (mid=${exchange.messageId})`, exchange.sent()));
  }

  #transmit(bytes: Uint8Array): void {
    this.#lastSentAt = this.#clock.now();
    this.#stats.datagramsSent++;
    try {
      this.#port.send(bytes, this.#server);
    } catch (error) {
      // Treated like a datagram lost on the way: retransmission or the timeout take over.
      this.#stats.sendErrors++;
      this.#logLine("warn", `send to ${describePeer(this.#server)} failed: ${String(error)}`);
    }
  }

  #sendEmpty(type: typeof MessageType.ACK | typeof MessageType.RST, messageId: number): void {
    const reply = this.#emptyReply;
    reply[0] = VERSION_1 | (type << 4);
    reply[1] = Code.Empty;
    reply[2] = messageId >> 8;
    reply[3] = messageId & 0xff;
    if (type === MessageType.ACK) this.#stats.acksSent++;
    else this.#stats.rstSent++;
    this.#transmit(reply);
  }

  /**
   * Answers a message that matched nothing, without remembering it: a forged message carrying the
   * ID the server uses next must not turn the server's real message into a "duplicate" that gets
   * the forgery's RST. A duplicate of an unmatched message matches nothing again and gets the same
   * answer anyway (§4.5).
   */
  #reject(message: DecodedMessage, reply: "rst" | "none"): void {
    if (reply === "rst") this.#sendEmpty(MessageType.RST, message.messageId);
  }

  /** Answers a message from the server and remembers the answer for its duplicates (§4.5). */
  #answer(message: DecodedMessage, reply: "ack" | "none"): void {
    const con = message.type === MessageType.CON;
    const lifetime = con ? this.#parameters.exchangeLifetimeMs : this.#parameters.nonLifetimeMs;
    this.#duplicates.record(message.messageId, reply, this.#clock.now(), lifetime);
    if (reply === "ack") this.#sendEmpty(MessageType.ACK, message.messageId);
  }

  /** Takes `exchange` out of every table and timer; its slot goes back (without pumping yet). */
  #retire(exchange: Exchange): void {
    if (exchange.state === "queued") {
      const at = this.#queue.indexOf(exchange);
      if (at >= 0) {
        this.#queue.splice(at, 1);
        if (exchange.counted) this.#countedInQueue--;
      }
    }
    exchange.state = "done";
    if (exchange.timer !== undefined) {
      this.#clock.clearTimer(exchange.timer);
      exchange.timer = undefined;
    }
    if (this.#byMessageId.get(exchange.messageId) === exchange) this.#byMessageId.delete(exchange.messageId);
    if (this.#byToken.get(exchange.tokenKey) === exchange) this.#byToken.delete(exchange.tokenKey);
    this.#releaseSlot(exchange);
    this.#releaseToken(exchange);
  }

  #releaseSlot(exchange: Exchange): void {
    if (!exchange.holdsSlot) return;
    exchange.holdsSlot = false;
    this.#outstanding--;
  }

  #releaseToken(exchange: Exchange): void {
    if (exchange.ownsToken) this.#tokens.release(exchange.tokenKey);
  }

  #complete(exchange: Exchange, message: DecodedMessage): void {
    this.#retire(exchange);
    if (!exchange.ping) this.#stats.responses++;
    try {
      exchange.sink.onResponse(message);
    } catch (error) {
      this.#logLine("error", `response handler threw: ${String(error)}`);
    }
    // After the sink, so that a follow-up it queued (Block2) takes the freed slot first.
    this.#pump();
  }

  #fail(exchange: Exchange, error: CoapRequestError): void {
    this.#retire(exchange);
    this.#notifyFailure(exchange, error);
    this.#pump();
  }

  #notifyFailure(exchange: Exchange, error: CoapRequestError): void {
    try {
      exchange.sink.onFailure(error);
    } catch (thrown) {
      this.#logLine("error", `failure handler threw: ${String(thrown)}`);
    }
  }

  #receive(bytes: Uint8Array, from: PeerAddress): void {
    this.#stats.datagramsReceived++;
    if (this.#closed) return;
    if (!samePeer(from, this.#server)) {
      // Never answered: a reply would let anyone use the device to reflect traffic.
      this.#stats.droppedForeign++;
      this.#logLine("debug", `dropped a datagram from ${describePeer(from)}: not the server`);
      return;
    }
    let message: DecodedMessage;
    try {
      message = decodeMessage(bytes);
    } catch (error) {
      this.#onMalformed(bytes, error);
      return;
    }
    try {
      switch (message.type) {
        case MessageType.ACK:
          this.#onAck(message);
          break;
        case MessageType.RST:
          this.#onReset(message);
          break;
        default:
          this.#onConOrNon(message);
      }
    } catch (error) {
      this.#logLine("error", `handling a message failed: ${String(error)}`);
    }
  }

  /** §4.2: a CON with a format error is rejected with RST when its header can be read; anything else is dropped (§4.3). */
  #onMalformed(bytes: Uint8Array, error: unknown): void {
    this.#stats.droppedMalformed++;
    this.#logLine("debug", `dropped a malformed datagram: ${error instanceof Error ? error.message : String(error)}`);
    if (bytes.length >= 4 && bytes[0]! >> 6 === 1 && ((bytes[0]! >> 4) & 3) === MessageType.CON) {
      this.#sendEmpty(MessageType.RST, (bytes[2]! << 8) | bytes[3]!);
    }
  }

  #drop(reason: string): void {
    this.#stats.droppedUnmatched++;
    this.#logLine("debug", `dropped: ${reason}`);
  }

  #onAck(message: DecodedMessage): void {
    const exchange = this.#byMessageId.get(message.messageId) ?? this.#acknowledgedAwaiting(message);
    if (exchange === undefined || (exchange.state !== "awaiting-ack" && exchange.state !== "awaiting-response")) {
      this.#drop(`ACK mid=${message.messageId} matches no pending CON`);
      return;
    }
    if (exchange.ping) {
      // An ACK to a ping is not what §4.3 asks for, but it proves the server alive just as well.
      this.#complete(exchange, message);
      return;
    }
    if (message.code === Code.Empty) {
      if (exchange.state === "awaiting-response") {
        this.#drop(`a second empty ACK mid=${message.messageId}`);
        return;
      }
      // §5.2.2: the request arrived; stop retransmitting and wait for the separate response.
      // The exchange is no longer outstanding in the sense of NSTART (§4.7).
      this.#byMessageId.delete(exchange.messageId);
      exchange.state = "awaiting-response";
      this.#releaseSlot(exchange);
      this.#arm(exchange, this.#separateResponseTimeoutMs);
      this.#pump();
      return;
    }
    if (!isResponseCode(message.code)) {
      this.#drop(`ACK mid=${message.messageId} carries code ${message.code}, not a response`);
      return;
    }
    // §5.3.2: a piggybacked response must match the token as well as the message ID.
    if (tokenKey(message.token) !== exchange.tokenKey) {
      this.#drop(`piggybacked response mid=${message.messageId} with a foreign token`);
      return;
    }
    if (message.unrecognisedCritical.length > 0) {
      // §5.4.1 and §4.2: rejecting an ACK means ignoring it.
      this.#stats.rejectedCritical++;
      this.#logLine("warn", `ignored a response with unrecognised critical options ${message.unrecognisedCritical.join(",")}`);
      return;
    }
    this.#complete(exchange, message);
  }

  /**
   * The exchange a piggybacked response belongs to when an empty ACK (perhaps forged: plain CoAP
   * cannot tell) already moved it to waiting for a separate response: same message ID, same
   * token. Without this the real response would match nothing and the request would time out.
   */
  #acknowledgedAwaiting(message: DecodedMessage): Exchange | undefined {
    if (message.code === Code.Empty) return undefined;
    const exchange = this.#byToken.get(tokenKey(message.token));
    return exchange !== undefined && exchange.state === "awaiting-response" && exchange.messageId === message.messageId ? exchange : undefined;
  }

  #onReset(message: DecodedMessage): void {
    const exchange = this.#byMessageId.get(message.messageId);
    if (exchange === undefined) {
      this.#drop(`RST mid=${message.messageId} matches no pending message`);
      return;
    }
    if (exchange.ping) {
      this.#complete(exchange, message);
      return;
    }
    this.#stats.resetsReceived++;
    this.#fail(exchange, new CoapRequestError("reset", `the server answered mid=${message.messageId} with RST`));
  }

  #onConOrNon(message: DecodedMessage): void {
    const con = message.type === MessageType.CON;
    const seen = this.#duplicates.lookup(message.messageId, this.#clock.now());
    if (seen !== undefined) {
      // §4.5: the same answer again, and no second processing.
      this.#stats.duplicates++;
      if (seen === "ack") this.#sendEmpty(MessageType.ACK, message.messageId);
      else if (seen === "rst") this.#sendEmpty(MessageType.RST, message.messageId);
      return;
    }
    if (message.code === Code.Empty) {
      // §4.3: an empty CON is a ping, answered with RST; an empty NON is meaningless.
      if (con) this.#reject(message, "rst");
      else this.#drop("empty NON");
      return;
    }
    if (!isResponseCode(message.code)) {
      // A request to a client, or a reserved code class (§4.2): rejected.
      this.#drop(`${con ? "CON" : "NON"} with code class ${codeClass(message.code)}`);
      this.#reject(message, con ? "rst" : "none");
      return;
    }
    if (message.unrecognisedCritical.length > 0) {
      // §5.4.1: the response is rejected: RST for a CON, ignored if NON.
      this.#stats.rejectedCritical++;
      this.#logLine("warn", `rejected a response with unrecognised critical options ${message.unrecognisedCritical.join(",")}`);
      this.#reject(message, con ? "rst" : "none");
      return;
    }
    const key = tokenKey(message.token);
    const exchange = this.#byToken.get(key);
    if (exchange !== undefined) {
      // A separate response (§5.2.2), or the response to a NON request; when it comes before
      // the empty ACK it acknowledges the request all the same.
      this.#answer(message, con ? "ack" : "none");
      this.#complete(exchange, message);
      return;
    }
    const listener = this.#listeners.get(key);
    if (listener !== undefined) {
      this.#answer(message, con ? "ack" : "none");
      try {
        listener(message);
      } catch (error) {
        this.#logLine("error", `notification listener threw: ${String(error)}`);
      }
      return;
    }
    // Unknown token: RST to a CON (§5.3.2, §4.2) and to a notification, which also cancels a
    // forgotten observation at the server (RFC 7641 §3.6); any other NON is ignored (§4.3).
    const notification = hasOption(message, OptionNumber.Observe);
    this.#drop(`${con ? "CON" : "NON"} response for unknown token ${key}`);
    this.#reject(message, con || notification ? "rst" : "none");
  }

  #logLine(level: "debug" | "info" | "warn" | "error", text: string): void {
    if (this.#log !== undefined) this.#log(level, `coap: ${text}`);
  }
}
