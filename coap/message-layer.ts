// The message layer of RFC 7252 (§4) for one client talking to one server: message IDs (§4.4),
// transmission and retransmission of CONs (§4.2), matching of ACK and RST by message ID,
// duplicate detection of the server's CONs and NONs (§4.5), empty ACK and RST replies, and the
// datagrams that never reach the request layer above: foreign (dropped unanswered), malformed
// (§4.2, §4.3), duplicates and empty messages. Code, token and options are the request layer's
// (coap/request-layer.ts), which tells this one how to answer what it hands up.

import type { Clock } from "../kernel/clock.js";
import type { LogLevel, LogSink } from "../kernel/log.js";
import type { RandomSource } from "../kernel/random.js";
import { Code, MessageType } from "./codes.js";
import type { DatagramPort } from "./datagram-port.js";
import { decodeMessage } from "./decoder.js";
import { DuplicateCache } from "./dedup-cache.js";
import type { DecodedMessage } from "./message.js";
import { MessageIdSequence } from "./message-ids.js";
import type { TransmissionParameters } from "./parameters.js";
import type { PeerAddress } from "./peer-address.js";
import { describePeer, samePeer } from "./peer-address.js";
import type { Exchange } from "./pending-exchange.js";
import { RetransmissionSchedule } from "./retransmission.js";
import { Stat, type StatsCounters } from "./stats.js";

/** What the message layer hands up; every call comes from a datagram or a timer of this layer. */
export interface MessageLayerUpper {
  /**
   * An ACK, empty or carrying a response. `exchange` is the message waiting with its ID, if any;
   * without one the request layer may still own the ACK by its token.
   */
  onAck(message: DecodedMessage, exchange: Exchange | undefined): void;
  /** A RST for the message `exchange` sent. */
  onReset(message: DecodedMessage, exchange: Exchange): void;
  /** A CON or NON with a code, seen for the first time: answered through accept() or reject(), or not at all. */
  onMessage(message: DecodedMessage): void;
  /** A CON got no ACK: MAX_RETRANSMIT is spent, or its deadline passed. */
  onAckTimeout(exchange: Exchange): void;
}

export interface MessageLayerOptions {
  readonly port: DatagramPort;
  readonly server: PeerAddress;
  readonly clock: Clock;
  readonly random: RandomSource;
  /** The application's log; a sink that throws is ignored (see log()). */
  readonly log: LogSink | undefined;
  readonly stats: StatsCounters;
  readonly parameters: TransmissionParameters;
  readonly dedupCapacity: number;
}

/** The first byte's version bits (RFC 7252 §3). */
const VERSION_1 = 0x40;

/** Writes an empty message (§4.1: code 0.00, no token, nothing after the header) into `target`. */
function writeEmpty(target: Uint8Array, type: MessageType, messageId: number): Uint8Array {
  target[0] = VERSION_1 | (type << 4);
  target[1] = Code.Empty;
  target[2] = messageId >> 8;
  target[3] = messageId & 0xff;
  return target;
}

/** A CoAP ping (§4.3): an empty CON; its message ID is written when it is sent. */
export function emptyCon(): Uint8Array {
  return writeEmpty(new Uint8Array(4), MessageType.CON, 0);
}

export class MessageLayer {
  readonly #port: DatagramPort;
  #server: PeerAddress;
  // Public for the request layer, which reads them from here rather than keep copies.
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly stats: StatsCounters;
  readonly parameters: TransmissionParameters;
  readonly #sink: LogSink | undefined;
  readonly #messageIds: MessageIdSequence;
  /** Bound: dedupCapacity entries (see DuplicateCache). */
  readonly #duplicates: DuplicateCache;
  /**
   * Sent and waiting for ACK or RST (CON), or for RST or response (NON), one per message ID, in
   * the order sent. Bound: NSTART plus pings; an array searched by ID, for so few smaller than a Map.
   */
  readonly #byMessageId: Exchange[] = [];
  /** Set by attach(), before anything is sent or received. */
  #upper: MessageLayerUpper | undefined;
  #lastSentAt: number;
  #closed = false;

