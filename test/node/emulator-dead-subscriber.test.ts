// A subscriber that stops acknowledging is dropped. node-coap retransmits an unacknowledged CON
// notification and ends the observation when it gives up, after EXCHANGE_LIFETIME (247 s with
// RFC 7252's defaults). This file shortens node-coap's timing, which is process-wide, so it has a
// process (a test file) of its own.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { updateTiming } from "coap";
import type { ParsedPacket } from "coap-packet";
import { activate, type Running, running } from "./emulator/fixtures.js";
import { RawClient } from "./emulator/raw-client.js";
import { delay, until } from "./emulator/tools.js";

let r: Running;
before(async () => {
  // ACK_TIMEOUT 0.1 s, one retransmission, MAX_LATENCY 0.1 s: EXCHANGE_LIFETIME 0.4 s.
  updateTiming({ ackTimeout: 0.1, ackRandomFactor: 1, maxRetransmit: 1, maxLatency: 0.1 });
  r = await running();
});
after(() => r.stop());

for (const confirmable of [true, false]) {
  test(`a ${confirmable ? "CON" : "NON"} subscriber that stops acknowledging is dropped`, async () => {
    const token = await activate(r);
    const client = await RawClient.open(r.platform.host, r.platform.port);
    try {
      const reply = await client.request({
        method: "GET",
        path: ["v2", "things", token],
        query: ["keepAlive=150"],
        observe: 0,
        confirmable,
      });
      assert.deepEqual(reply.json, { status: "success", message: "subscribed" });
      assert.equal(r.platform.subscriberCount(), 1);
      client.answerCon = false;
      // The first keep-alive (CON) goes unacknowledged: it is sent again, then given up on.
      const keepAlive = await client.waitFor((p) => p.confirmable && p.token.equals(reply.packet.token), 1000);
      const again = await client.waitFor((p) => p.messageId === keepAlive.messageId, 1000);
      assert.deepEqual(again.payload, keepAlive.payload, "a retransmission of the same message");
      assert.ok(await until(() => r.platform.subscriberCount() === 0, 3000), "dropped");
      const end = r.events.find((e) => e.event === "unsubscribed");
      assert.match((end as { reason: string } | undefined)?.reason ?? "", /no ACK/);
      // Retransmissions of notifications sent before the drop may still arrive; nothing new may:
      // neither keep-alives (they would carry higher Observe numbers) nor writes.
      await delay(50);
      const observeOf = (p: ParsedPacket) => {
        const v = p.options.find((o) => o.name === "Observe")?.value;
        return v === undefined || v.length === 0 ? 0 : v.readUIntBE(0, v.length);
      };
      const highest = Math.max(observeOf(keepAlive), observeOf(again), ...client.drain().map(observeOf));
      const write = await client.request({
        method: "POST",
        path: ["v2", "things", token],
        payload: '{"values":[{"key":"k","value":1}]}',
      });
      assert.equal(write.code, "2.01");
      await delay(400);
      const late = client.drain().filter((p) => p.token.equals(reply.packet.token));
      assert.deepEqual(
        late.filter((p) => observeOf(p) > highest),
        [],
        "no new notification to a dropped subscriber",
      );
      assert.ok(
        late.every((p) => p.payload.toString() === "{}"),
        "the write was not pushed to it",
      );
    } finally {
      client.close();
      r.events.length = 0;
    }
  });
}
