// Forgeries from the server's address that plain CoAP cannot tell from the server (no DTLS on
// theThings.IO): they may fail to help, but must not break the real exchange.
import { Code, MessageType } from "../../coap/codes.js";
import { encodeMessage } from "../../coap/encoder.js";
import { EMPTY_BYTES } from "../../coap/message.js";
import { decodeUtf8 } from "../../kernel/utf8.js";
import { equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { CLIENT_ADDRESS, endpointFixture, track } from "../sim/endpoint-fixture.js";
import type { SimReply, SimRequest } from "../sim/sim-coap-server.js";

suite("endpoint forgeries", () => {
  test("a forged CON carrying the server's next message ID does not make the real separate response a duplicate", async () => {
    const f = endpointFixture({ server: { firstMessageId: 0x4000 } });
    let held: { request: SimRequest; reply: SimReply } | undefined;
    f.server.route("/a", (request, reply) => {
      held = { request, reply };
      reply.ack();
    });
    const result = track(f.endpoint.request({ method: "GET", path: "/a" }));
    await f.clock.advance(50);
    f.server.sendRaw(
      encodeMessage({
        type: MessageType.CON,
        code: Code.Content,
        messageId: 0x4000,
        token: new Uint8Array([9, 9, 9, 9, 9, 9, 9, 9]),
        options: [],
        payload: EMPTY_BYTES,
      }),
      CLIENT_ADDRESS,
    );
    await f.clock.advance(50);
    held!.reply.respondLater({ code: Code.Content, payload: "real" });
    await f.clock.advance(200);
    ok(result.settled, "the request ended");
    equal(result.error, undefined);
    equal(decodeUtf8(result.value!.payload), "real");
  });

  test("a forged empty ACK does not orphan the real piggybacked response", async () => {
    const f = endpointFixture();
    let held: { request: SimRequest; reply: SimReply } | undefined;
    f.server.route("/a", (request, reply) => void (held = { request, reply }));
    const result = track(f.endpoint.request({ method: "GET", path: "/a" }));
    await f.clock.advance(50);
    f.server.sendRaw(
      encodeMessage({
        type: MessageType.ACK,
        code: Code.Empty,
        messageId: held!.request.message.messageId,
        token: EMPTY_BYTES,
        options: [],
        payload: EMPTY_BYTES,
      }),
      CLIENT_ADDRESS,
    );
    await f.clock.advance(50);
    held!.reply.respond({ code: Code.Content, payload: "real" });
    await f.clock.advance(200);
    ok(result.settled, "the request ended");
    equal(result.error, undefined);
    equal(decodeUtf8(result.value!.payload), "real");
  });

  test("a notification with a huge Max-Age buys at most a day of silence before the observation counts as lost", async () => {
    const f = endpointFixture();
    f.server.content("/t", "v0", { maxAge: 0xffffffff });
    const lost: string[] = [];
    f.endpoint.observe(
      { method: "GET", path: "/t" },
      { onNotification: () => undefined, onLost: (reason) => lost.push(reason) },
    );
    await f.clock.advance(100);
    await f.clock.advance(86_400_000);
    equal(lost.length, 1, "declared lost after one day");
  });
});