  constructor(options: MessageLayerOptions) {
    this.#port = options.port;
    this.#server = options.server;
    this.clock = options.clock;
    this.random = options.random;
    this.#sink = options.log;
    this.stats = options.stats;
    this.parameters = options.parameters;
    this.#messageIds = new MessageIdSequence(options.random);
    this.#duplicates = new DuplicateCache(options.dedupCapacity);
    this.#lastSentAt = options.clock.now();
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

  /**
   * This layer when there is a log, else undefined: `logging?.log(…)` builds no line that nobody
   * would read. The endpoint's one log, for the layer above too.
   */
  get logging(): this | undefined {
    return this.#sink === undefined ? undefined : this;
  }

  /** Writes to the application's log; a failing log must not take the protocol down with it. */
  log(level: LogLevel, text: string): void {
    try {
      this.#sink?.(level, text);
    } catch {
      // Nowhere left to report it.
    }
  }

  /** When the last datagram went out (for an idle keep-alive). */
  get lastSentAt(): number {
    return this.#lastSentAt;
  }

  /** Installs the one layer above and starts receiving (as DatagramPort.onReceive installs one receiver). */
  attach(upper: MessageLayerUpper): void {
    this.#upper = upper;
    this.#port.onReceive((bytes, from) => this.receive(bytes, from, upper));
  }

  /** Whether a message with this ID is still waiting for its ACK or RST. */
  isAwaiting(messageId: number): boolean {
    return this.withMessageId(messageId) !== undefined;
  }

  /** The exchanges whose messages wait for their ACK or RST, in the order they were sent. */
  awaiting(): IterableIterator<Exchange> {
    return this.#byMessageId.values();
  }

  /**
   * The first transmission of `exchange`: a fresh message ID unless it has its own (resend), and
   * for a CON the retransmissions of §4.2 until forget() (the layer above got its ACK or RST, or
   * ended it) or onAckTimeout.
   */
  send(exchange: Exchange): void {
    if (!exchange.fixedMessageId) exchange.assignMessageId(this.#messageIds.next((id) => this.isAwaiting(id)));
    const previous = this.withMessageId(exchange.messageId);
    if (previous === undefined) this.#byMessageId.push(exchange);
    else this.#byMessageId[this.#byMessageId.indexOf(previous)] = exchange;
    if (exchange.confirmable) {
      exchange.state = "awaiting-ack";
      exchange.schedule = new RetransmissionSchedule(this.parameters, this.random, exchange.maxRetransmit);
      this.awaitAck(exchange, exchange.schedule);
    }
    this.transmit(exchange.bytes);
    this.logging?.log(
      "debug",
      `coap: sent ${exchange.confirmable ? "CON" : "NON"} mid=${exchange.messageId} token=${exchange.tokenKey}`,
    );
  }

  /** No more retransmissions of `exchange`, and no more ACK or RST matched to it. */
  forget(exchange: Exchange): void {
    if (exchange.ackTimer !== undefined) {
      this.clock.clearTimer(exchange.ackTimer);
      exchange.ackTimer = undefined;
    }
    const at = this.#byMessageId.indexOf(exchange);
    if (at >= 0) this.#byMessageId.splice(at, 1);
  }

  /** Answers a message from the server (an empty ACK to a CON) and remembers the answer for its duplicates (§4.5). */
  accept(message: DecodedMessage): void {
    const con = message.type === MessageType.CON;
    const lifetime = con ? this.parameters.exchangeLifetimeMs : this.parameters.nonLifetimeMs;
    this.#duplicates.record(message.messageId, con ? "ack" : "none", this.clock.now(), lifetime);
    if (con) this.sendEmpty(MessageType.ACK, message.messageId);
  }

  /**
   * Answers with RST a message that matched nothing, without remembering it: a forged message
   * carrying the ID the server uses next must not turn the server's real message into a
   * "duplicate" that gets the forgery's RST. A duplicate of an unmatched message matches nothing
   * again and gets the same answer anyway (§4.5).
   */
  reject(message: DecodedMessage): void {
    this.sendEmpty(MessageType.RST, message.messageId);
  }

  /** Counts a well-formed message from the server that matched nothing. */
  dropUnmatched(reason: string): void {
    this.stats[Stat.droppedUnmatched]++;
    this.logging?.log("debug", `coap: dropped: ${reason}`);
  }

  /** Forgets the server's message IDs and closes the port. Safe twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#duplicates.clear();
    try {
      this.#port.close();
    } catch (error) {
      this.logging?.log("warn", `coap: closing the port failed: ${String(error)}`);
    }
  }

  private withMessageId(messageId: number): Exchange | undefined {
    for (const exchange of this.#byMessageId) if (exchange.messageId === messageId) return exchange;
    return undefined;
  }

  private awaitAck(exchange: Exchange, schedule: RetransmissionSchedule): void {
    exchange.ackTimer = this.clock.setTimer(() => this.ackWaitOver(exchange, schedule), schedule.timeoutMs);
  }

  private ackWaitOver(exchange: Exchange, schedule: RetransmissionSchedule): void {
    exchange.ackTimer = undefined;
    const lastChance = exchange.deadline !== undefined && this.clock.now() >= exchange.deadline;
    if (!lastChance && schedule.expire()) {
      this.stats[Stat.retransmissions]++;
      this.awaitAck(exchange, schedule);
      this.transmit(exchange.bytes);
      this.logging?.log("debug", `coap: retransmission ${schedule.retransmissions} mid=${exchange.messageId}`);
      return;
    }
    this.#upper?.onAckTimeout(exchange);
  }

  private transmit(bytes: Uint8Array): void {
    this.#lastSentAt = this.clock.now();
    this.stats[Stat.datagramsSent]++;
    try {
      this.#port.send(bytes, this.#server);
    } catch (error) {
      // Treated like a datagram lost on the way: retransmission or the timeout take over.
      this.stats[Stat.sendErrors]++;
      this.logging?.log("warn", `coap: send to ${describePeer(this.#server)} failed: ${String(error)}`);
    }
  }

  private sendEmpty(type: typeof MessageType.ACK | typeof MessageType.RST, messageId: number): void {
    if (type === MessageType.ACK) this.stats[Stat.acksSent]++;
    else this.stats[Stat.rstSent]++;
    // Four bytes made per reply rather than a buffer kept: an array and its buffer take seven slots.
    this.transmit(writeEmpty(new Uint8Array(4), type, messageId));
  }

  private receive(bytes: Uint8Array, from: PeerAddress, upper: MessageLayerUpper): void {
    this.stats[Stat.datagramsReceived]++;
    if (this.#closed) return;
    if (!samePeer(from, this.#server)) {
      // Never answered: a reply would let anyone use the device to reflect traffic.
      this.stats[Stat.droppedForeign]++;
      this.logging?.log("debug", `coap: dropped a datagram from ${describePeer(from)}: not the server`);
      return;
    }
    let message: DecodedMessage;
    try {
      message = decodeMessage(bytes);
    } catch (error) {
      this.onMalformed(bytes, error);
      return;
    }
    try {
      switch (message.type) {
        case MessageType.ACK:
          upper.onAck(message, this.withMessageId(message.messageId));
          break;
        case MessageType.RST:
          this.receiveReset(message, upper);
          break;
        default:
          this.onConOrNon(message, upper);
      }
    } catch (error) {
      this.logging?.log("error", `coap: handling a message failed: ${String(error)}`);
    }
  }

  /**
   * §4.2: a CON with a format error is rejected with RST when its header can be read; anything else is dropped (§4.3).
   */
  private onMalformed(bytes: Uint8Array, error: unknown): void {
    this.stats[Stat.droppedMalformed]++;
    this.logging?.log(
      "debug",
      `coap: dropped a malformed datagram: ${error instanceof Error ? error.message : String(error)}`,
    );
    if (bytes.length >= 4 && bytes[0]! >> 6 === 1 && ((bytes[0]! >> 4) & 3) === MessageType.CON) {
      this.sendEmpty(MessageType.RST, (bytes[2]! << 8) | bytes[3]!);
    }
  }

  private receiveReset(message: DecodedMessage, upper: MessageLayerUpper): void {
    const exchange = this.withMessageId(message.messageId);
    if (exchange === undefined) {
      this.dropUnmatched(`RST mid=${message.messageId} matches no pending message`);
      return;
    }
    upper.onReset(message, exchange);
  }

  private onConOrNon(message: DecodedMessage, upper: MessageLayerUpper): void {
    const seen = this.#duplicates.lookup(message.messageId, this.clock.now());
    if (seen !== undefined) {
      // §4.5: the same answer again, and no second processing.
      this.stats[Stat.duplicates]++;
      if (seen === "ack") this.sendEmpty(MessageType.ACK, message.messageId);
      else if (seen === "rst") this.sendEmpty(MessageType.RST, message.messageId);
      return;
    }
    if (message.code === Code.Empty) {
      // §4.3: an empty CON is a ping, answered with RST; an empty NON is meaningless.
      if (message.type === MessageType.CON) this.reject(message);
      else this.dropUnmatched("empty NON");
      return;
    }
    upper.onMessage(message);
  }
}
