// Subscriptions on the local platform, at the message level: the first notification, keep-alives,
// every write pushed to every subscriber (the device's own included), CON/NON types, and the
// ways a subscription ends (deregistration, RST, replacement).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import type { ParsedPacket } from "coap-packet";
import { activate, type Running, running, writeValues } from "./emulator/fixtures.js";
import { RawClient } from "./emulator/raw-client.js";
import { until } from "./emulator/tools.js";

let r: Running;
before(async () => {
  r = await running({ keepAliveMs: 60_000 });
});
after(() => r.stop());

const observeNumber = (p: ParsedPacket) => p.options.find((o) => o.name === "Observe")?.value;
const json = (p: ParsedPacket) => JSON.parse(p.payload.toString()) as unknown;

async function subscribe(client: RawClient, token: string, options: { confirmable?: boolean; query?: string[] } = {}) {
  const observeToken = randomBytes(4);
  const first = await client.request({
    method: "GET",
    path: ["v2", "things", token],
    query: options.query ?? [],
    observe: 0,
    token: observeToken,
    confirmable: options.confirmable ?? true,
  });
  const next = (timeoutMs = 2000) =>
    client.waitFor((p) => p.token.equals(observeToken) && p.code !== "0.00", timeoutMs);
  return { first, observeToken, next };
}

