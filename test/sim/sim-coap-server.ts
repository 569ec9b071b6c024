// A scriptable CoAP server on a SimNetwork. Tests decide how each request is answered
// (piggybacked, empty ACK then separate response, NON, RST, or not at all); the server does the
// rest the way a real one would: duplicate detection with cached replies (RFC 7252 §4.5),
// retransmission of its own CONs (§4.2), observers with sequence numbers and removal on RST or
// deregistration (RFC 7641), and Block2 slicing of large bodies (RFC 7959), honouring the block
// size the client asks for. The wire side (replies, retransmission, RST matching, block slicing)
// is the message layer it shares with BoundedCoapServer (server-message-layer.ts). Portable.
import { Code, MessageType } from "../../coap/codes.js";
import { encodeMessage } from "../../coap/encoder.js";
import {
  type CoapOption,
  type DecodedMessage,
  EMPTY_BYTES,
  optionStrings,
  optionUint,
  uriPath,
} from "../../coap/message.js";
import { type BlockValue, OptionNumber, observeValue } from "../../coap/options.js";
import type { PeerAddress } from "../../coap/peer-address.js";
import { tokenKey } from "../../coap/tokens.js";
import type { FakeClock } from "./fake-clock.js";
import {
  dedupKey,
  payloadBytes,
  requestedBlock2,
  ServerMessageLayer,
  type ShapedResponse,
  sliceBlock2,
} from "./server-message-layer.js";
import { type SimNetwork, type SimPort, samePeerAddress } from "./sim-network.js";

export interface SimRequest {
  readonly message: DecodedMessage;
  readonly from: PeerAddress;
  readonly receivedAt: number;
  readonly confirmable: boolean;
  /** The method code (Code.GET …). */
  readonly method: number;
  readonly path: string;
  readonly query: readonly string[];
  readonly payload: Uint8Array;
  readonly observe: number | undefined;
  readonly block2: BlockValue | undefined;
  readonly tokenKey: string;
}

export interface SimResponse {
  readonly code: number;
  readonly payload?: Uint8Array | string;
  readonly options?: readonly CoapOption[];
}

export interface LaterOptions {
  /** Delay before the separate response (default 0). */
  readonly delayMs?: number;
  /** CON (default) or NON. */
  readonly confirmable?: boolean;
}

/** How a handler answers one request: call one of these, or none to ignore the request. */
export interface SimReply {
  /** Piggybacked in the ACK of a CON (RFC 7252 §5.2.1); a NON response to a NON. */
  respond(response: SimResponse): void;
  /** An empty ACK now (CON only): a separate response is to follow. */
  ack(): void;
  /** A separate response (§5.2.2): CON ones are retransmitted until acknowledged. */
  respondLater(response: SimResponse, options?: LaterOptions): void;
  /** RST instead of an answer. */
  reset(): void;
}

export type SimHandler = (request: SimRequest, reply: SimReply) => void;

export interface SimObserver {
  readonly peer: PeerAddress;
  readonly token: Uint8Array;
  readonly path: string;
  /** The request that registered it (for Block2 follow-up answers). */
  readonly request: SimRequest;
}

export interface NotifyOptions {
  /** CON (default false: NON). */
  readonly confirmable?: boolean;
  /** Observe value to send; default: the next in the server's sequence. */
  readonly sequence?: number;
}

export interface SimCoapServerOptions {
  readonly network: SimNetwork;
  readonly address: PeerAddress;
  /** Largest block the server sends, as SZX (default 6, 1024 bytes). */
  readonly maxBlockSzx?: number;
  /** Retransmission of the server's CONs: fixed initial timeout, doubling (default 2000 ms, 4). */
  readonly ackTimeoutMs?: number;
  readonly maxRetransmit?: number;
  /** How long request message IDs are remembered (default 247 s, EXCHANGE_LIFETIME). */
  readonly dedupLifetimeMs?: number;
  /** First message ID the server uses (default 0x4000). */
  readonly firstMessageId?: number;
}

