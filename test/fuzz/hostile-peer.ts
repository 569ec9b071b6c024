// A hostile peer for the endpoint fuzz and the memory workload: each call makes one datagram
// aimed at the client endpoint, and says where it claims to come from. Portable.
//
// Two attackers:
// - "blind" (off-path) sees no traffic. From the server's address it can only send what it
//   makes up: random bytes, mutated random messages, forged messages with random tokens and
//   message IDs. Copies of the real traffic (the live tokens and IDs) it can only send from
//   other addresses, as a host on the path to the device but not to the server would.
// - "on-path" sees the live traffic and forges from the server's address too: mutated copies
//   of the server's real ACKs, responses and notifications, and new messages made with the
//   live tokens and message IDs, so the endpoint's deep paths (matching, separate responses,
//   Observe freshness, Block2, critical options, duplicates) are reached. Plain CoAP cannot
//   tell such forgeries from the server (RFC 7252 §11: only DTLS can): what the endpoint owes
//   is no crash, bounded state, typed failures, and recovery once the attacker stops.
import { Code, MessageType, makeCode } from "../../coap/codes.js";
import { encodeMessage } from "../../coap/encoder.js";
import { type CoapOption, EMPTY_BYTES } from "../../coap/message.js";
import { encodeBlock, OptionNumber } from "../../coap/options.js";
import type { PeerAddress } from "../../coap/peer-address.js";
import { encodeUtf8 } from "../../kernel/utf8.js";
import { fuzzCase, mutateDatagram, randomMessage, type SeededRandom } from "./datagram-fuzz.js";

export type HostileProfile = "blind" | "on-path";
export type HostileKind = "random" | "mutated" | "forged" | "replay";

/** A datagram seen on the wire, with the header fields a forger reuses. */
export interface SeenDatagram {
  readonly bytes: Uint8Array;
  readonly type: number;
  readonly code: number;
  readonly messageId: number;
  readonly token: Uint8Array;
}

/** The recent real traffic, newest last (bounded by whoever fills it). */
export interface LiveTraffic {
  /** What the client sent to the server: requests, ACKs, RSTs, pings. */
  readonly fromClient: readonly SeenDatagram[];
  /** What the server sent to the client: ACKs, responses, notifications. */
  readonly fromServer: readonly SeenDatagram[];
}

export interface HostileDatagram {
  readonly bytes: Uint8Array;
  readonly from: PeerAddress;
  /** Whether `from` is the server's address (in any spelling the endpoint must accept). */
  readonly fromServer: boolean;
  readonly kind: HostileKind;
}

export interface HostilePeerOptions {
  readonly random: SeededRandom;
  readonly profile: HostileProfile;
  /** The server's address, as the endpoint knows it (IPv4 dotted form). */
  readonly server: PeerAddress;
  readonly live: LiveTraffic;
}

