// A simulated UDP network on a FakeClock: bound ports that implement DatagramPort, per-link
// loss / duplication / delay / jitter (jitter reorders), and scripted faults aimed at particular
// datagrams ("drop the 2nd ACK from the server"). Every datagram is traced with its decoded
// CoAP message, so tests can assert on what went over the wire and when. Portable.

import type { MessageType } from "../../coap/codes.js";
import type { DatagramPort } from "../../coap/datagram-port.js";
import { decodeMessage } from "../../coap/decoder.js";
import type { DecodedMessage } from "../../coap/message.js";
import type { PeerAddress } from "../../coap/peer-address.js";
import type { FakeClock } from "./fake-clock.js";
import type { SeededRandom } from "./seeded-random.js";

export interface SimDatagram {
  /** Order of sending, from 1. */
  readonly seq: number;
  readonly from: PeerAddress;
  readonly to: PeerAddress;
  /** A private copy of what was sent. */
  readonly bytes: Uint8Array;
  readonly sentAt: number;
  /** The bytes decoded as CoAP, or undefined if they are not a valid message. */
  readonly message: DecodedMessage | undefined;
}

export interface TraceEntry {
  readonly datagram: SimDatagram;
  /** Times at which copies were handed to the receiver (empty if dropped or nobody listened). */
  readonly deliveredAt: number[];
  /** Why the datagram was not delivered, if it was not. */
  dropReason: "loss" | "script" | "unreachable" | undefined;
}

export interface LinkConditions {
  /** Probability that a datagram is lost. */
  readonly lossRate?: number;
  /** Probability that a datagram arrives twice. */
  readonly duplicateRate?: number;
  /** Base one-way delay in ms (default 1). */
  readonly delayMs?: number;
  /** Extra random delay in [0, jitterMs): datagrams overtake each other. */
  readonly jitterMs?: number;
}

/** Selects datagrams; every given field must match. */
export interface DatagramMatch {
  readonly from?: PeerAddress;
  readonly to?: PeerAddress;
  readonly type?: MessageType;
  readonly code?: number;
  readonly messageId?: number;
  readonly where?: (datagram: SimDatagram) => boolean;
}

export interface ScriptPosition {
  /** Act on the nth matching datagram sent from now on (default 1). */
  readonly nth?: number;
  /** And on this many consecutive matches from there (default 1). */
  readonly count?: number;
}

type ScriptAction =
  | { readonly kind: "drop" }
  | { readonly kind: "duplicate"; readonly copies: number }
  | { readonly kind: "delay"; readonly ms: number };

interface ScriptRule {
  readonly match: DatagramMatch;
  skip: number;
  remaining: number;
  readonly action: ScriptAction;
}

export function peerKey(peer: PeerAddress): string {
  return `${peer.address}|${peer.port}`;
}

export function samePeerAddress(a: PeerAddress, b: PeerAddress): boolean {
  return a.address === b.address && a.port === b.port;
}

function matches(match: DatagramMatch, d: SimDatagram): boolean {
  if (match.from !== undefined && !samePeerAddress(match.from, d.from)) return false;
  if (match.to !== undefined && !samePeerAddress(match.to, d.to)) return false;
  if (match.type !== undefined && d.message?.type !== match.type) return false;
  if (match.code !== undefined && d.message?.code !== match.code) return false;
  if (match.messageId !== undefined && d.message?.messageId !== match.messageId) return false;
  if (match.where !== undefined && !match.where(d)) return false;
  return true;
}

export interface SimNetworkOptions {
  readonly clock: FakeClock;
  /** Drives loss, duplication and jitter. */
  readonly random: SeededRandom;
  /** Conditions for every link without its own (default: 1 ms delay, nothing lost). */
  readonly conditions?: LinkConditions;
  /** Trace entries kept (default 10 000; older ones are discarded). */
  readonly traceLimit?: number;
}

export class SimNetwork {
  readonly #clock: FakeClock;
  readonly #random: SeededRandom;
  #defaults: LinkConditions;
  readonly #links = new Map<string, LinkConditions>();
  readonly #ports = new Map<string, SimPort>();
  /** Bound: rules are removed once spent; tests add a handful. */
  #rules: ScriptRule[] = [];
  /** Bound: traceLimit. */
  readonly #trace: TraceEntry[] = [];
  readonly #traceLimit: number;
  #seq = 0;

  constructor(options: SimNetworkOptions) {
    this.#clock = options.clock;
    this.#random = options.random;
    this.#defaults = options.conditions ?? {};
    this.#traceLimit = options.traceLimit ?? 10_000;
  }

  get clock(): FakeClock {
    return this.#clock;
  }