interface Remembered {
  readonly expiresAt: number;
  /** The reply sent for it, resent to duplicates; undefined until there is one. */
  reply: Uint8Array | undefined;
}

interface Content {
  body: Uint8Array;
  etag: Uint8Array | undefined;
  readonly contentFormat: number | undefined;
  readonly maxAge: number | undefined;
}

/** NON notifications remembered for matching a RST (RFC 7641 §3.6). */
const RECENT_NON_LIMIT = 256;

export class SimCoapServer {
  readonly #network: SimNetwork;
  readonly #clock: FakeClock;
  readonly #port: SimPort;
  readonly #maxBlockSzx: number;
  readonly #dedupLifetimeMs: number;
  /**
   * Message IDs, the server's CONs until acknowledged (each ends after maxRetransmit
   * retransmissions or its ACK/RST) and the last RECENT_NON_LIMIT NON notifications.
   */
  readonly #messages: ServerMessageLayer<SimObserver>;
  #handler: SimHandler | undefined;
  readonly #routes = new Map<string, SimHandler>();
  #remembered = new Map<string, Remembered>();
  #observers: SimObserver[] = [];
  #sequence = new Map<string, number>();
  readonly #contents = new Map<string, Content>();
  /** Every request processed (duplicates excluded), in order. */
  readonly requests: SimRequest[] = [];
  /** Every message received (duplicates, ACKs and RSTs included). */
  readonly received: DecodedMessage[] = [];
  duplicateRequests = 0;

