// A lean CoAP server on a SimNetwork for long runs: the endpoint fuzz (a million datagrams) and
// the XS memory workload (10,000 exchanges). SimCoapServer keeps every request for tests to
// inspect; this one keeps nothing beyond small bounded tables, so its own memory stays flat and
// does not colour a heap figure. It answers each request piggybacked, or with an empty ACK and
// a separate CON response (RFC 7252 §5.2.2); answers duplicates from a window of recent message
// IDs (§4.5); keeps one observer per path with its sequence (RFC 7641 §4); retransmits its CONs
// (§4.2); drops an observer on a RST to its notification (§3.6); and slices large bodies into
// Block2 blocks (RFC 7959 §2.4). Portable.
import { Code, isRequestCode, MessageType } from "../../coap/codes.js";
import { decodeMessage } from "../../coap/decoder.js";
import { encodeMessage } from "../../coap/encoder.js";
import { EMPTY_BYTES, optionUint, uriPath, type CoapOption, type DecodedMessage } from "../../coap/message.js";
import { blockSize, decodeBlock, encodeBlock, observeValue, OptionNumber, type BlockValue } from "../../coap/options.js";
import type { PeerAddress, TimerHandle } from "../../coap/ports.js";
import { tokenKey } from "../../coap/tokens.js";
import { encodeUtf8 } from "../../coap/utf8.js";
import type { FakeClock } from "./fake-clock.js";
import { peerKey, samePeerAddress, type SimNetwork, type SimPort } from "./sim-network.js";

export interface BoundedRequest {
  readonly code: number;
  readonly path: string;
  readonly payload: Uint8Array;
  /** 0 registers, 1 deregisters (RFC 7641 §2). */
  readonly observe: number | undefined;
  readonly block2: BlockValue | undefined;
  readonly confirmable: boolean;
  readonly from: PeerAddress;
}

export interface BoundedAnswer {
  readonly code: number;
  readonly payload?: Uint8Array | string;
  readonly options?: readonly CoapOption[];
  /** Answer with an empty ACK now and the response as a separate CON this much later. */
  readonly separateAfterMs?: number;
}

/** Decides the answer to a request; undefined leaves it unanswered. */
export type BoundedHandler = (request: BoundedRequest) => BoundedAnswer | undefined;

export interface BoundedCoapServerOptions {
  readonly network: SimNetwork;
  readonly address: PeerAddress;
  readonly handler: BoundedHandler;
  /** Initial retransmission timeout of the server's CONs, doubled each time (default 2000 ms). */
  readonly ackTimeoutMs?: number;
  readonly maxRetransmit?: number;
  /** Request message IDs remembered for duplicate detection (default 64). */
  readonly dedupWindow?: number;
  /** Largest block sent, as SZX (default 6: 1024 bytes). */
  readonly maxBlockSzx?: number;
}

interface Observer {
  readonly peer: PeerAddress;
  readonly token: Uint8Array;
  readonly tokenKey: string;
  sequence: number;
}

interface PendingCon {
  readonly bytes: Uint8Array;
  readonly to: PeerAddress;
  /** The observed path, for a notification. */
  readonly path: string | undefined;
  readonly tokenKey: string;
  timer: TimerHandle | undefined;
  timeoutMs: number;
  retransmissions: number;
}

export interface BoundedServerCounters {
  requests: number;
  duplicates: number;
  notifications: number;
  resetsReceived: number;
  observersDropped: number;
}

/** NON notification IDs kept for matching a RST (RFC 7641 §3.6). */
const RECENT_NON_LIMIT = 32;

function bytesOf(payload: Uint8Array | string | undefined): Uint8Array {
  return payload === undefined ? EMPTY_BYTES : typeof payload === "string" ? encodeUtf8(payload) : payload;
}

export class BoundedCoapServer {
  readonly #clock: FakeClock;
  readonly #port: SimPort;
  readonly #handler: BoundedHandler;
  readonly #ackTimeoutMs: number;
  readonly #maxRetransmit: number;
  readonly #dedupWindow: number;
  readonly #maxBlockSzx: number;
  #nextMessageId = 0x2000;
  /** Bound: dedupWindow entries, oldest forgotten first. */
  readonly #recent = new Map<string, Uint8Array | undefined>();
  /** Bound: one per path served. */
  readonly #observers = new Map<string, Observer>();
  /** Bound: each entry ends after maxRetransmit retransmissions or its ACK/RST. */
  readonly #pending = new Map<number, PendingCon>();
  /** Bound: RECENT_NON_LIMIT. */
  readonly #recentNon = new Map<number, { path: string; tokenKey: string }>();
  readonly counters: BoundedServerCounters = { requests: 0, duplicates: 0, notifications: 0, resetsReceived: 0, observersDropped: 0 };

