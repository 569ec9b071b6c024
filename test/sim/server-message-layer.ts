// The message layer the two simulated CoAP servers share (RFC 7252 §2.1: messages beneath
// requests and responses). SimCoapServer (scriptable, keeps everything for specs to inspect) and
// BoundedCoapServer (lean, for million-datagram runs) differ in how they decide answers and in
// what they remember about requests; how they put messages on the wire is the same, and lives
// here: decoding a datagram, answering pings and settling ACKs and RSTs, then passing requests
// up; message IDs; piggybacked, NON and empty replies; the server's own CONs retransmitted until
// acknowledged (§4.2); NON notifications remembered for matching a RST (RFC 7641 §3.6); and
// Block2 slicing of a body (RFC 7959 §2.4). Duplicate detection stays with each server:
// SimCoapServer remembers request message IDs for EXCHANGE_LIFETIME, BoundedCoapServer in a
// fixed window; they share its key. Per datagram it allocates only the decoded message and the
// encoded replies, plus a record and a timer per CON it sends, as the servers did. Portable.
import { Code, isRequestCode, MessageType } from "../../coap/codes.js";
import type { DatagramPort } from "../../coap/datagram-port.js";
import { decodeMessage } from "../../coap/decoder.js";
import { encodeMessage } from "../../coap/encoder.js";
import { type CoapOption, type DecodedMessage, EMPTY_BYTES, optionUint } from "../../coap/message.js";
import { type BlockValue, blockSize, decodeBlock, encodeBlock, OptionNumber } from "../../coap/options.js";
import type { PeerAddress } from "../../coap/peer-address.js";
import type { Clock, TimerHandle } from "../../kernel/clock.js";
import { encodeUtf8 } from "../../kernel/utf8.js";
import { peerKey } from "./sim-network.js";

/** A response ready to encode: its body already sliced to the block it carries. */
export interface ShapedResponse {
  readonly code: number;
  readonly options: CoapOption[];
  readonly payload: Uint8Array;
}

/** One of the server's own CONs, waiting for its ACK or RST. */
export interface PendingCon<Subject> {
  readonly bytes: Uint8Array;
  readonly to: PeerAddress;
  /** What the CON is about (the observer of a notification), or undefined. */
  readonly subject: Subject | undefined;
  timer: TimerHandle | undefined;
  timeoutMs: number;
  retransmissions: number;
}

export interface ServerMessageLayerOptions<Subject> {
  readonly port: DatagramPort;
  readonly clock: Clock;
  readonly firstMessageId: number;
  /** Initial retransmission timeout of the server's CONs, doubled each time (§4.2). */
  readonly ackTimeoutMs: number;
  readonly maxRetransmit: number;
  /** How many NON notifications are remembered for matching a RST. */
  readonly recentNonLimit: number;
  /** Sees every datagram that decodes, before it is sorted out (for a server that records them). */
  readonly onDecoded?: (message: DecodedMessage) => void;
  /** A request arrived (duplicates included: detecting them is the server's business). */
  readonly onRequest: (request: DecodedMessage, from: PeerAddress) => void;
  /** A RST arrived; `pending` is the CON it rejects, if one was waiting under its message ID. */
  readonly onReset: (messageId: number, pending: PendingCon<Subject> | undefined) => void;
  /** A CON with a subject went unacknowledged after maxRetransmit retransmissions. */
  readonly onGiveUp: (subject: Subject) => void;
}

export function payloadBytes(payload: Uint8Array | string | undefined): Uint8Array {
  return payload === undefined ? EMPTY_BYTES : typeof payload === "string" ? encodeUtf8(payload) : payload;
}

/** RFC 7252 §4.5: a duplicate is the same message ID from the same endpoint. */
export function dedupKey(from: PeerAddress, messageId: number): string {
  return `${peerKey(from)}#${messageId}`;
}