  /** A port bound to `address`; throws if that address is taken. */
  bind(address: PeerAddress): SimPort {
    const key = peerKey(address);
    if (this.#ports.has(key)) throw new Error(`address in use: ${key}`);
    const port = new SimPort(this, address);
    this.#ports.set(key, port);
    return port;
  }

  /** @internal called by SimPort.close() */
  unbind(port: SimPort): void {
    const key = peerKey(port.address);
    if (this.#ports.get(key) === port) this.#ports.delete(key);
  }

  setDefaultConditions(conditions: LinkConditions): void {
    this.#defaults = conditions;
  }

  /** Conditions for datagrams from `from` to `to` only (one direction). */
  setLink(from: PeerAddress, to: PeerAddress, conditions: LinkConditions): void {
    this.#links.set(`${peerKey(from)}>${peerKey(to)}`, conditions);
  }

  clearLinks(): void {
    this.#links.clear();
  }

  /** Drops matching datagrams (see ScriptPosition). */
  drop(match: DatagramMatch, position: ScriptPosition = {}): void {
    this.#addRule(match, position, { kind: "drop" });
  }

  /** Delivers matching datagrams `copies` times. */
  duplicate(match: DatagramMatch, position: ScriptPosition = {}, copies: number = 2): void {
    this.#addRule(match, position, { kind: "duplicate", copies });
  }

  /** Adds `ms` to the delivery delay of matching datagrams. */
  delay(match: DatagramMatch, ms: number, position: ScriptPosition = {}): void {
    this.#addRule(match, position, { kind: "delay", ms });
  }

  /** Scripted rules not yet spent. */
  get pendingRules(): number {
    return this.#rules.length;
  }

  clearRules(): void {
    this.#rules = [];
  }

  get trace(): readonly TraceEntry[] {
    return this.#trace;
  }

  /** Every datagram sent that matches, delivered or not, in sending order. */
  sent(match: DatagramMatch = {}): SimDatagram[] {
    return this.#trace.filter((e) => matches(match, e.datagram)).map((e) => e.datagram);
  }

  /** Matching datagrams that reached a bound port (each once, however many copies). */
  delivered(match: DatagramMatch = {}): SimDatagram[] {
    return this.#trace.filter((e) => e.deliveredAt.length > 0 && matches(match, e.datagram)).map((e) => e.datagram);
  }

  #addRule(match: DatagramMatch, position: ScriptPosition, action: ScriptAction): void {
    const nth = position.nth ?? 1;
    const count = position.count ?? 1;
    if (!Number.isInteger(nth) || nth < 1 || !Number.isInteger(count) || count < 1)
      throw new RangeError("nth and count start at 1");
    this.#rules.push({ match, skip: nth - 1, remaining: count, action });
  }

  /** The scripted action for `d`, consuming the rule's position. */
  #scripted(d: SimDatagram): ScriptAction | undefined {
    let action: ScriptAction | undefined;
    for (const rule of this.#rules) {
      if (!matches(rule.match, d)) continue;
      if (rule.skip > 0) {
        rule.skip--;
        continue;
      }
      rule.remaining--;
      action ??= rule.action;
    }
    this.#rules = this.#rules.filter((r) => r.remaining > 0);
    return action;
  }

  /** @internal called by SimPort.send() */
  transmit(from: PeerAddress, to: PeerAddress, bytes: Uint8Array): void {
    const copy = bytes.slice();
    let message: DecodedMessage | undefined;
    try {
      message = decodeMessage(copy);
    } catch {
      message = undefined;
    }
    const datagram: SimDatagram = { seq: ++this.#seq, from, to, bytes: copy, sentAt: this.#clock.now(), message };
    const entry: TraceEntry = { datagram, deliveredAt: [], dropReason: undefined };
    this.#trace.push(entry);
    if (this.#trace.length > this.#traceLimit) this.#trace.shift();

    const link = this.#links.get(`${peerKey(from)}>${peerKey(to)}`) ?? this.#defaults;
    const action = this.#scripted(datagram);
    if (action?.kind === "drop") {
      entry.dropReason = "script";
      return;
    }
    if (action === undefined && link.lossRate !== undefined && this.#random.chance(link.lossRate)) {
      entry.dropReason = "loss";
      return;
    }
    let copies = 1;
    if (action?.kind === "duplicate") copies = action.copies;
    else if (link.duplicateRate !== undefined && this.#random.chance(link.duplicateRate)) copies = 2;
    for (let i = 0; i < copies; i++) {
      let delay = link.delayMs ?? 1;
      if (link.jitterMs !== undefined && link.jitterMs > 0) delay += this.#random.next() * link.jitterMs;
      if (action?.kind === "delay") delay += action.ms;
      this.#clock.setTimer(() => this.#deliver(entry), delay);
    }
  }

  #deliver(entry: TraceEntry): void {
    const d = entry.datagram;
    const port = this.#ports.get(peerKey(d.to));
    if (port === undefined) {
      entry.dropReason ??= "unreachable";
      return;
    }
    entry.deliveredAt.push(this.#clock.now());
    port.receive(d.bytes.slice(), d.from);
  }
}

/** One bound address on a SimNetwork. */
export class SimPort implements DatagramPort {
  readonly #network: SimNetwork;
  readonly address: PeerAddress;
  #handler: ((bytes: Uint8Array, from: PeerAddress) => void) | undefined;
  #closed = false;

  constructor(network: SimNetwork, address: PeerAddress) {
    this.#network = network;
    this.address = address;
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(bytes: Uint8Array, to: PeerAddress): void {
    if (this.#closed) throw new Error("send on a closed port");
    this.#network.transmit(this.address, to, bytes);
  }

  onReceive(handler: (bytes: Uint8Array, from: PeerAddress) => void): void {
    this.#handler = handler;
  }

  /** @internal called by SimNetwork */
  receive(bytes: Uint8Array, from: PeerAddress): void {
    if (!this.#closed) this.#handler?.(bytes, from);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handler = undefined;
    this.#network.unbind(this);
  }
}
