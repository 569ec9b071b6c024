// The codec against real CoAP peers over loopback UDP: requests encoded by our codec go out on a
// plain node:dgram socket to node-coap (npm coap) and to libcoap's coap-server-notls, and every
// datagram that comes back is decoded by our codec. Both servers are started and stopped here.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import dgram from "node:dgram";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import * as coap from "coap";
import { Code, ContentFormat, MessageType } from "../../coap/codes.js";
import { decodeMessage } from "../../coap/decoder.js";
import { MessageEncoder } from "../../coap/encoder.js";
import type { CoapMessage, CoapOption, DecodedMessage } from "../../coap/message.js";
import { optionStrings, optionUint, pathOptions, queryOptions } from "../../coap/message.js";
import { decodeBlock, encodeBlock, OptionNumber } from "../../coap/options.js";
import { decodeUtf8, encodeUtf8 } from "../../kernel/utf8.js";

const HOST = "127.0.0.1";
/** A failure guard: every reply on loopback comes within milliseconds. */
const REPLY_TIMEOUT_MS = 3000;
const THING_TOKEN = "Xy7_kq3-Lm9Pz2Rt5Vb8Nc1Df4Gh6Jk0Ws3Ea2Qu9Io"; // 43 characters, like a real one

interface Received {
  readonly message: DecodedMessage;
  readonly port: number;
}

/** A dgram socket that sends what our encoder writes and decodes whatever arrives. */
class LoopbackClient {
  readonly #socket: dgram.Socket;
  readonly #encoder = new MessageEncoder();
  /** Datagrams not yet taken by a waiter; a test takes every reply it provokes, so this stays tiny. */
  readonly #inbox: Received[] = [];
  #wake: (() => void) | undefined;
  #messageId = 0x4000;
  #tokenCounter = 0x1000;
  /** Datagrams our decoder refused: any entry fails the test. */
  readonly decodeErrors: string[] = [];

  private constructor(socket: dgram.Socket) {
    this.#socket = socket;
    socket.on("message", (datagram, remote) => {
      try {
        const view = new Uint8Array(datagram.buffer, datagram.byteOffset, datagram.length);
        this.#inbox.push({ message: decodeMessage(view), port: remote.port });
      } catch (error) {
        this.decodeErrors.push(`${String(error)}: ${datagram.toString("hex")}`);
      }
      this.#wake?.();
    });
  }

  static async open(): Promise<LoopbackClient> {
    const socket = dgram.createSocket("udp4");
    socket.bind(0, HOST);
    await once(socket, "listening");
    return new LoopbackClient(socket);
  }

  nextMessageId(): number {
    this.#messageId = (this.#messageId + 1) & 0xffff;
    return this.#messageId;
  }