/** The Block2 block a request asks for (RFC 7959 §2.4), or undefined. */
export function requestedBlock2(message: DecodedMessage): BlockValue | undefined {
  const value = optionUint(message, OptionNumber.Block2);
  return value === undefined ? undefined : decodeBlock(value);
}

/**
 * The whole body when no block was asked for and it fits in one block of `maxBlockSzx`;
 * otherwise the block asked for (or block 0) in the smaller of the asked and the largest size,
 * with Block2 and, on block 0, Size2 (RFC 7959 §2.4, §4). `options` is the caller's own fresh
 * array: it is extended and sorted in place, so the encoder need not copy it to sort it.
 */
export function sliceBlock2(
  code: number,
  body: Uint8Array,
  options: CoapOption[],
  asked: BlockValue | undefined,
  maxBlockSzx: number,
): ShapedResponse {
  if (asked === undefined && body.length <= blockSize(maxBlockSzx)) return { code, options, payload: body };
  const szx = Math.min(asked?.szx ?? maxBlockSzx, maxBlockSzx);
  const size = blockSize(szx);
  const num = asked === undefined ? 0 : Math.floor((asked.num * blockSize(asked.szx)) / size);
  const start = num * size;
  options.push({ number: OptionNumber.Block2, value: encodeBlock({ num, more: start + size < body.length, szx }) });
  if (num === 0) options.push({ number: OptionNumber.Size2, value: body.length });
  options.sort((a, b) => a.number - b.number);
  return { code, options, payload: body.subarray(Math.min(start, body.length), Math.min(body.length, start + size)) };
}

export class ServerMessageLayer<Subject> {
  readonly #port: DatagramPort;
  readonly #clock: Clock;
  readonly #ackTimeoutMs: number;
  readonly #maxRetransmit: number;
  readonly #recentNonLimit: number;
  readonly #onDecoded: ((message: DecodedMessage) => void) | undefined;
  readonly #onRequest: (request: DecodedMessage, from: PeerAddress) => void;
  readonly #onReset: (messageId: number, pending: PendingCon<Subject> | undefined) => void;
  readonly #onGiveUp: (subject: Subject) => void;
  #nextMessageId: number;
  /** Bound: each entry ends after maxRetransmit retransmissions or its ACK/RST. */
  readonly #pending = new Map<number, PendingCon<Subject>>();
  /** NON notifications by message ID. Bound: recentNonLimit, oldest forgotten first. */
  readonly #recentNon = new Map<number, Subject>();

  constructor(options: ServerMessageLayerOptions<Subject>) {
    this.#port = options.port;
    this.#clock = options.clock;
    this.#nextMessageId = options.firstMessageId;
    this.#ackTimeoutMs = options.ackTimeoutMs;
    this.#maxRetransmit = options.maxRetransmit;
    this.#recentNonLimit = options.recentNonLimit;
    this.#onDecoded = options.onDecoded;
    this.#onRequest = options.onRequest;
    this.#onReset = options.onReset;
    this.#onGiveUp = options.onGiveUp;
    this.#port.onReceive((bytes, from) => this.#receive(bytes, from));
  }

  takeMessageId(): number {
    const id = this.#nextMessageId;
    this.#nextMessageId = (id + 1) & 0xffff;
    return id;
  }

  /** Moves the next message ID on by `count`, as a rebooted server starts elsewhere. */
  skipMessageIds(count: number): void {
    this.#nextMessageId = (this.#nextMessageId + count) & 0xffff;
  }

  /** Sends an empty ACK or RST to `messageId`; returns its bytes, for the duplicate record. */
  sendEmpty(type: MessageType, messageId: number, to: PeerAddress): Uint8Array {
    const bytes = encodeMessage({
      type,
      code: Code.Empty,
      messageId,
      token: EMPTY_BYTES,
      options: [],
      payload: EMPTY_BYTES,
    });
    this.#port.send(bytes, to);
    return bytes;
  }