test("subscribe: the first notification says subscribed; writes from another client and from the device itself are pushed", async () => {
  const token = await activate(r);
  const device = await RawClient.open(r.platform.host, r.platform.port);
  const other = await RawClient.open(r.platform.host, r.platform.port);
  try {
    const sub = await subscribe(device, token);
    assert.equal(sub.first.code, "2.05");
    assert.deepEqual(sub.first.json, { status: "success", message: "subscribed" });
    assert.ok(observeNumber(sub.first.packet) !== undefined, "the reply carries Observe");
    assert.equal(sub.first.packet.ack, true, "piggybacked on the ACK of the CON registration");
    assert.equal(r.platform.subscriberCount(), 1);

    await writeValues(
      r,
      token,
      [
        { key: "cmd", value: "on" },
        { key: "level", value: 3, datetime: "20240101000000" },
      ],
      other,
    );
    const pushed = await sub.next();
    assert.equal(pushed.code, "2.05");
    assert.equal(pushed.confirmable, true, "a CON registration gets CON notifications");
    const items = json(pushed) as { key: string; value: unknown; datetime: string }[];
    assert.deepEqual(
      items.map((i) => [i.key, i.value]),
      [
        ["cmd", "on"],
        ["level", 3],
      ],
    );
    assert.equal(items[1]?.datetime, "2024-01-01T00:00:00.000Z");
    assert.match(items[0]?.datetime ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    // The device's own write comes back to it too: there is no separate actuator channel.
    const own = await writeValues(r, token, [{ key: "temp", value: 21.5 }], device);
    assert.equal(own.code, "2.01");
    assert.deepEqual(
      (json(await sub.next()) as { key: string }[]).map((i) => i.key),
      ["temp"],
    );

    // Observe numbers grow (RFC 7641 §4.4).
    const numbers = [sub.first.packet, pushed].map((p) =>
      (observeNumber(p) as Buffer).readUIntBE(0, (observeNumber(p) as Buffer).length || 1),
    );
    assert.ok((numbers[1] ?? 0) > (numbers[0] ?? 0));
  } finally {
    device.close();
    other.close();
  }
});

test("subscribe: every subscriber of a thing is notified, subscribers of another thing are not", async () => {
  const token = await activate(r);
  const otherToken = await activate(r);
  const clients = await Promise.all([1, 2, 3].map(() => RawClient.open(r.platform.host, r.platform.port)));
  try {
    const subs = await Promise.all(clients.map((c) => subscribe(c, token)));
    const bystander = await subscribe(clients[0] as RawClient, otherToken);
    await writeValues(r, token, [{ key: "x", value: 1 }]);
    for (const s of subs)
      assert.deepEqual(
        (json(await s.next()) as { value: number }[]).map((i) => i.value),
        [1],
      );
    await assert.rejects(bystander.next(300), /no matching datagram/);
  } finally {
    for (const c of clients) c.close();
  }
});

test("subscribe: keepAlive query sets the period; keep-alives are {} and CON", async () => {
  const token = await activate(r);
  const client = await RawClient.open(r.platform.host, r.platform.port);
  try {
    const sub = await subscribe(client, token, { query: ["keepAlive=200"], confirmable: false });
    assert.equal(sub.first.packet.confirmable, false, "a NON registration gets a NON reply");
    const started = Date.now();
    const keepAlive = await sub.next(1000);
    assert.deepEqual(json(keepAlive), {});
    assert.equal(keepAlive.confirmable, true, "keep-alives are CON, so a vanished NON subscriber is found");
    assert.ok(Date.now() - started >= 150, "not before the keepAlive period");
    assert.deepEqual(json(await sub.next(1000)), {}, "and again");

    const bad = await client.request({
      method: "GET",
      path: ["v2", "things", token],
      query: ["keepAlive=soon"],
      observe: 0,
    });
    assert.equal(bad.code, "4.00");
    assert.match(bad.text, /keepAlive/);
  } finally {
    client.close();
  }
});

test("subscribe: a NON registration gets NON data notifications (not ACK-typed ones)", async () => {
  const token = await activate(r);
  const client = await RawClient.open(r.platform.host, r.platform.port);
  try {
    const sub = await subscribe(client, token, { confirmable: false });
    await writeValues(r, token, [{ key: "a", value: 1 }]);
    const n1 = await sub.next();
    await writeValues(r, token, [{ key: "a", value: 2 }]);
    const n2 = await sub.next();
    for (const n of [n1, n2]) {
      assert.equal(n.confirmable, false);
      assert.equal(n.ack, false, "node-coap alone would send these with the ACK type");
      assert.equal(n.reset, false);
    }
    assert.notEqual(n1.messageId, n2.messageId);
  } finally {
    client.close();
  }
});

test("subscribe: a write larger than one notification arrives as several, in order", async () => {
  const token = await activate(r);
  const client = await RawClient.open(r.platform.host, r.platform.port);
  try {
    const sub = await subscribe(client, token);
    // 40 short items fit a 1024-byte request but not one notification once each has a datetime.
    const values = Array.from({ length: 40 }, (_, i) => ({ key: "s", value: i }));
    assert.equal((await writeValues(r, token, values)).code, "2.01");
    const got: number[] = [];
    let notifications = 0;
    while (got.length < 40) {
      const n = await sub.next();
      assert.ok(n.payload.length <= 1024);
      got.push(...(json(n) as { value: number }[]).map((i) => i.value));
      notifications++;
    }
    assert.ok(notifications > 1);
    assert.deepEqual(
      got,
      values.map((v) => v.value),
    );
  } finally {
    client.close();
  }
});

test("subscribe ends: GET with Observe 1 deregisters; RST to a notification drops the subscriber", async () => {
  const token = await activate(r);
  const client = await RawClient.open(r.platform.host, r.platform.port);
  try {
    const before = r.platform.subscriberCount();
    const sub = await subscribe(client, token);
    assert.equal(r.platform.subscriberCount(), before + 1);
    const off = await client.request({
      method: "GET",
      path: ["v2", "things", token],
      observe: 1,
      token: sub.observeToken,
    });
    assert.equal(off.code, "2.05");
    assert.deepEqual(off.json, { status: "success", message: "unsubscribed" });
    assert.equal(r.platform.subscriberCount(), before);
    await writeValues(r, token, [{ key: "after", value: 1 }]);
    await assert.rejects(sub.next(300), /no matching datagram/, "nothing after deregistration");

    const again = await subscribe(client, token);
    assert.equal(r.platform.subscriberCount(), before + 1);
    client.answerCon = "reset";
    await writeValues(r, token, [{ key: "x", value: 1 }]);
    await again.next();
    assert.ok(await until(() => r.platform.subscriberCount() === before), "RST ends the subscription (RFC 7641 §3.6)");
    const ended = r.events.filter((e) => e.event === "unsubscribed").map((e) => (e as { reason: string }).reason);
    assert.ok(ended.includes("deregistered"));
    assert.ok(ended.some((reason) => /RST/.test(reason)));
  } finally {
    client.close();
  }
});

test("subscribe: registering again with the same token replaces the subscription", async () => {
  const token = await activate(r);
  const client = await RawClient.open(r.platform.host, r.platform.port);
  try {
    const before = r.platform.subscriberCount();
    const observeToken = randomBytes(4);
    for (let i = 0; i < 3; i++) {
      const reply = await client.request({
        method: "GET",
        path: ["v2", "things", token],
        observe: 0,
        token: observeToken,
      });
      assert.deepEqual(reply.json, { status: "success", message: "subscribed" });
    }
    assert.equal(r.platform.subscriberCount(), before + 1);
    await writeValues(r, token, [{ key: "once", value: 1 }]);
    await client.waitFor((p) => p.token.equals(observeToken));
    await assert.rejects(
      client.waitFor((p) => p.token.equals(observeToken), 300),
      /no matching datagram/,
      "one notification, not three",
    );
    assert.equal(
      (await client.request({ method: "GET", path: ["v2", "things", token], observe: 1, token: observeToken })).code,
      "2.05",
    );
  } finally {
    client.close();
  }
});