  constructor(options: SimCoapServerOptions) {
    this.#network = options.network;
    this.#clock = options.network.clock;
    this.#port = options.network.bind(options.address);
    this.#maxBlockSzx = options.maxBlockSzx ?? 6;
    this.#dedupLifetimeMs = options.dedupLifetimeMs ?? 247_000;
    this.#messages = new ServerMessageLayer<SimObserver>({
      port: this.#port,
      clock: this.#clock,
      firstMessageId: options.firstMessageId ?? 0x4000,
      ackTimeoutMs: options.ackTimeoutMs ?? 2000,
      maxRetransmit: options.maxRetransmit ?? 4,
      recentNonLimit: RECENT_NON_LIMIT,
      onDecoded: (message) => {
        this.received.push(message);
      },
      onRequest: (message, from) => this.#onRequest(message, from),
      onReset: (messageId, pending) => {
        // RFC 7641 §3.6: a RST to a notification cancels the observation. NON notifications are
        // not pending, so the RST is matched against them by the notification's message ID.
        const observer = pending?.subject ?? this.#messages.nonNotification(messageId);
        if (observer !== undefined) this.removeObserver(observer.peer, observer.token);
      },
      // RFC 7641 §4.5: an observer that does not acknowledge a CON notification is removed.
      onGiveUp: (observer) => this.removeObserver(observer.peer, observer.token),
    });
  }

  get address(): PeerAddress {
    return this.#port.address;
  }

  /** The handler for requests no route claims. */
  handle(handler: SimHandler): void {
    this.#handler = handler;
  }

  /** The handler for one path ("/a/b"). */
  route(path: string, handler: SimHandler): void {
    this.#routes.set(path, handler);
  }

  /**
   * Serves `body` at `path`: GET answers 2.05 piggybacked (Block2 when large), Observe = 0
   * registers an observer, Observe = 1 deregisters; update() changes it and notifies.
   */
  content(
    path: string,
    body: Uint8Array | string,
    options: { etag?: Uint8Array; contentFormat?: number; maxAge?: number } = {},
  ): void {
    this.#contents.set(path, {
      body: payloadBytes(body),
      etag: options.etag,
      contentFormat: options.contentFormat,
      maxAge: options.maxAge,
    });
    this.route(path, (request, reply) => {
      if (request.method !== Code.GET) {
        reply.respond({ code: Code.MethodNotAllowed });
        return;
      }
      const content = this.#contents.get(path)!;
      if (request.observe === 0 && (request.block2 === undefined || request.block2.num === 0))
        this.addObserver(request);
      else if (request.observe === 1) this.removeObserver(request.from, request.message.token);
      const observing = request.observe === 0 && this.#isObserver(request.from, request.message.token);
      const options: CoapOption[] = this.#contentOptions(content);
      if (observing) options.push({ number: OptionNumber.Observe, value: this.#currentSequence(path) });
      reply.respond({ code: Code.Content, payload: content.body, options });
    });
  }

  /** Replaces the body at `path` (a content() path) and notifies its observers. */
  update(path: string, body: Uint8Array | string, options: NotifyOptions & { etag?: Uint8Array } = {}): void {
    const content = this.#contents.get(path);
    if (content === undefined) throw new Error(`no content at ${path}`);
    content.body = payloadBytes(body);
    if (options.etag !== undefined) content.etag = options.etag;
    this.notify(path, { code: Code.Content, payload: content.body, options: this.#contentOptions(content) }, options);
  }

  #contentOptions(content: Content): CoapOption[] {
    const options: CoapOption[] = [];
    if (content.etag !== undefined) options.push({ number: OptionNumber.ETag, value: content.etag });
    if (content.contentFormat !== undefined)
      options.push({ number: OptionNumber.ContentFormat, value: content.contentFormat });
    if (content.maxAge !== undefined) options.push({ number: OptionNumber.MaxAge, value: content.maxAge });
    return options;
  }

  /** Adds (or renews, RFC 7641 §4.1) the requester as an observer of the request's path. */
  addObserver(request: SimRequest): SimObserver {
    this.removeObserver(request.from, request.message.token);
    const observer: SimObserver = {
      peer: request.from,
      token: request.message.token.slice(),
      path: request.path,
      request,
    };
    this.#observers.push(observer);
    return observer;
  }

  removeObserver(peer: PeerAddress, token: Uint8Array): void {
    const key = tokenKey(token);
    this.#observers = this.#observers.filter((o) => !(samePeerAddress(o.peer, peer) && tokenKey(o.token) === key));
  }

  observers(path?: string): readonly SimObserver[] {
    return path === undefined ? this.#observers : this.#observers.filter((o) => o.path === path);
  }

  #isObserver(peer: PeerAddress, token: Uint8Array): boolean {
    const key = tokenKey(token);
    return this.#observers.some((o) => samePeerAddress(o.peer, peer) && tokenKey(o.token) === key);
  }

  #currentSequence(path: string): number {
    return this.#sequence.get(path) ?? 0;
  }

  /** Sends a notification to every observer of `path` (Observe added; Block2 block 0 if large). */
  notify(path: string, response: SimResponse, options: NotifyOptions = {}): number {
    const sequence = options.sequence ?? observeValue(this.#currentSequence(path) + 1);
    this.#sequence.set(path, sequence);
    for (const observer of this.#observers.filter((o) => o.path === path)) {
      this.notifyOne(observer, response, { ...options, sequence });
    }
    return sequence;
  }

  /** Sends one notification to one observer. */
  notifyOne(observer: SimObserver, response: SimResponse, options: NotifyOptions = {}): void {
    const sequence = options.sequence ?? observeValue(this.#currentSequence(observer.path) + 1);
    const extra: CoapOption[] = [{ number: OptionNumber.Observe, value: sequence }];
    // RFC 7959 §2.6: block 0 of a large notification, in the size the registration asked for.
    const asked =
      observer.request.block2 === undefined ? undefined : { num: 0, more: false, szx: observer.request.block2.szx };
    const shaped = this.#shape({ ...response, options: [...(response.options ?? []), ...extra] }, asked);
    this.#messages.send(
      options.confirmable === true ? MessageType.CON : MessageType.NON,
      shaped,
      observer.token,
      observer.peer,
      observer,
    );
  }

  /** Sends a message as is (for crafted or misbehaving traffic). */
  sendRaw(bytes: Uint8Array, to: PeerAddress): void {
    this.#port.send(bytes, to);
  }

  /** Builds and sends one message with the next message ID; returns that ID. */
  send(
    to: PeerAddress,
    message: {
      type: MessageType;
      code: number;
      token?: Uint8Array;
      options?: readonly CoapOption[];
      payload?: Uint8Array | string;
      messageId?: number;
    },
  ): number {
    const messageId = message.messageId ?? this.#messages.takeMessageId();
    this.#port.send(
      encodeMessage({
        type: message.type,
        code: message.code,
        messageId,
        token: message.token ?? EMPTY_BYTES,
        options: message.options ?? [],
        payload: payloadBytes(message.payload),
      }),
      to,
    );
    return messageId;
  }

  /** A server reboot: observers, remembered message IDs and pending retransmissions are gone. */
  restart(): void {
    this.#messages.cancelPending();
    this.#remembered.clear();
    this.#observers = [];
    this.#messages.skipMessageIds(0x1234);
  }

  close(): void {
    this.restart();
    this.#port.close();
  }

  #onRequest(message: DecodedMessage, from: PeerAddress): void {
    const key = dedupKey(from, message.messageId);
    const now = this.#clock.now();
    const seen = this.#remembered.get(key);
    if (seen !== undefined && seen.expiresAt > now) {
      this.duplicateRequests++;
      if (seen.reply !== undefined) this.#port.send(seen.reply, from);
      return;
    }
    // Expired IDs are forgotten oldest first (insertion order is expiry order: a key is deleted
    // before it is set again), so the cache holds one EXCHANGE_LIFETIME of requests, no more.
    this.#remembered.delete(key);
    for (const [oldKey, old] of this.#remembered) {
      if (old.expiresAt > now) break;
      this.#remembered.delete(oldKey);
    }
    const remembered: Remembered = { expiresAt: now + this.#dedupLifetimeMs, reply: undefined };
    this.#remembered.set(key, remembered);
    const request: SimRequest = {
      message,
      from,
      receivedAt: now,
      confirmable: message.type === MessageType.CON,
      method: message.code,
      path: uriPath(message),
      query: optionStrings(message, OptionNumber.UriQuery),
      payload: message.payload,
      observe: optionUint(message, OptionNumber.Observe),
      block2: requestedBlock2(message),
      tokenKey: tokenKey(message.token),
    };
    this.requests.push(request);
    const handler = this.#routes.get(request.path) ?? this.#handler;
    if (handler === undefined) {
      this.#reply(request, remembered, { code: Code.NotFound });
      return;
    }
    handler(request, this.#replier(request, remembered));
  }

  #replier(request: SimRequest, remembered: Remembered): SimReply {
    return {
      respond: (response) => this.#reply(request, remembered, response),
      ack: () => {
        if (!request.confirmable) return;
        remembered.reply = this.#messages.sendEmpty(MessageType.ACK, request.message.messageId, request.from);
      },
      respondLater: (response, options = {}) => {
        const send = (): void => {
          const shaped = this.#shape(response, request.block2);
          this.#messages.send(
            options.confirmable === false ? MessageType.NON : MessageType.CON,
            shaped,
            request.message.token,
            request.from,
            undefined,
          );
        };
        if ((options.delayMs ?? 0) > 0) this.#clock.setTimer(send, options.delayMs!);
        else send();
      },
      reset: () => {
        remembered.reply = this.#messages.sendEmpty(MessageType.RST, request.message.messageId, request.from);
      },
    };
  }

  #reply(request: SimRequest, remembered: Remembered, response: SimResponse): void {
    remembered.reply = this.#messages.reply(request.message, this.#shape(response, request.block2), request.from);
  }

  /** Slices a large body (or any body the request asked a block of) into the requested block (RFC 7959 §2.4). */
  #shape(response: SimResponse, asked: BlockValue | undefined): ShapedResponse {
    const body = payloadBytes(response.payload);
    const options = [...(response.options ?? [])];
    // A handler that sets Block2 itself does its own slicing.
    if (options.some((o) => o.number === OptionNumber.Block2)) return { code: response.code, options, payload: body };
    return sliceBlock2(response.code, body, options, asked, this.#maxBlockSzx);
  }

  get network(): SimNetwork {
    return this.#network;
  }
}
