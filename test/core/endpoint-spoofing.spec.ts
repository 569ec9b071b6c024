// Spoofed replies at the endpoint (RFC 7252 §5.3.2, §4.2; RFC 7641 §3.6): a reply is the
// server's only if it comes from the server's address and port, and carries the token (and,
// in an ACK, the message ID) of a live request. Anything else is ignored and counted in the
// endpoint's stats, never delivered; a forged CON, or a notification for a token nobody
// observes, gets a RST (which also tells a real server to forget a stale observer); nothing
// from another address is ever answered (the device must not reflect traffic).

import type { CoapResponse } from "../../coap/client-api.js";
import { Code, MessageType } from "../../coap/codes.js";
import { encodeMessage } from "../../coap/encoder.js";
import { type CoapOption, EMPTY_BYTES } from "../../coap/message.js";
import { OptionNumber } from "../../coap/options.js";
import type { PeerAddress } from "../../coap/peer-address.js";
import { decodeUtf8, encodeUtf8 } from "../../kernel/utf8.js";
import { equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import {
  CLIENT_ADDRESS,
  endpointFixture,
  type Fixture,
  SERVER_ADDRESS,
  type Tracked,
  track,
} from "../sim/endpoint-fixture.js";
import type { SimReply, SimRequest } from "../sim/sim-coap-server.js";

const OTHER_PORT: PeerAddress = { address: SERVER_ADDRESS.address, port: SERVER_ADDRESS.port + 1 };
const OTHER_HOST: PeerAddress = { address: "198.51.100.7", port: SERVER_ADDRESS.port };

interface Forged {
  readonly type: MessageType;
  readonly code: number;
  readonly messageId: number;
  readonly token: Uint8Array;
  readonly options?: readonly CoapOption[];
  readonly payload?: string;
}

function bytes(m: Forged): Uint8Array {
  const payload = m.payload === undefined ? EMPTY_BYTES : encodeUtf8(m.payload);
  return encodeMessage({
    type: m.type,
    code: m.code,
    messageId: m.messageId,
    token: m.token,
    options: m.options ?? [],
    payload,
  });
}

/** Sends `m` to the client from `from` (any address, bound on the simulated network on first use). */
function forge(f: Fixture, from: PeerAddress, m: Forged): void {
  if (from.address === SERVER_ADDRESS.address && from.port === SERVER_ADDRESS.port)
    f.server.sendRaw(bytes(m), CLIENT_ADDRESS);
  else f.net.transmit(from, CLIENT_ADDRESS, bytes(m));
}

/** A request the server holds unanswered until the test says so. */
async function heldRequest(
  f: Fixture,
  path: string,
): Promise<{ request: SimRequest; reply: SimReply; result: Tracked<CoapResponse> }> {
  let held: { request: SimRequest; reply: SimReply } | undefined;
  f.server.route(path, (request, reply) => {
    held = { request, reply };
  });
  const result = track(f.endpoint.request({ method: "GET", path }));
  await f.clock.advance(20);
  ok(held !== undefined, "the request reached the server");
  return { ...held!, result };
}

/** Datagrams the client sent to `to`. */
function sentTo(f: Fixture, to: PeerAddress, type?: MessageType) {
  return f.net.sent({ from: CLIENT_ADDRESS, to, ...(type === undefined ? {} : { type }) });
}

suite("spoofing: replies", () => {
  test("the right token and message ID from another port or another host: ignored, counted as foreign, never answered", async () => {
    const f = endpointFixture();
    const { request, reply, result } = await heldRequest(f, "/a");
    for (const from of [OTHER_PORT, OTHER_HOST]) {
      forge(f, from, {
        type: MessageType.ACK,
        code: Code.Content,
        messageId: request.message.messageId,
        token: request.message.token,
        payload: "forged",
      });
      forge(f, from, {
        type: MessageType.CON,
        code: Code.Content,
        messageId: 0x1234,
        token: request.message.token,
        payload: "forged",
      });
    }
    await f.clock.advance(50);
    ok(!result.settled, "no forged reply completed the request");
    equal(f.endpoint.stats.droppedForeign, 4);
    equal(sentTo(f, OTHER_PORT).length + sentTo(f, OTHER_HOST).length, 0, "no ACK or RST to a foreign peer");
    reply.respond({ code: Code.Content, payload: "real" });
    await f.clock.advance(50);
    equal(decodeUtf8(result.value!.payload), "real");
    f.endpoint.close();
  });

  test("from the server's address, a piggybacked reply with the live message ID and another token: ignored and counted (§5.3.2)", async () => {
    const f = endpointFixture();
    const { request, reply, result } = await heldRequest(f, "/a");
    const token = request.message.token.slice();
    token[0] ^= 0xff;
    forge(f, SERVER_ADDRESS, {
      type: MessageType.ACK,
      code: Code.Content,
      messageId: request.message.messageId,
      token,
      payload: "forged",
    });
    forge(f, SERVER_ADDRESS, {
      type: MessageType.ACK,
      code: Code.Content,
      messageId: request.message.messageId,
      token: EMPTY_BYTES,
      payload: "forged",
    });
    await f.clock.advance(50);
    ok(!result.settled);
    equal(f.endpoint.stats.droppedUnmatched, 2);
    reply.respond({ code: Code.Content, payload: "real" });
    await f.clock.advance(50);
    equal(decodeUtf8(result.value!.payload), "real");
    f.endpoint.close();
  });

  test("from the server's address, a piggybacked reply with the live token and another message ID: ignored and counted", async () => {
    const f = endpointFixture();
    const { request, reply, result } = await heldRequest(f, "/a");
    for (const delta of [1, -1, 0x8000]) {
      forge(f, SERVER_ADDRESS, {
        type: MessageType.ACK,
        code: Code.Content,
        messageId: (request.message.messageId + delta) & 0xffff,
        token: request.message.token,
        payload: "forged",
      });
    }
    forge(f, SERVER_ADDRESS, {
      type: MessageType.RST,
      code: Code.Empty,
      messageId: (request.message.messageId + 1) & 0xffff,
      token: EMPTY_BYTES,
    });
    await f.clock.advance(50);
    ok(!result.settled);
    equal(f.endpoint.stats.droppedUnmatched, 4);
    equal(f.endpoint.stats.resetsReceived, 0);
    reply.respond({ code: Code.Content, payload: "real" });
    await f.clock.advance(50);
    equal(decodeUtf8(result.value!.payload), "real");
    f.endpoint.close();
  });

  test("a separate response with another token: CON gets a RST, NON is ignored; both counted; the real one still completes the request", async () => {
    const f = endpointFixture();
    const { request, reply, result } = await heldRequest(f, "/a");
    reply.ack();
    await f.clock.advance(50);
    const token = request.message.token.slice();
    token[token.length - 1] ^= 1;
    forge(f, SERVER_ADDRESS, {
      type: MessageType.CON,
      code: Code.Content,
      messageId: 0x7001,
      token,
      payload: "forged",
    });
    forge(f, SERVER_ADDRESS, {
      type: MessageType.NON,
      code: Code.Content,
      messageId: 0x7002,
      token,
      payload: "forged",
    });
    await f.clock.advance(50);
    ok(!result.settled);
    equal(f.endpoint.stats.droppedUnmatched, 2);
    equal(f.endpoint.stats.rstSent, 1);
    equal(sentTo(f, SERVER_ADDRESS, MessageType.RST)[0]!.message!.messageId, 0x7001);
    reply.respondLater({ code: Code.Content, payload: "real" });
    await f.clock.advance(50);
    equal(decodeUtf8(result.value!.payload), "real");
    f.endpoint.close();
  });

  test("the server's address written as IPv4-mapped IPv6 is the server (RFC 4291 §2.5.5.2): its reply is accepted", async () => {
    const f = endpointFixture();
    const { request, result } = await heldRequest(f, "/a");
    forge(
      f,
      { address: `::ffff:${SERVER_ADDRESS.address}`, port: SERVER_ADDRESS.port },
      {
        type: MessageType.ACK,
        code: Code.Content,
        messageId: request.message.messageId,
        token: request.message.token,
        payload: "mapped",
      },
    );
    await f.clock.advance(50);
    equal(decodeUtf8(result.value!.payload), "mapped");
    equal(f.endpoint.stats.droppedForeign, 0);
    f.endpoint.close();
  });
});

suite("spoofing: notifications", () => {
  async function observed(f: Fixture) {
    f.server.content("/t", "v0");
    const seen: string[] = [];
    const observation = f.endpoint.observe(
      { method: "GET", path: "/t" },
      { onNotification: (r) => seen.push(decodeUtf8(r.payload)) },
    );
    await f.clock.advance(50);
    equal(seen.length, 1, "registered");
    const registration = f.server.requests.filter((r) => r.path === "/t" && r.observe === 0);
    return { seen, observation, token: registration[registration.length - 1]!.message.token.slice() };
  }

  function notification(token: Uint8Array, messageId: number, type: MessageType, sequence: number): Forged {
    return {
      type,
      code: Code.Content,
      messageId,
      token,
      options: [{ number: OptionNumber.Observe, value: sequence }],
      payload: "forged",
    };
  }

  test("for a cancelled observation: RST to CON and NON alike (RFC 7641 §3.6), nothing delivered", async () => {
    const f = endpointFixture();
    const { seen, observation, token } = await observed(f);
    const cancelled = track(observation.cancel());
    await f.clock.advance(100);
    ok(cancelled.settled);
    const before = f.endpoint.stats;
    forge(f, SERVER_ADDRESS, notification(token, 0x6001, MessageType.CON, 50));
    forge(f, SERVER_ADDRESS, notification(token, 0x6002, MessageType.NON, 51));
    await f.clock.advance(50);
    equal(seen.length, 1, "nothing delivered after the cancel");
    const after = f.endpoint.stats;
    equal(after.rstSent - before.rstSent, 2);
    equal(after.droppedUnmatched - before.droppedUnmatched, 2);
    equal(after.notifications, before.notifications);
    const resets = sentTo(f, SERVER_ADDRESS, MessageType.RST).map((d) => d.message!.messageId);
    ok(resets.indexOf(0x6001) >= 0 && resets.indexOf(0x6002) >= 0, "each reset carries the forged message's ID");
    f.endpoint.close();
  });

  test("for a token nobody observes: RST, nothing delivered; the live observation goes on", async () => {
    const f = endpointFixture();
    const { seen } = await observed(f);
    forge(f, SERVER_ADDRESS, notification(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 0x6101, MessageType.CON, 2));
    forge(f, SERVER_ADDRESS, notification(new Uint8Array([9]), 0x6102, MessageType.NON, 3));
    forge(f, SERVER_ADDRESS, notification(EMPTY_BYTES, 0x6103, MessageType.NON, 4));
    await f.clock.advance(50);
    equal(seen.length, 1);
    equal(f.endpoint.stats.rstSent, 3);
    equal(f.endpoint.stats.droppedUnmatched, 3);
    f.server.update("/t", "v1");
    await f.clock.advance(50);
    equal(seen.join(","), "v0,v1", "the real observation still delivers");
    f.endpoint.close();
  });

  test("on the old token after a re-registration: RST, nothing delivered", async () => {
    const f = endpointFixture();
    const { seen, observation, token } = await observed(f);
    observation.reregister();
    await f.clock.advance(50);
    equal(seen.length, 2, "the re-registration's response");
    const before = f.endpoint.stats;
    forge(f, SERVER_ADDRESS, notification(token, 0x6201, MessageType.NON, 99));
    await f.clock.advance(50);
    equal(seen.length, 2);
    equal(f.endpoint.stats.rstSent - before.rstSent, 1);
    f.endpoint.close();
  });

  test("with the live token from another port or host: dropped as foreign, never delivered nor answered", async () => {
    const f = endpointFixture();
    const { seen, token } = await observed(f);
    forge(f, OTHER_PORT, notification(token, 0x6301, MessageType.CON, 100));
    forge(f, OTHER_HOST, notification(token, 0x6302, MessageType.NON, 101));
    await f.clock.advance(50);
    equal(seen.length, 1);
    equal(f.endpoint.stats.droppedForeign, 2);
    equal(f.endpoint.stats.rstSent + f.endpoint.stats.acksSent, 0);
    equal(sentTo(f, OTHER_PORT).length + sentTo(f, OTHER_HOST).length, 0);
    f.endpoint.close();
  });
});
