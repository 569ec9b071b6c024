// A CoAP client for the platform tests that works at the message level (coap-packet over a
// dgram socket), so tests control message types, tokens and ACKs exactly and see every datagram
// the platform sends. Not node-coap's client: that would let node-coap test itself.

import { randomBytes } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { generate, type ParsedPacket, parse } from "coap-packet";

export type Method = "GET" | "POST" | "PUT" | "DELETE";
const METHOD_CODES: Record<Method, string> = { GET: "0.01", POST: "0.02", PUT: "0.03", DELETE: "0.04" };

export interface RequestSpec {
  method: Method;
  /** Uri-Path segments, sent as given (one option each). */
  path: readonly string[];
  /** Uri-Query options, e.g. "limit=10". */
  query?: readonly string[];
  payload?: string | Buffer;
  confirmable?: boolean;
  token?: Buffer;
  /** Observe option value (0 registers, 1 deregisters). */
  observe?: 0 | 1;
  /** Extra options, e.g. Block1. */
  options?: { name: string; value: Buffer }[];
}

export interface Reply {
  code: string;
  packet: ParsedPacket;
  text: string;
  /** The payload parsed as JSON (undefined when it is not JSON). */
  json: unknown;
  option(name: string): Buffer | undefined;
}

export function toReply(packet: ParsedPacket): Reply {
  const text = packet.payload.toString("utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return {
    code: packet.code,
    packet,
    text,
    json,
    option: (name) => packet.options.find((o) => o.name === name)?.value,
  };
}

interface Waiter {
  match: (p: ParsedPacket) => boolean;
  resolve: (p: ParsedPacket) => void;
}

export class RawClient {
  readonly #socket: Socket;
  readonly #host: string;
  readonly #port: number;
  readonly #inbox: ParsedPacket[] = [];
  readonly #waiters: Waiter[] = [];
  #messageId = randomBytes(2).readUInt16BE(0);
  /** Answer CON messages from the platform with ACK (true), RST ("reset") or nothing (false). */
  answerCon: boolean | "reset" = true;

  private constructor(socket: Socket, host: string, port: number) {
    this.#socket = socket;
    this.#host = host;
    this.#port = port;
    socket.on("message", (msg) => this.#receive(parse(msg)));
  }

  static open(host: string, port: number): Promise<RawClient> {
    const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
    return new Promise((resolve) => socket.bind(0, host, () => resolve(new RawClient(socket, host, port))));
  }

  get localPort(): number {
    return this.#socket.address().port;
  }

  nextMessageId(): number {
    this.#messageId = (this.#messageId + 1) & 0xffff;
    return this.#messageId;
  }

  /** Sends a request; resolves with the response (piggybacked or separate) to its token. */
  async request(spec: RequestSpec, timeoutMs = 2000): Promise<Reply> {
    const token = spec.token ?? randomBytes(4);
    this.sendRequest({ ...spec, token });
    const packet = await this.waitFor((p) => p.code !== "0.00" && p.token.equals(token), timeoutMs);
    return toReply(packet);
  }

  sendRequest(spec: RequestSpec & { token: Buffer }): number {
    const options: { name: string; value: Buffer }[] = [];
    if (spec.observe !== undefined)
      options.push({ name: "Observe", value: spec.observe === 0 ? Buffer.alloc(0) : Buffer.from([1]) });
    for (const segment of spec.path) options.push({ name: "Uri-Path", value: Buffer.from(segment) });
    for (const q of spec.query ?? []) options.push({ name: "Uri-Query", value: Buffer.from(q) });
    options.push(...(spec.options ?? []));
    const messageId = this.nextMessageId();
    this.sendRaw(
      generate(
        {
          messageId,
          token: spec.token,
          code: METHOD_CODES[spec.method],
          confirmable: spec.confirmable ?? true,
          options,
          payload: spec.payload === undefined ? Buffer.alloc(0) : Buffer.from(spec.payload),
        },
        65_000,
      ),
    );
    return messageId;
  }

  sendRaw(datagram: Buffer): void {
    this.#socket.send(datagram, this.#port, this.#host);
  }

  /** The next received packet that matches (received earlier and not yet taken, or later). */
  waitFor(match: (p: ParsedPacket) => boolean, timeoutMs = 2000): Promise<ParsedPacket> {
    const index = this.#inbox.findIndex(match);
    if (index >= 0) return Promise.resolve(this.#inbox.splice(index, 1)[0] as ParsedPacket);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (p) => {
          clearTimeout(timer);
          resolve(p);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`no matching datagram within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /** Every packet received and not yet taken by waitFor. */
  drain(): ParsedPacket[] {
    return this.#inbox.splice(0);
  }

  close(): void {
    this.#socket.close();
  }

  #receive(packet: ParsedPacket): void {
    if (packet.confirmable && this.answerCon !== false) {
      const reset = this.answerCon === "reset";
      this.sendRaw(generate({ messageId: packet.messageId, code: "0.00", ack: !reset, reset }));
    }
    const index = this.#waiters.findIndex((w) => w.match(packet));
    if (index >= 0) this.#waiters.splice(index, 1)[0]?.resolve(packet);
    else this.#inbox.push(packet);
  }
}
