// One outgoing request (or ping) and where it stands: waiting in the queue, waiting for its ACK
// while being retransmitted, or acknowledged and waiting for its separate / NON response. The
// record both layers keep: the message layer (coap/message-layer.ts) its message ID,
// retransmission schedule and ACK timer, the request layer (coap/request-layer.ts) the rest.

import type { TimerHandle } from "../kernel/clock.js";
import type { CoapRequestError, SentRequest } from "./client-api.js";
import type { DecodedMessage } from "./message.js";
import type { RetransmissionSchedule } from "./retransmission.js";

export type ExchangeState = "queued" | "awaiting-ack" | "awaiting-response" | "done";

/** Where an exchange reports its end; called once, after both layers have updated their tables. */
export interface ExchangeSink {
  /** The matching response (for a ping: the RST or ACK). `message` is only valid during the call. */
  onResponse(message: DecodedMessage): void;
  onFailure(error: CoapRequestError): void;
}

export interface ExchangeInit {
  /** The encoded message; its message ID bytes are filled in at first transmission unless `messageId` is given. */
  readonly bytes: Uint8Array;
  readonly confirmable: boolean;
  readonly token: Uint8Array;
  readonly tokenKey: string;
  /** Whether the request layer gives the token back when the exchange ends. */
  readonly ownsToken: boolean;
  /** A fixed message ID (resend); otherwise one is drawn when the message first goes out. */
  readonly messageId?: number;
  /** Carried over by resend so that EXCHANGE_LIFETIME counts from the very first transmission. */
  readonly firstSentAt?: number;
  /** No transmission at or after this time (resend: the server's duplicate memory ends). */
  readonly deadline?: number;
  /** An empty CON expecting RST (RFC 7252 §4.3). */
  readonly ping: boolean;
  /** Goes to the head of the queue (Block2 follow-ups finish a transfer before new work starts). */
  readonly priority: boolean;
  /** Counts against the queue bound (user requests); internal ones are bounded by their owners. */
  readonly counted: boolean;
  /** Fewer retransmissions than MAX_RETRANSMIT for this exchange (see OutgoingRequest). */
  readonly maxRetransmit?: number;
  readonly sink: ExchangeSink;
}

export class Exchange {
  state: ExchangeState = "queued";
  readonly bytes: Uint8Array;
  readonly confirmable: boolean;
  readonly token: Uint8Array;
  readonly tokenKey: string;
  readonly ownsToken: boolean;
  readonly fixedMessageId: boolean;
  messageId: number;
  firstSentAt: number | undefined;
  readonly deadline: number | undefined;
  readonly ping: boolean;
  readonly priority: boolean;
  readonly counted: boolean;
  readonly maxRetransmit: number | undefined;
  readonly sink: ExchangeSink;
  schedule: RetransmissionSchedule | undefined;
  /** The wait for the ACK of a CON, then its retransmission (message layer). */
  ackTimer: TimerHandle | undefined;
  /** The wait for a separate or NON response (request layer). */
  responseTimer: TimerHandle | undefined;
  /** Whether it counts as an outstanding interaction (NSTART, RFC 7252 §4.7). */
  holdsSlot = false;

  constructor(init: ExchangeInit) {
    this.bytes = init.bytes;
    this.confirmable = init.confirmable;
    this.token = init.token;
    this.tokenKey = init.tokenKey;
    this.ownsToken = init.ownsToken;
    this.fixedMessageId = init.messageId !== undefined;
    this.messageId = init.messageId ?? -1;
    this.firstSentAt = init.firstSentAt;
    this.deadline = init.deadline;
    this.ping = init.ping;
    this.priority = init.priority;
    this.counted = init.counted;
    this.maxRetransmit = init.maxRetransmit;
    this.sink = init.sink;
  }

  /** Writes the message ID into the encoded header (§3: bytes 2 and 3). */
  assignMessageId(messageId: number): void {
    this.messageId = messageId;
    this.bytes[2] = messageId >> 8;
    this.bytes[3] = messageId & 0xff;
  }

  /** What went on the wire, for resend() (RFC 7252 §4.5 duplicate detection at the server). */
  sent(): SentRequest | undefined {
    if (this.firstSentAt === undefined) return undefined;
    return {
      messageId: this.messageId,
      token: this.token.slice(),
      bytes: this.bytes.slice(),
      firstSentAt: this.firstSentAt,
    };
  }
}