  newToken(length = 4): Uint8Array {
    this.#tokenCounter++;
    const token = new Uint8Array(length);
    for (let i = 0, v = this.#tokenCounter; i < length; i++, v = Math.floor(v / 256)) token[length - 1 - i] = v & 0xff;
    return token;
  }

  send(message: CoapMessage, port: number): void {
    // node:dgram sends asynchronously and the encoder reuses its buffer: send a copy.
    this.#socket.send(this.#encoder.encode(message).slice(), port, HOST);
  }

  /** The next datagram that `matches`, waiting at most `timeoutMs`. */
  async next(matches: (m: DecodedMessage) => boolean, timeoutMs = REPLY_TIMEOUT_MS): Promise<DecodedMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.#inbox.findIndex((r) => matches(r.message));
      if (index >= 0) return this.#inbox.splice(index, 1)[0]!.message;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching datagram within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  /**
   * Sends a CON request and returns its response: piggybacked on the ACK, or separate after an
   * empty ACK (RFC 7252 §5.2.2), which is then acknowledged with an empty ACK of ours.
   */
  async request(
    port: number,
    fields: Omit<CoapMessage, "type" | "messageId" | "token"> & { token?: Uint8Array },
  ): Promise<DecodedMessage> {
    const token = fields.token ?? this.newToken();
    const messageId = this.nextMessageId();
    this.send(
      { type: MessageType.CON, messageId, token, code: fields.code, options: fields.options, payload: fields.payload },
      port,
    );
    const response = await this.next((m) => m.code !== Code.Empty && sameBytes(m.token, token));
    if (response.type === MessageType.CON) this.acknowledge(response, port);
    else
      assert.ok(
        response.type === MessageType.ACK ? response.messageId === messageId : response.type === MessageType.NON,
      );
    return response;
  }

  acknowledge(message: DecodedMessage, port: number): void {
    this.send(
      {
        type: MessageType.ACK,
        code: Code.Empty,
        messageId: message.messageId,
        token: new Uint8Array(0),
        options: [],
        payload: new Uint8Array(0),
      },
      port,
    );
  }

  /** Sends a CoAP ping (an Empty CON) and waits for the RST that answers it (RFC 7252 §4.3). */
  async ping(port: number, timeoutMs: number): Promise<DecodedMessage> {
    const messageId = this.nextMessageId();
    this.send(
      {
        type: MessageType.CON,
        code: Code.Empty,
        messageId,
        token: new Uint8Array(0),
        options: [],
        payload: new Uint8Array(0),
      },
      port,
    );
    return this.next((m) => m.type === MessageType.RST && m.messageId === messageId, timeoutMs);
  }

  close(): void {
    this.#socket.close();
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function text(message: DecodedMessage): string {
  return decodeUtf8(message.payload);
}

function getRequest(path: string, extra: CoapOption[] = []): Omit<CoapMessage, "type" | "messageId" | "token"> {
  return { code: Code.GET, options: [...pathOptions(path), ...extra], payload: new Uint8Array(0) };
}

/** GETs `path` block by block with Block2 (RFC 7959 §2.4) and returns the body and the replies. */
async function getBlockwise(
  client: LoopbackClient,
  port: number,
  path: string,
  szx: number,
): Promise<{ body: Uint8Array; replies: DecodedMessage[] }> {
  const replies: DecodedMessage[] = [];
  const parts: Uint8Array[] = [];
  const token = client.newToken(8);
  for (let num = 0; num < 64; num++) {
    const reply = await client.request(port, {
      ...getRequest(path, [{ number: OptionNumber.Block2, value: encodeBlock({ num, more: false, szx }) }]),
      token,
    });
    assert.equal(reply.code, Code.Content, `block ${num}: ${text(reply)}`);
    const block2 = optionUint(reply, OptionNumber.Block2);
    assert.ok(block2 !== undefined, `block ${num} carries Block2`);
    const block = decodeBlock(block2);
    assert.equal(block.num, num);
    assert.equal(block.szx, szx);
    if (block.more) assert.equal(reply.payload.length, 1 << (szx + 4), "every block but the last is full");
    replies.push(reply);
    parts.push(reply.payload.slice());
    if (!block.more) break;
  }
  const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    body.set(part, at);
    at += part.length;
  }
  return { body, replies };
}

const writeBody = JSON.stringify({
  values: [
    { key: "temperature", value: 21.5 },
    { key: "humidity", value: 48.2 },
    { key: "battery", value: 3.71 },
    { key: "status", value: "ok" },
  ],
});
const largeBody = Array.from(
  { length: 12 },
  (_, i) => `line ${String(i).padStart(2, "0")}: the quick brown fox\n`,
).join("");

describe("codec against node-coap (npm coap)", () => {
  let server: ReturnType<typeof coap.createServer>;
  let port = 0;
  let client: LoopbackClient;
  const pending: NodeJS.Timeout[] = [];

  before(async () => {
    server = coap.createServer((req, res) => {
      const url = req.url;
      if (url === "/hello") {
        res.end("world");
      } else if (req.method === "POST" && url === `/v2/things/${THING_TOKEN}`) {
        const body = JSON.parse(String(req.payload)) as { values: unknown[] };
        res.code = "2.01";
        res.setOption("Content-Format", "application/json");
        res.end(
          JSON.stringify({
            status: "created",
            values: body.values.length,
            contentFormat: req.headers["Content-Format"],
          }),
        );
      } else if (url === "/obs" && req.headers.Observe === 0) {
        res.setOption("Content-Format", "application/json");
        res.write(JSON.stringify([{ key: "led", value: 1 }]));
        pending.push(setTimeout(() => res.write(JSON.stringify([{ key: "led", value: 2 }])), 20));
      } else if (url.startsWith("/query")) {
        res.end(url);
      } else if (url === "/big") {
        res.end(largeBody);
      } else {
        res.code = "4.04";
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, HOST, () => resolve()));
    port = (server._sock as dgram.Socket).address().port;
    client = await LoopbackClient.open();
  });

  after(async () => {
    for (const timer of pending) clearTimeout(timer);
    client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    assert.deepEqual(client.decodeErrors, [], "every datagram from node-coap decoded");
  });

  test("GET: a piggybacked 2.05 with the text body", async () => {
    const reply = await client.request(port, getRequest("/hello"));
    assert.equal(reply.type, MessageType.ACK);
    assert.equal(reply.code, Code.Content);
    assert.equal(text(reply), "world");
  });

  test("POST with a JSON payload to /v2/things/{43-character token}: 2.01 with a JSON body", async () => {
    const reply = await client.request(port, {
      code: Code.POST,
      options: [
        ...pathOptions(`/v2/things/${THING_TOKEN}`),
        { number: OptionNumber.ContentFormat, value: ContentFormat.Json },
      ],
      payload: encodeUtf8(writeBody),
    });
    assert.equal(reply.code, Code.Created);
    assert.equal(optionUint(reply, OptionNumber.ContentFormat), ContentFormat.Json);
    assert.deepEqual(JSON.parse(text(reply)), { status: "created", values: 4, contentFormat: "application/json" });
  });

  test("GET with several Uri-Query options: the server sees them all, in order", async () => {
    const reply = await client.request(
      port,
      getRequest("/query", queryOptions({ limit: 15, keepAlive: 60000, startDate: "20150101000000", flag: true })),
    );
    assert.equal(reply.code, Code.Content);
    assert.equal(text(reply), "/query?limit=15&keepAlive=60000&startDate=20150101000000&flag");
  });

  test("Observe GET: the registration reply and a notification, each with a rising Observe value", async () => {
    const token = client.newToken(8);
    const first = await client.request(port, {
      ...getRequest("/obs", [{ number: OptionNumber.Observe, value: 0 }]),
      token,
    });
    assert.equal(first.code, Code.Content);
    const firstSequence = optionUint(first, OptionNumber.Observe);
    assert.ok(firstSequence !== undefined, "the reply carries Observe");
    assert.deepEqual(JSON.parse(text(first)), [{ key: "led", value: 1 }]);
    const notification = await client.next((m) => m.code === Code.Content && sameBytes(m.token, token));
    if (notification.type === MessageType.CON) client.acknowledge(notification, port);
    assert.ok(optionUint(notification, OptionNumber.Observe)! > firstSequence);
    assert.equal(optionUint(notification, OptionNumber.ContentFormat), ContentFormat.Json);
    assert.deepEqual(JSON.parse(text(notification)), [{ key: "led", value: 2 }]);
  });

  test(`Block2: a ${largeBody.length}-byte body fetched in 32-byte blocks`, async () => {
    const { body, replies } = await getBlockwise(client, port, "/big", 1);
    assert.equal(decodeUtf8(body), largeBody);
    assert.equal(replies.length, Math.ceil(largeBody.length / 32));
    assert.ok(
      replies.every((r) => r.options.some((o) => o.number === OptionNumber.ETag)),
      "node-coap tags each block",
    );
  });

  test("an unknown path: 4.04", async () => {
    const reply = await client.request(port, getRequest("/nothing/here"));
    assert.equal(reply.code, Code.NotFound);
  });
});

/** A UDP port that was free a moment ago (bind to port 0, read it, close). */
async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket("udp4");
  socket.bind(0, HOST);
  await once(socket, "listening");
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

describe("codec against libcoap (coap-server-notls)", () => {
  let server: ChildProcess | undefined;
  let serverLog = "";
  let port = 0;
  let client: LoopbackClient;

  async function stopServer(): Promise<void> {
    const child = server;
    server = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    await once(child, "exit");
  }

  before(async () => {
    client = await LoopbackClient.open();
    // The port may be taken between our probe and the server's bind: try a few.
    for (let attempt = 1; attempt <= 5 && port === 0; attempt++) {
      const candidate = await freeUdpPort();
      // -d: dynamic resources (POST creates one); -e: echo the body of PUT/POST back.
      const child = spawn("coap-server-notls", ["-A", HOST, "-p", String(candidate), "-d", "10", "-e", "-v", "4"], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      server = child;
      child.stdout!.on("data", (chunk: Buffer) => (serverLog += chunk.toString()));
      child.stderr!.on("data", (chunk: Buffer) => (serverLog += chunk.toString()));
      const spawnError = once(child, "error").then(([error]) => error as Error);
      for (let probe = 0; probe < 20 && child.exitCode === null; probe++) {
        const outcome = await Promise.race([
          client.ping(candidate, 150).then(
            () => "ready" as const,
            () => "silent" as const,
          ),
          spawnError,
        ]);
        if (outcome instanceof Error)
          throw new Error(`coap-server-notls did not start (is libcoap3-bin installed?): ${outcome.message}`);
        if (outcome === "ready") {
          port = candidate;
          break;
        }
      }
      if (port === 0) await stopServer();
    }
    assert.notEqual(port, 0, `coap-server-notls never answered a ping:\n${serverLog}`);
  });

  after(async () => {
    await stopServer();
    client.close();
    assert.deepEqual(client.decodeErrors, [], "every datagram from libcoap decoded");
  });

  test("a CoAP ping is answered with an RST (RFC 7252 §4.3)", async () => {
    // libcoap drops pings that come too soon after the last RST it sent: ping until one answers.
    let rst: DecodedMessage | undefined;
    for (let attempt = 0; attempt < 8 && rst === undefined; attempt++)
      rst = await client.ping(port, 400).catch(() => undefined);
    assert.ok(rst !== undefined, "no RST for 8 pings");
    assert.equal(rst.code, Code.Empty);
    assert.equal(rst.token.length, 0);
  });

  test("GET /.well-known/core: link format listing the server's resources", async () => {
    const reply = await client.request(port, getRequest("/.well-known/core"));
    assert.equal(reply.code, Code.Content);
    assert.equal(optionUint(reply, OptionNumber.ContentFormat), ContentFormat.LinkFormat);
    assert.match(text(reply), /<\/time>;[^,]*obs/);
    assert.match(text(reply), /<\/example_data>/);
  });

  test("POST with a JSON payload to /v2/things/{43-character token}: 2.01, Location-Path, the JSON echoed", async () => {
    const reply = await client.request(port, {
      code: Code.POST,
      options: [
        ...pathOptions(`/v2/things/${THING_TOKEN}`),
        { number: OptionNumber.ContentFormat, value: ContentFormat.Json },
      ],
      payload: encodeUtf8(writeBody),
    });
    assert.equal(reply.code, Code.Created, text(reply));
    assert.deepEqual(optionStrings(reply, OptionNumber.LocationPath), ["v2", "things", THING_TOKEN]);
    assert.equal(optionUint(reply, OptionNumber.ContentFormat), ContentFormat.Json);
    assert.equal(text(reply), writeBody);
  });

  test("GET /time with Uri-Query options: ticks alone gives a number, several give the date", async () => {
    const ticks = await client.request(port, getRequest("/time", queryOptions({ ticks: true })));
    assert.equal(ticks.code, Code.Content);
    assert.match(text(ticks), /^\d+$/);
    const several = await client.request(
      port,
      getRequest("/time", queryOptions({ ticks: true, limit: 15, keepAlive: 60000 })),
    );
    assert.equal(several.code, Code.Content);
    assert.equal(optionUint(several, OptionNumber.MaxAge), 1);
    assert.match(text(several), /^[A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2}$/);
  });

  test("Observe GET /time: the registration reply, a notification, then deregistration", async () => {
    const token = client.newToken(8);
    const observe = [{ number: OptionNumber.Observe, value: 0 }];
    const first = await client.request(port, { ...getRequest("/time", observe), token });
    assert.equal(first.code, Code.Content);
    const firstSequence = optionUint(first, OptionNumber.Observe);
    assert.ok(firstSequence !== undefined, "the reply carries Observe");
    // /time changes every second, so a notification follows within about one.
    const notification = await client.next((m) => m.code === Code.Content && sameBytes(m.token, token));
    if (notification.type === MessageType.CON) client.acknowledge(notification, port);
    assert.ok(optionUint(notification, OptionNumber.Observe)! > firstSequence);
    assert.match(text(notification), /\d{2}:\d{2}:\d{2}$/);
    // RFC 7641 §3.6: a GET with Observe 1 and the same token ends the observation.
    const last = await client.request(port, {
      ...getRequest("/time", [{ number: OptionNumber.Observe, value: 1 }]),
      token,
    });
    assert.equal(last.code, Code.Content);
    assert.equal(optionUint(last, OptionNumber.Observe), undefined, "no Observe once deregistered");
  });

  test(`Block2: PUT a ${largeBody.length}-byte body, then GET it back in 16-byte and 64-byte blocks`, async () => {
    const put = await client.request(port, {
      code: Code.PUT,
      options: [
        ...pathOptions("/example_data"),
        { number: OptionNumber.ContentFormat, value: ContentFormat.TextPlain },
      ],
      payload: encodeUtf8(largeBody),
    });
    assert.ok(put.code === Code.Created || put.code === Code.Changed, `PUT answered ${put.code}`);
    for (const szx of [0, 2]) {
      const { body, replies } = await getBlockwise(client, port, "/example_data", szx);
      assert.equal(decodeUtf8(body), largeBody, `SZX ${szx}`);
      assert.equal(replies.length, Math.ceil(largeBody.length / (1 << (szx + 4))));
      assert.equal(optionUint(replies[0]!, OptionNumber.Size2), largeBody.length, "Size2 announces the whole body");
    }
  });

  test("Block2: /.well-known/core with SZX 0", async () => {
    const whole = text(await client.request(port, getRequest("/.well-known/core")));
    const { body, replies } = await getBlockwise(client, port, "/.well-known/core", 0);
    assert.equal(decodeUtf8(body), whole);
    assert.ok(replies.length > 1);
  });
});