  /**
   * Answers `request` at once: piggybacked in the ACK of a CON (RFC 7252 §5.2.1), as a NON with
   * a new message ID to a NON (§5.2.3). Returns the bytes, for the duplicate record.
   */
  reply(request: DecodedMessage, response: ShapedResponse, to: PeerAddress): Uint8Array {
    const confirmable = request.type === MessageType.CON;
    const bytes = encodeMessage({
      type: confirmable ? MessageType.ACK : MessageType.NON,
      code: response.code,
      messageId: confirmable ? request.messageId : this.takeMessageId(),
      token: request.token,
      options: response.options,
      payload: response.payload,
    });
    this.#port.send(bytes, to);
    return bytes;
  }

  /**
   * Sends a new message with the next message ID: a CON is retransmitted until its ACK or RST
   * (§4.2), a NON with a subject is remembered for matching a RST (RFC 7641 §3.6).
   */
  send(
    type: MessageType,
    response: ShapedResponse,
    token: Uint8Array,
    to: PeerAddress,
    subject: Subject | undefined,
  ): void {
    const messageId = this.takeMessageId();
    const bytes = encodeMessage({
      type,
      code: response.code,
      messageId,
      token,
      options: response.options,
      payload: response.payload,
    });
    this.#port.send(bytes, to);
    if (type !== MessageType.CON) {
      if (subject === undefined) return;
      this.#recentNon.set(messageId, subject);
      if (this.#recentNon.size > this.#recentNonLimit)
        this.#recentNon.delete(this.#recentNon.keys().next().value as number);
      return;
    }
    const pending: PendingCon<Subject> = {
      bytes,
      to,
      subject,
      timer: undefined,
      timeoutMs: this.#ackTimeoutMs,
      retransmissions: 0,
    };
    this.#pending.set(messageId, pending);
    this.#arm(messageId, pending);
  }

  /** The subject of a remembered NON notification sent with `messageId`. */
  nonNotification(messageId: number): Subject | undefined {
    return this.#recentNon.get(messageId);
  }

  /** Stops retransmitting and forgets every pending CON. */
  cancelPending(): void {
    for (const pending of this.#pending.values())
      if (pending.timer !== undefined) this.#clock.clearTimer(pending.timer);
    this.#pending.clear();
  }

  forgetNonNotifications(): void {
    this.#recentNon.clear();
  }

  /**
   * Decodes a datagram and passes a request up; deals with the rest itself: an undecodable one
   * is dropped, an ACK or RST settles the CON it answers, a ping (an empty CON, RFC 7252 §4.3)
   * gets a RST, an empty NON or a response is dropped.
   */
  #receive(bytes: Uint8Array, from: PeerAddress): void {
    let message: DecodedMessage;
    try {
      // The network hands over a private copy, so the decoded views stay valid.
      message = decodeMessage(bytes);
    } catch {
      return;
    }
    this.#onDecoded?.(message);
    if (message.type === MessageType.ACK || message.type === MessageType.RST) {
      const pending = this.#pending.get(message.messageId);
      if (pending !== undefined) {
        if (pending.timer !== undefined) this.#clock.clearTimer(pending.timer);
        this.#pending.delete(message.messageId);
      }
      if (message.type === MessageType.RST) this.#onReset(message.messageId, pending);
      return;
    }
    if (message.code === Code.Empty) {
      if (message.type === MessageType.CON) this.sendEmpty(MessageType.RST, message.messageId, from);
      return;
    }
    if (isRequestCode(message.code)) this.#onRequest(message, from);
  }

  #arm(messageId: number, pending: PendingCon<Subject>): void {
    pending.timer = this.#clock.setTimer(() => {
      pending.timer = undefined;
      if (pending.retransmissions >= this.#maxRetransmit) {
        this.#pending.delete(messageId);
        if (pending.subject !== undefined) this.#onGiveUp(pending.subject);
        return;
      }
      pending.retransmissions++;
      pending.timeoutMs *= 2;
      this.#port.send(pending.bytes, pending.to);
      this.#arm(messageId, pending);
    }, pending.timeoutMs);
  }
}