  constructor(options: BoundedCoapServerOptions) {
    this.#clock = options.network.clock;
    this.#port = options.network.bind(options.address);
    this.#handler = options.handler;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 2000;
    this.#maxRetransmit = options.maxRetransmit ?? 4;
    this.#dedupWindow = options.dedupWindow ?? 64;
    this.#maxBlockSzx = options.maxBlockSzx ?? 6;
    this.#port.onReceive((bytes, from) => this.#receive(bytes, from));
  }

  get address(): PeerAddress {
    return this.#port.address;
  }

  hasObserver(path: string): boolean {
    return this.#observers.has(path);
  }

  /** The token of the observer of `path` (hex), or undefined. */
  observerToken(path: string): string | undefined {
    return this.#observers.get(path)?.tokenKey;
  }

  /** Sends a notification to the observer of `path` (block 0 if large); false if nobody observes it. */
  notify(path: string, answer: BoundedAnswer, confirmable: boolean = false): boolean {
    const observer = this.#observers.get(path);
    if (observer === undefined) return false;
    observer.sequence = observeValue(observer.sequence + 1);
    this.counters.notifications++;
    const shaped = this.#shape(answer, undefined, [{ number: OptionNumber.Observe, value: observer.sequence }]);
    this.#sendNew(confirmable ? MessageType.CON : MessageType.NON, shaped, observer.token, observer.peer, path);
    return true;
  }

  /** Forgets every observer and pending message, as after a reboot. */
  restart(): void {
    for (const pending of this.#pending.values()) if (pending.timer !== undefined) this.#clock.clearTimer(pending.timer);
    this.#pending.clear();
    this.#observers.clear();
    this.#recent.clear();
    this.#recentNon.clear();
  }

  close(): void {
    this.restart();
    this.#port.close();
  }

  #takeMessageId(): number {
    const id = this.#nextMessageId;
    this.#nextMessageId = (id + 1) & 0xffff;
    return id;
  }