const RESPONSE_CODES: readonly number[] = Object.freeze([
  Code.Content,
  Code.Content,
  Code.Content,
  Code.Changed,
  Code.Created,
  Code.Valid,
  Code.Continue,
  Code.BadRequest,
  Code.Unauthorized,
  Code.NotFound,
  Code.RequestEntityIncomplete,
  Code.TooManyRequests,
  Code.InternalServerError,
  Code.ServiceUnavailable,
  makeCode(2, 31),
  makeCode(3, 0),
  makeCode(6, 1),
  makeCode(7, 31),
]);
const REQUEST_CODES: readonly number[] = Object.freeze([
  Code.GET,
  Code.POST,
  Code.PUT,
  Code.DELETE,
  Code.FETCH,
  makeCode(0, 31),
]);
/** Observe values around the interesting points of RFC 7641 §3.4 (wrap, half the space). */
const OBSERVE_VALUES: readonly number[] = Object.freeze([0, 1, 2, 0x7fffff, 0x800000, 0x800001, 0xfffffe, 0xffffff]);
/** Max-Age: none, zero, small, a day, 2^31 ms in s and beyond, the largest 4-byte uint. */
const MAX_AGE_VALUES: readonly number[] = Object.freeze([0, 1, 10, 60, 86_400, 2_147_484, 0xffffffff]);
const PAYLOADS: readonly string[] = Object.freeze([
  "",
  "{}",
  "[]",
  '{"status":"success","message":"subscribed"}',
  '[{"key":"led","value":1}]',
  '[{"key":"led","value":"on"}]',
  '{"status":"error","message":"x"}',
  "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]",
  '{"key":',
  "null",
  "\u0000\u00ff",
]);

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export class HostilePeer {
  readonly #random: SeededRandom;
  readonly #profile: HostileProfile;
  readonly #server: PeerAddress;
  readonly #live: LiveTraffic;
  /** The server's address in the other spellings a socket may report (RFC 4291 §2.5.5.2). */
  readonly #serverAliases: readonly PeerAddress[];
  readonly #foreign: readonly PeerAddress[];

  constructor(options: HostilePeerOptions) {
    this.#random = options.random;
    this.#profile = options.profile;
    this.#server = options.server;
    this.#live = options.live;
    const { address, port } = options.server;
    this.#serverAliases = Object.freeze([
      { address: `::ffff:${address}`, port },
      { address: `::FFFF:${address}`, port },
    ]);
    this.#foreign = Object.freeze([
      { address, port: port + 1 },
      { address, port: port === 5683 ? 5684 : 5683 },
      { address, port: 0 },
      { address, port: 65535 },
      { address: `${address}0`, port },
      { address: "198.51.100.7", port },
      { address: "198.51.100.7", port: 40001 },
      { address: `::ffff:${address}`, port: port + 1 },
      { address: "2001:db8::1", port },
      { address: "", port },
    ]);
  }

  next(): HostileDatagram {
    const r = this.#random;
    const onPath = this.#profile === "on-path";
    const fromServer = r.chance(onPath ? 0.6 : 0.5);
    const from = fromServer ? (r.chance(0.1) ? r.pick(this.#serverAliases) : this.#server) : r.pick(this.#foreign);
    // The blind attacker's copies of live traffic only ever come from elsewhere.
    const knowsLive = onPath || !fromServer;
    const roll = r.below(100);
    let kind: HostileKind;
    let bytes: Uint8Array;
    if (roll < 30) {
      kind = "random";
      bytes = fuzzCase(r);
    } else if (roll < 55) {
      kind = "mutated";
      bytes = this.#mutated(knowsLive);
    } else if (roll < 90) {
      kind = "forged";
      bytes = this.#forged(knowsLive);
    } else {
      kind = "replay";
      bytes = this.#replay(knowsLive);
    }
    return { bytes, from, fromServer, kind };
  }

  #seen(list: readonly SeenDatagram[]): SeenDatagram | undefined {
    return list.length === 0 ? undefined : list[list.length - 1 - this.#random.below(Math.min(list.length, 8))];
  }

  #mutated(knowsLive: boolean): Uint8Array {
    const r = this.#random;
    const base = knowsLive ? this.#seen(r.chance(0.8) ? this.#live.fromServer : this.#live.fromClient) : undefined;
    const bytes = base?.bytes ?? encodeMessage(randomMessage(r));
    const donor = knowsLive ? (this.#seen(this.#live.fromServer)?.bytes ?? bytes) : encodeMessage(randomMessage(r));
    return mutateDatagram(r, bytes, donor, 1 + r.below(3));
  }

  #replay(knowsLive: boolean): Uint8Array {
    const r = this.#random;
    if (!knowsLive) return encodeMessage(randomMessage(r));
    // The server's own messages again (duplicates, §4.5), or the client's reflected back.
    const seen = this.#seen(r.chance(0.75) ? this.#live.fromServer : this.#live.fromClient);
    return seen === undefined ? fuzzCase(r) : seen.bytes.slice();
  }

  /** A random token of 0–8 bytes. */
  #randomToken(): Uint8Array {
    return this.#random.bytes(this.#random.below(9));
  }

  /** A live token: of a recent request or of the observation's notifications. */
  #liveToken(): Uint8Array {
    const r = this.#random;
    const seen = this.#seen(r.chance(0.5) ? this.#live.fromClient : this.#live.fromServer);
    return seen === undefined || seen.token.length === 0 ? this.#randomToken() : seen.token;
  }

  #liveMessageId(): number {
    const r = this.#random;
    const seen = this.#seen(r.chance(0.7) ? this.#live.fromClient : this.#live.fromServer);
    return seen === undefined ? r.below(0x10000) : (seen.messageId + (r.chance(0.8) ? 0 : r.below(3) - 1)) & 0xffff;
  }

  #options(): CoapOption[] {
    const r = this.#random;
    const options: CoapOption[] = [];
    if (r.chance(0.3)) options.push({ number: OptionNumber.ETag, value: r.bytes(1 + r.below(8)) });
    if (r.chance(0.5))
      options.push({
        number: OptionNumber.Observe,
        value: r.chance(0.5) ? r.pick(OBSERVE_VALUES) : r.below(0x1000000),
      });
    if (r.chance(0.05)) options.push({ number: 9, value: r.bytes(r.below(4)) });
    if (r.chance(0.3)) options.push({ number: OptionNumber.ContentFormat, value: r.pick([0, 50, 60, 65535]) });
    if (r.chance(0.3)) options.push({ number: OptionNumber.MaxAge, value: r.pick(MAX_AGE_VALUES) });
    if (r.chance(0.25)) {
      // SZX 7 is reserved (RFC 7959 §2.2) and sent all the same.
      const block = { num: r.chance(0.5) ? r.below(4) : r.below(0x100000), more: r.chance(0.5), szx: r.below(8) };
      options.push({ number: OptionNumber.Block2, value: encodeBlock(block) });
    }
    if (r.chance(0.15))
      options.push({ number: OptionNumber.Size2, value: r.chance(0.5) ? r.below(70_000) : 0xffffffff });
    if (r.chance(0.03)) options.push({ number: 65001, value: r.bytes(2) });
    options.sort((a, b) => a.number - b.number);
    return options;
  }

  #payload(): Uint8Array {
    const r = this.#random;
    if (r.chance(0.4)) return EMPTY_BYTES;
    if (r.chance(0.6)) return encodeUtf8(r.pick(PAYLOADS));
    return r.bytes(1 + r.below(r.chance(0.05) ? 1100 : 64));
  }

  #forged(knowsLive: boolean): Uint8Array {
    const r = this.#random;
    const messageId = knowsLive ? this.#liveMessageId() : r.below(0x10000);
    const token = knowsLive && r.chance(0.85) ? this.#liveToken() : this.#randomToken();
    switch (r.below(8)) {
      case 0:
        // An empty ACK (§5.2.2: "your request arrived, the response follows").
        return encodeMessage({
          type: MessageType.ACK,
          code: Code.Empty,
          messageId,
          token: EMPTY_BYTES,
          options: [],
          payload: EMPTY_BYTES,
        });
      case 1:
        return encodeMessage({
          type: MessageType.RST,
          code: Code.Empty,
          messageId,
          token: EMPTY_BYTES,
          options: [],
          payload: EMPTY_BYTES,
        });
      case 2:
      case 3:
        // A piggybacked response.
        return encodeMessage({
          type: MessageType.ACK,
          code: r.pick(RESPONSE_CODES),
          messageId,
          token,
          options: this.#options(),
          payload: this.#payload(),
        });
      case 4:
      case 5:
        // A separate response or a notification, CON or NON.
        return encodeMessage({
          type: r.chance(0.5) ? MessageType.CON : MessageType.NON,
          code: r.pick(RESPONSE_CODES),
          messageId,
          token,
          options: this.#options(),
          payload: this.#payload(),
        });
      case 6:
        // A request to the client.
        return encodeMessage({
          type: r.pick([MessageType.CON, MessageType.NON]),
          code: r.pick(REQUEST_CODES),
          messageId,
          token,
          options: this.#options(),
          payload: this.#payload(),
        });
      default: {
        // Empty messages: a ping, an empty NON, and an "empty" message carrying bytes (§4.1 format error).
        const empty = encodeMessage({
          type: r.pick([MessageType.CON, MessageType.NON, MessageType.ACK, MessageType.RST]),
          code: Code.Empty,
          messageId,
          token: EMPTY_BYTES,
          options: [],
          payload: EMPTY_BYTES,
        });
        return r.chance(0.2) ? concatBytes(empty, r.bytes(1 + r.below(4))) : empty;
      }
    }
  }
}
