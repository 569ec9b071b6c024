// A lean CoAP server on a SimNetwork for long runs: the endpoint fuzz (a million datagrams) and
// the XS memory workload (10,000 exchanges). SimCoapServer keeps every request for tests to
// inspect; this one keeps nothing beyond small bounded tables, so its own memory stays flat and
// does not colour a heap figure. It answers each request piggybacked, or with an empty ACK and
// a separate CON response (RFC 7252 §5.2.2); answers duplicates from a window of recent message
// IDs (§4.5); keeps one observer per path with its sequence (RFC 7641 §4); retransmits its CONs
// (§4.2); drops an observer on a RST to its notification (§3.6); and slices large bodies into
// Block2 blocks (RFC 7959 §2.4). The wire side (replies, retransmission, RST matching, block
// slicing) is the message layer it shares with SimCoapServer (server-message-layer.ts). Portable.
import { MessageType } from "../../coap/codes.js";
import { type CoapOption, type DecodedMessage, optionUint, uriPath } from "../../coap/message.js";
import { type BlockValue, OptionNumber, observeValue } from "../../coap/options.js";
import type { PeerAddress } from "../../coap/peer-address.js";
import { tokenKey } from "../../coap/tokens.js";
import type { FakeClock } from "./fake-clock.js";
import {
  dedupKey,
  type PendingCon,
  payloadBytes,
  requestedBlock2,
  ServerMessageLayer,
  type ShapedResponse,
  sliceBlock2,
} from "./server-message-layer.js";
import { type SimNetwork, type SimPort, samePeerAddress } from "./sim-network.js";

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
  /** The observed path, its key in the observer table. */
  readonly path: string;
  sequence: number;
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

export class BoundedCoapServer {
  readonly #clock: FakeClock;
  readonly #port: SimPort;
  readonly #handler: BoundedHandler;
  readonly #dedupWindow: number;
  readonly #maxBlockSzx: number;
  /**
   * Message IDs from 0x2000. Bound: its pending CONs each end after maxRetransmit
   * retransmissions or their ACK/RST; the observers of the last RECENT_NON_LIMIT NON
   * notifications, for matching a RST.
   */
  readonly #messages: ServerMessageLayer<Observer>;
  /** Bound: dedupWindow entries, oldest forgotten first. */
  readonly #recent = new Map<string, Uint8Array | undefined>();
  /** Bound: one per path served. */
  readonly #observers = new Map<string, Observer>();
  readonly counters: BoundedServerCounters = {
    requests: 0,
    duplicates: 0,
    notifications: 0,
    resetsReceived: 0,
    observersDropped: 0,
  };

  constructor(options: BoundedCoapServerOptions) {
    this.#clock = options.network.clock;
    this.#port = options.network.bind(options.address);
    this.#handler = options.handler;
    this.#dedupWindow = options.dedupWindow ?? 64;
    this.#maxBlockSzx = options.maxBlockSzx ?? 6;
    this.#messages = new ServerMessageLayer<Observer>({
      port: this.#port,
      clock: this.#clock,
      firstMessageId: 0x2000,
      ackTimeoutMs: options.ackTimeoutMs ?? 2000,
      maxRetransmit: options.maxRetransmit ?? 4,
      recentNonLimit: RECENT_NON_LIMIT,
      onRequest: (message, from) => this.#onRequest(message, from),
      onReset: (messageId, pending) => this.#onReset(messageId, pending),
      // RFC 7641 §4.5: an observer that does not acknowledge a CON notification is removed.
      onGiveUp: (observer) => this.#dropObserver(observer),
    });
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
    this.#messages.send(
      confirmable ? MessageType.CON : MessageType.NON,
      shaped,
      observer.token,
      observer.peer,
      observer,
    );
    return true;
  }

  /** Forgets every observer and pending message, as after a reboot. */
  restart(): void {
    this.#messages.cancelPending();
    this.#observers.clear();
    this.#recent.clear();
    this.#messages.forgetNonNotifications();
  }

  close(): void {
    this.restart();
    this.#port.close();
  }

  #onRequest(message: DecodedMessage, from: PeerAddress): void {
    const confirmable = message.type === MessageType.CON;
    const key = dedupKey(from, message.messageId);
    if (this.#recent.has(key)) {
      this.counters.duplicates++;
      const reply = this.#recent.get(key);
      if (reply !== undefined) this.#port.send(reply, from);
      return;
    }
    this.#remember(key, undefined);
    this.counters.requests++;
    const path = uriPath(message);
    const observe = optionUint(message, OptionNumber.Observe);
    const block2 = requestedBlock2(message);
    const answer = this.#handler({
      code: message.code,
      path,
      payload: message.payload,
      observe,
      block2,
      confirmable,
      from,
    });
    if (answer === undefined) return;
    const extra: CoapOption[] = [];
    const requestTokenKey = tokenKey(message.token);
    if (observe === 1 || (observe === 0 && !(answer.code >> 5 === 2))) {
      const current = this.#observers.get(path);
      if (current !== undefined && current.tokenKey === requestTokenKey && samePeerAddress(current.peer, from))
        this.#observers.delete(path);
    } else if (observe === 0 && (block2 === undefined || block2.num === 0)) {
      const current = this.#observers.get(path);
      const sequence = current?.sequence ?? 0;
      this.#observers.set(path, {
        peer: from,
        token: message.token.slice(),
        tokenKey: requestTokenKey,
        path,
        sequence,
      });
      extra.push({ number: OptionNumber.Observe, value: sequence });
    }
    const shaped = this.#shape(answer, block2, extra);
    if (answer.separateAfterMs !== undefined && confirmable) {
      this.#remember(key, this.#messages.sendEmpty(MessageType.ACK, message.messageId, from));
      const token = message.token.slice();
      this.#clock.setTimer(
        () => this.#messages.send(MessageType.CON, shaped, token, from, undefined),
        answer.separateAfterMs,
      );
      return;
    }
    this.#remember(key, this.#messages.reply(message, shaped, from));
  }

  #remember(key: string, reply: Uint8Array | undefined): void {
    this.#recent.delete(key);
    this.#recent.set(key, reply);
    if (this.#recent.size > this.#dedupWindow) this.#recent.delete(this.#recent.keys().next().value as string);
  }

  /**
   * RFC 7641 §3.6: a RST to a notification cancels the observation. A CON notification is
   * matched by its pending entry (a pending separate response cancels nothing), a NON one by the
   * message IDs of recent NON notifications.
   */
  #onReset(messageId: number, pending: PendingCon<Observer> | undefined): void {
    this.counters.resetsReceived++;
    const observer = pending !== undefined ? pending.subject : this.#messages.nonNotification(messageId);
    if (observer !== undefined) this.#dropObserver(observer);
  }

  /** Removes `observer` if it still holds its path (a newer registration with another token stays). */
  #dropObserver(observer: Observer): void {
    const current = this.#observers.get(observer.path);
    if (current === undefined || current.tokenKey !== observer.tokenKey) return;
    this.#observers.delete(observer.path);
    this.counters.observersDropped++;
  }

  /** Slices a large body into the block asked for, or block 0 (RFC 7959 §2.4). */
  #shape(answer: BoundedAnswer, asked: BlockValue | undefined, extra: readonly CoapOption[]): ShapedResponse {
    return sliceBlock2(
      answer.code,
      payloadBytes(answer.payload),
      [...(answer.options ?? []), ...extra],
      asked,
      this.#maxBlockSzx,
    );
  }
}