  #receive(bytes: Uint8Array, from: PeerAddress): void {
    let message: DecodedMessage;
    try {
      message = decodeMessage(bytes);
    } catch {
      return;
    }
    if (message.type === MessageType.ACK || message.type === MessageType.RST) {
      this.#onAckOrReset(message);
      return;
    }
    if (message.code === Code.Empty) {
      // A ping (RFC 7252 §4.3).
      if (message.type === MessageType.CON) this.#sendEmpty(MessageType.RST, message.messageId, from);
      return;
    }
    if (!isRequestCode(message.code)) return;
    const confirmable = message.type === MessageType.CON;
    const dedupKey = `${peerKey(from)}#${message.messageId}`;
    if (this.#recent.has(dedupKey)) {
      this.counters.duplicates++;
      const reply = this.#recent.get(dedupKey);
      if (reply !== undefined) this.#port.send(reply, from);
      return;
    }
    this.#remember(dedupKey, undefined);
    this.counters.requests++;
    const path = uriPath(message);
    const observe = optionUint(message, OptionNumber.Observe);
    const block2Value = optionUint(message, OptionNumber.Block2);
    const block2 = block2Value === undefined ? undefined : decodeBlock(block2Value);
    const answer = this.#handler({ code: message.code, path, payload: message.payload, observe, block2, confirmable, from });
    if (answer === undefined) return;
    const extra: CoapOption[] = [];
    const key = tokenKey(message.token);
    if (observe === 1 || (observe === 0 && !(answer.code >> 5 === 2))) {
      const current = this.#observers.get(path);
      if (current !== undefined && current.tokenKey === key && samePeerAddress(current.peer, from)) this.#observers.delete(path);
    } else if (observe === 0 && (block2 === undefined || block2.num === 0)) {
      const current = this.#observers.get(path);
      const sequence = current?.sequence ?? 0;
      this.#observers.set(path, { peer: from, token: message.token.slice(), tokenKey: key, sequence });
      extra.push({ number: OptionNumber.Observe, value: sequence });
    }
    const shaped = this.#shape(answer, block2, extra);
    if (answer.separateAfterMs !== undefined && confirmable) {
      const ack = this.#sendEmpty(MessageType.ACK, message.messageId, from);
      this.#remember(dedupKey, ack);
      const token = message.token.slice();
      this.#clock.setTimer(() => this.#sendNew(MessageType.CON, shaped, token, from, undefined), answer.separateAfterMs);
      return;
    }
    const reply = encodeMessage({
      type: confirmable ? MessageType.ACK : MessageType.NON,
      code: shaped.code,
      messageId: confirmable ? message.messageId : this.#takeMessageId(),
      token: message.token,
      options: shaped.options,
      payload: shaped.payload,
    });
    this.#remember(dedupKey, reply);
    this.#port.send(reply, from);
  }

  #remember(key: string, reply: Uint8Array | undefined): void {
    this.#recent.delete(key);
    this.#recent.set(key, reply);
    if (this.#recent.size > this.#dedupWindow) this.#recent.delete(this.#recent.keys().next().value as string);
  }

  #onAckOrReset(message: DecodedMessage): void {
    const pending = this.#pending.get(message.messageId);
    if (pending !== undefined) {
      if (pending.timer !== undefined) this.#clock.clearTimer(pending.timer);
      this.#pending.delete(message.messageId);
    }
    if (message.type !== MessageType.RST) return;
    this.counters.resetsReceived++;
    const target = pending ?? this.#recentNon.get(message.messageId);
    if (target?.path !== undefined) this.#dropObserver(target.path, target.tokenKey);
  }

  #dropObserver(path: string, key: string): void {
    const observer = this.#observers.get(path);
    if (observer === undefined || observer.tokenKey !== key) return;
    this.#observers.delete(path);
    this.counters.observersDropped++;
  }

  #sendEmpty(type: MessageType, messageId: number, to: PeerAddress): Uint8Array {
    const bytes = encodeMessage({ type, code: Code.Empty, messageId, token: EMPTY_BYTES, options: [], payload: EMPTY_BYTES });
    this.#port.send(bytes, to);
    return bytes;
  }

  /** Slices a large body into the block asked for, or block 0 (RFC 7959 §2.4). */
  #shape(answer: BoundedAnswer, asked: BlockValue | undefined, extra: readonly CoapOption[]): { code: number; options: CoapOption[]; payload: Uint8Array } {
    const body = bytesOf(answer.payload);
    const options = [...(answer.options ?? []), ...extra];
    if (asked === undefined && body.length <= blockSize(this.#maxBlockSzx)) return { code: answer.code, options, payload: body };
    const szx = Math.min(asked?.szx ?? this.#maxBlockSzx, this.#maxBlockSzx);
    const size = blockSize(szx);
    const num = asked === undefined ? 0 : Math.floor((asked.num * blockSize(asked.szx)) / size);
    const start = num * size;
    options.push({ number: OptionNumber.Block2, value: encodeBlock({ num, more: start + size < body.length, szx }) });
    if (num === 0) options.push({ number: OptionNumber.Size2, value: body.length });
    options.sort((a, b) => a.number - b.number);
    return { code: answer.code, options, payload: body.subarray(Math.min(start, body.length), Math.min(body.length, start + size)) };
  }

  #sendNew(type: MessageType, shaped: { code: number; options: CoapOption[]; payload: Uint8Array }, token: Uint8Array, to: PeerAddress, path: string | undefined): void {
    const messageId = this.#takeMessageId();
    const bytes = encodeMessage({ type, code: shaped.code, messageId, token, options: shaped.options, payload: shaped.payload });
    this.#port.send(bytes, to);
    const key = tokenKey(token);
    if (type !== MessageType.CON) {
      if (path === undefined) return;
      this.#recentNon.set(messageId, { path, tokenKey: key });
      if (this.#recentNon.size > RECENT_NON_LIMIT) this.#recentNon.delete(this.#recentNon.keys().next().value as number);
      return;
    }
    const pending: PendingCon = { bytes, to, path, tokenKey: key, timer: undefined, timeoutMs: this.#ackTimeoutMs, retransmissions: 0 };
    this.#pending.set(messageId, pending);
    this.#arm(messageId, pending);
  }

  #arm(messageId: number, pending: PendingCon): void {
    pending.timer = this.#clock.setTimer(() => {
      pending.timer = undefined;
      if (pending.retransmissions >= this.#maxRetransmit) {
        this.#pending.delete(messageId);
        // RFC 7641 §4.5: an observer that does not acknowledge a CON notification is removed.
        if (pending.path !== undefined) this.#dropObserver(pending.path, pending.tokenKey);
        return;
      }
      pending.retransmissions++;
      pending.timeoutMs *= 2;
      this.#port.send(pending.bytes, pending.to);
      this.#arm(messageId, pending);
    }, pending.timeoutMs);
  }
}
