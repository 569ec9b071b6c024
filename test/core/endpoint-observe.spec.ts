// Observe (RFC 7641) over a simulated network: ordering and freshness across wrap-around,
// cancellation both ways, liveness and re-registration with backoff, server restarts, and
// block-wise notifications (RFC 7959 §2.6).

import type { CoapResponse, Observation } from "../../coap/client-api.js";
import { Code, MessageType } from "../../coap/codes.js";
import { optionUint } from "../../coap/message.js";
import { isFresher, ObserveFreshness } from "../../coap/observe-freshness.js";
import { OptionNumber } from "../../coap/options.js";
import { tokenKey } from "../../coap/tokens.js";
import { decodeUtf8 } from "../../kernel/utf8.js";
import { deepEqual, equal, notEqual, ok, throws } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { CLIENT_ADDRESS, endpointFixture, type Fixture, SERVER_ADDRESS, track } from "../sim/endpoint-fixture.js";
import { ConstantRandom } from "../sim/seeded-random.js";

const fromClient = { from: CLIENT_ADDRESS };
const fromServer = { from: SERVER_ADDRESS };

interface Recorder {
  readonly seen: string[];
  readonly codes: number[];
  readonly events: string[];
  readonly observation: Observation;
}

function observe(f: Fixture, path: string, livenessMs?: number, deliverReordered?: boolean): Recorder {
  const seen: string[] = [];
  const codes: number[] = [];
  const events: string[] = [];
  const observation = f.endpoint.observe(
    { method: "GET", path },
    {
      onNotification: (r: CoapResponse) => {
        seen.push(decodeUtf8(r.payload));
        codes.push(r.code);
        events.push(`n:${decodeUtf8(r.payload)}`);
      },
      onLost: (reason) => events.push(`lost:${reason.split(":")[0]}`),
      onReestablished: () => events.push("back"),
    },
    {
      ...(livenessMs === undefined ? {} : { livenessMs }),
      ...(deliverReordered === undefined ? {} : { deliverReordered }),
    },
  );
  return { seen, codes, events, observation };
}

/** Registration requests the server saw for `path` (Observe = 0). */
function registrations(f: Fixture, path: string): string[] {
  return f.server.requests.filter((r) => r.path === path && r.observe === 0).map((r) => r.tokenKey);
}

suite("observe freshness (RFC 7641 §3.4)", () => {
  test("newer within half the space, across the 24-bit wrap, or after 128 s", () => {
    ok(isFresher(5, 0, 6, 0));
    ok(!isFresher(6, 0, 5, 0));
    ok(!isFresher(5, 0, 5, 0), "the same number is not fresher");
    ok(isFresher(0xffffff, 0, 0, 0), "wrap-around");
    ok(isFresher(0xfffff0, 0, 3, 0));
    ok(!isFresher(3, 0, 0xfffff0, 0));
    ok(isFresher(0, 0, 0x7fffff, 0), "just under 2^23 ahead");
    ok(!isFresher(0, 0, 0x800000, 0), "2^23 ahead is not");
    ok(isFresher(10, 0, 3, 128_001), "after 128 s anything is fresh");
    ok(!isFresher(10, 0, 3, 128_000));
  });

  test("the tracker keeps the last accepted value; reset starts a new registration", () => {
    const f = new ObserveFreshness();
    ok(f.accept(100, 0));
    ok(!f.accept(99, 1));
    ok(f.accept(101, 2));
    f.reset();
    ok(f.accept(5, 3));
  });
});

suite("endpoint observe", () => {
  test("registers with Observe = 0, delivers the registration response and each notification in order; CON ones are ACKed", async () => {
    const f = endpointFixture();
    f.server.content("/t", "v0");
    const r = observe(f, "/t");
    await f.clock.advance(100);
    equal(f.server.observers("/t").length, 1);
    f.server.update("/t", "v1");
    await f.clock.advance(100);
    f.server.update("/t", "v2", { confirmable: true });
    await f.clock.advance(100);
    f.server.update("/t", "v3");
    await f.clock.advance(100);
    deepEqual(r.seen, ["v0", "v1", "v2", "v3"]);
    equal(f.net.sent({ ...fromClient, type: MessageType.ACK }).length, 1, "only the CON notification is ACKed");
    equal(f.endpoint.stats.notifications, 4);
    ok(r.observation.active);
    equal(f.net.sent({ ...fromClient, type: MessageType.CON }).length, 1, "one registration");
  });

  test("reordered notifications: the older one is dropped as stale", async () => {
    const f = endpointFixture();
    f.server.content("/t", "v0");
    const r = observe(f, "/t");
    await f.clock.advance(100);
    f.net.delay({ ...fromServer, type: MessageType.NON }, 50, { nth: 1 });
    f.server.update("/t", "v1");
    f.server.update("/t", "v2");
    await f.clock.advance(200);
    deepEqual(r.seen, ["v0", "v2"]);
    equal(f.endpoint.stats.staleNotifications, 1);
  });

  test("with deliverReordered (events, not states) the older one is delivered late instead, and a duplicate still is not", async () => {
    const f = endpointFixture();
    f.server.content("/t", "v0");
    const r = observe(f, "/t", undefined, true);
    await f.clock.advance(100);
    f.net.delay({ ...fromServer, type: MessageType.NON }, 50, { nth: 1 });
    f.net.duplicate({ ...fromServer, type: MessageType.NON }, { nth: 2 });
    f.server.update("/t", "v1");
    f.server.update("/t", "v2");
    await f.clock.advance(200);
    deepEqual(r.seen, ["v0", "v2", "v1"]);
    equal(f.endpoint.stats.staleNotifications, 1);
    equal(f.endpoint.stats.duplicates, 1, "the duplicated datagram was caught by message deduplication");
  });

  test("ordering across the 24-bit wrap-around; stale after the wrap is dropped; after 128 s anything is fresh", async () => {
    const f = endpointFixture({ endpoint: { observeGraceMs: 1_000_000 } });
    f.server.content("/t", "x");
    f.server.notify("/t", { code: Code.Content }, { sequence: 0xfffffd });
    const r = observe(f, "/t");
    await f.clock.advance(100);
    const send = async (sequence: number, body: string): Promise<void> => {
      f.server.notify("/t", { code: Code.Content, payload: body }, { sequence });
      await f.clock.advance(100);
    };
    await send(0xfffffe, "a");
    await send(0xffffff, "b");
    await send(0, "c");
    await send(1, "d");
    await send(0xffffff, "stale");
    await send(0x7fffff, "e");
    await send(0xffffff, "too old again");
    await f.clock.advance(128_100);
    await send(5, "after-128s");
    deepEqual(r.seen, ["x", "a", "b", "c", "d", "e", "after-128s"]);
    equal(f.endpoint.stats.staleNotifications, 2);
  });

  test("a CON notification whose ACK is lost is re-ACKed and delivered once", async () => {
    const f = endpointFixture();
    f.server.content("/t", "v0");
    const r = observe(f, "/t");
    await f.clock.advance(100);
    f.net.drop({ ...fromClient, type: MessageType.ACK }, { nth: 1 });
    f.server.update("/t", "v1", { confirmable: true });
    await f.clock.advance(10_000);
    deepEqual(r.seen, ["v0", "v1"]);
    equal(f.net.sent({ ...fromClient, type: MessageType.ACK }).length, 2);
    equal(f.endpoint.stats.duplicates, 1);
  });

  test("proactive cancel: GET with Observe = 1 on the same token; nothing delivered afterwards; a late notification gets a RST", async () => {
    const f = endpointFixture();
    f.server.content("/t", "v0");
    const r = observe(f, "/t");
    await f.clock.advance(100);
    const token = f.server.observers("/t")[0]!.token;
    const observer = f.server.observers("/t")[0]!;
    const done = track(r.observation.cancel());
    ok(!r.observation.active);
    await f.clock.runUntil(() => done.settled);
    const dereg = f.server.requests[f.server.requests.length - 1]!;
    equal(dereg.observe, 1);
    equal(dereg.tokenKey, tokenKey(token));
    equal(f.server.observers("/t").length, 0);
    // A notification the server had already queued, on the old token:
    f.server.notifyOne(observer, { code: Code.Content, payload: "late" }, { confirmable: true });
    await f.clock.advance(100);
    deepEqual(r.seen, ["v0"]);
    equal(f.net.sent({ ...fromClient, type: MessageType.RST }).length, 1);
    equal(f.endpoint.observationCount, 0);
  });

  test("cancel before the registration went out sends nothing", async () => {
    const f = endpointFixture();
    f.server.handle(() => undefined);
    void f.endpoint.request({ method: "GET", path: "/busy" }).catch(() => undefined);
    const r = observe(f, "/t");
    await r.observation.cancel();
    await f.clock.advance(100_000);
    equal(registrations(f, "/t").length, 0);
  });

  test("silence past Max-Age + grace: lost, re-registered with a fresh token, re-established", async () => {
    const f = endpointFixture({ endpoint: { observeGraceMs: 5000 } });
    f.server.content("/t", "v0", { maxAge: 30 });
    const r = observe(f, "/t");
    await f.clock.advance(100);
    f.server.restart();
    f.server.content("/t", "after restart", { maxAge: 30 });
    await f.clock.advance(34_000);
    equal(registrations(f, "/t").length, 1);
    await f.clock.advance(1_200);
    const tokens = registrations(f, "/t");
    equal(tokens.length, 2, "re-registered at 35 s");
    notEqual(tokens[0], tokens[1]);
    deepEqual(r.events, ["n:v0", "lost:no notification for 35000 ms", "back", "n:after restart"]);
    equal(f.endpoint.stats.observeReregistrations, 1);
    equal(f.endpoint.stats.observeLost, 1);
    f.server.update("/t", "v2");
    await f.clock.advance(100);
    equal(r.seen[r.seen.length - 1], "v2");
  });

  test("livenessMs overrides Max-Age (the application's keep-alive period plus grace)", async () => {
    const f = endpointFixture();
    f.server.content("/t", "v0", { maxAge: 3600 });
    observe(f, "/t", 12_000);
    await f.clock.advance(11_900);
    f.server.update("/t", "keepalive");
    await f.clock.advance(11_900);
    equal(registrations(f, "/t").length, 1, "a notification restarts the window");
    await f.clock.advance(200);
    equal(registrations(f, "/t").length, 2);
  });

  test("notifications that silently stop (NAT rebinding: the server's packets go nowhere) are recovered by liveness", async () => {
    const f = endpointFixture({ endpoint: { observeGraceMs: 0 } });
    f.server.content("/t", "v0", { maxAge: 20 });
    const r = observe(f, "/t");
    await f.clock.advance(100);
    f.net.drop({ ...fromServer, type: MessageType.NON }, { count: 1000 });
    for (let i = 1; i <= 3; i++) {
      await f.clock.advance(5000);
      f.server.update("/t", `lost${i}`);
    }
    f.net.clearRules();
    await f.clock.advance(6000);
    f.server.update("/t", "v-new");
    await f.clock.advance(100);
    deepEqual(r.events, ["n:v0", "lost:no notification for 20000 ms", "back", "n:lost3", "n:v-new"]);
  });

  test("a server that does not answer: one onLost, retries at once then with jittered backoff up to the cap, one onReestablished", async () => {
    const f = endpointFixture({
      random: new ConstantRandom(0),
      endpoint: { parameters: { maxRetransmit: 0 }, reregisterBackoff: { initialMs: 10_000, maxMs: 30_000 } },
    });
    f.server.content("/t", "v0");
    f.net.drop({ ...fromClient, type: MessageType.CON }, { count: 6 });
    const r = observe(f, "/t");
    // Each attempt times out after 2 s (no retransmission); delays: 0, 10, 20, 30, 30 s (kernel/backoff.ts:
    // random 0 takes none of the jitter off).
    await f.clock.runUntil(() => r.seen.length > 0, 1_000_000);
    const attempts = f.net.sent({ ...fromClient, type: MessageType.CON }).map((d) => d.sentAt);
    deepEqual(attempts, [0, 2000, 14_000, 36_000, 68_000, 100_000, 132_000]);
    deepEqual(r.events, ["lost:registration failed", "back", "n:v0"]);
  });

  test("a server away for 100 s: each registration attempt transmits 3 times and yields to the backoff, so the next one is near its return", async () => {
    const f = endpointFixture({
      random: new ConstantRandom(0),
      endpoint: { reregisterBackoff: { initialMs: 2000, maxMs: 30_000 } },
    });
    f.server.content("/t", "v0");
    const outageEndsAt = 100_000;
    f.net.drop({ ...fromClient, type: MessageType.CON, where: (d) => d.sentAt < outageEndsAt }, { count: 1000 });
    const r = observe(f, "/t");
    await f.clock.runUntil(() => r.seen.length > 0, 1_000_000);
    const transmissions = f.net.sent({ ...fromClient, type: MessageType.CON }).map((d) => d.sentAt);
    // Attempts at 0, 14, 30, 48, 70 s (each: +0, +2, +6 s, given up at +14 s; backoff 0, 2, 4, 8 s
    // with random 0, kernel/backoff.ts), then 16 s: the registration that gets through goes out as the
    // server returns. A full CON exchange per attempt (MAX_RETRANSMIT 4) would transmit at 0, 2, 6,
    // 14, 30, 62, 64, 68, 76, 92 s and then not before 125 s.
    deepEqual(
      transmissions,
      [
        0, 2000, 6000, 14_000, 16_000, 20_000, 30_000, 32_000, 36_000, 48_000, 50_000, 54_000, 70_000, 72_000, 76_000,
        100_000,
      ],
    );
    deepEqual(r.events, ["lost:registration failed", "back", "n:v0"]);
  });

  test("only registrations are shortened: a request in the same outage still retransmits MAX_RETRANSMIT times", async () => {
    const f = endpointFixture({ random: new ConstantRandom(0) });
    f.server.content("/r", "x");
    f.net.drop({ ...fromClient, type: MessageType.CON }, { count: 1000 });
    const response = track(f.endpoint.request({ method: "GET", path: "/r" }));
    await f.clock.runUntil(() => response.settled, 1_000_000);
    deepEqual(
      f.net.sent({ ...fromClient, type: MessageType.CON }).map((d) => d.sentAt),
      [0, 2000, 6000, 14_000, 30_000],
    );
    ok(response.error instanceof Error && /no ACK/.test(response.error.message), String(response.error));
  });

  test("attemptMaxRetransmit: above MAX_RETRANSMIT it is capped there; a negative or fractional value is refused", async () => {
    const f = endpointFixture({
      random: new ConstantRandom(0),
      endpoint: { parameters: { maxRetransmit: 1 }, reregisterBackoff: { attemptMaxRetransmit: 9 } },
    });
    f.server.content("/t", "v0");
    f.net.drop({ ...fromClient, type: MessageType.CON }, { count: 2 });
    const r = observe(f, "/t");
    await f.clock.runUntil(() => r.seen.length > 0, 1_000_000);
    deepEqual(
      f.net.sent({ ...fromClient, type: MessageType.CON }).map((d) => d.sentAt),
      [0, 2000, 6000],
    );
    for (const bad of [-1, 1.5]) {
      throws(
        () => endpointFixture({ endpoint: { reregisterBackoff: { attemptMaxRetransmit: bad } } }),
        (e) => e instanceof RangeError,
      );
    }
  });

  test("an error notification ends the observation: delivered, lost, re-registered; a refusing server gets backoff", async () => {
    const f = endpointFixture({
      random: new ConstantRandom(0),
      endpoint: { reregisterBackoff: { initialMs: 4000, maxMs: 8000 } },
    });
    f.server.content("/t", "v0");
    const r = observe(f, "/t");
    await f.clock.advance(100);
    f.server.route("/t", (_req, reply) => reply.respond({ code: Code.NotFound, payload: "gone" }));
    f.server.notify("/t", { code: Code.NotFound, payload: "gone" });
    await f.clock.advance(100);
    deepEqual(r.codes.slice(0, 2), [Code.Content, Code.NotFound]);
    equal(r.events[2], "lost:notification 4.04 ended the observation");
    await f.clock.advance(20_000);
    const times = f.server.requests.filter((q) => q.observe === 0).map((q) => q.receivedAt);
    // Lost at 110 ms and registered again at once (received at 120 ms); each refusal takes a
    // 20 ms round trip, then waits 4 s, 8 s, 8 s … (4 s doubling, capped at 8 s; random 0 takes
    // none of the jitter off, kernel/backoff.ts).
    deepEqual(
      times.map((t) => t - times[1]!),
      [-110, 0, 4020, 12_040, 20_060],
    );
    equal(r.events.filter((e) => e.startsWith("lost")).length, 1, "onLost once for the whole outage");
    ok(
      r.codes.slice(1).every((c) => c === Code.NotFound),
      "each refusal is delivered, so the application can give up",
    );
  });

  test("a notification without Observe ends the observation and re-registers", async () => {
    const f = endpointFixture();
    f.server.content("/t", "v0");
    const r = observe(f, "/t");
    await f.clock.advance(100);
    const observer = f.server.observers("/t")[0]!;
    f.server.send(CLIENT_ADDRESS, {
      type: MessageType.NON,
      code: Code.Content,
      token: observer.token,
      payload: "final",
    });
    await f.clock.advance(100);
    deepEqual(r.events, ["n:v0", "n:final", "lost:the server ended the observation", "back", "n:v0"]);
  });

  test("a registration answered without Observe (not observable) is delivered, then retried with backoff", async () => {
    const f = endpointFixture({ endpoint: { reregisterBackoff: { initialMs: 60_000 } } });
    f.server.route("/plain", (_req, reply) => reply.respond({ code: Code.Content, payload: "static" }));
    const r = observe(f, "/plain");
    await f.clock.advance(1000);
    deepEqual(r.events, ["n:static", "lost:the server did not accept the observation", "n:static"]);
    equal(registrations(f, "/plain").length, 2);
  });

  test("reregister(): a fresh token now, no onLost; the old registration is cancelled by RST to its next notification", async () => {
    const f = endpointFixture();
    f.server.content("/t", "v0");
    const r = observe(f, "/t");
    await f.clock.advance(100);
    r.observation.reregister();
    await f.clock.advance(100);
    equal(f.server.observers("/t").length, 2);
    f.server.update("/t", "v1");
    await f.clock.advance(100);
    equal(f.server.observers("/t").length, 1, "the server dropped the old token after the RST");
    deepEqual(r.events, ["n:v0", "n:v0", "n:v1"]);
    equal(f.endpoint.stats.observeReregistrations, 1);
  });

  test("reregisterAll() and setServer() re-register every observation", async () => {
    const f = endpointFixture();
    f.server.content("/a", "a");
    f.server.content("/b", "b");
    observe(f, "/a");
    observe(f, "/b");
    await f.clock.advance(100);
    f.endpoint.reregisterAll();
    await f.clock.advance(100);
    equal(registrations(f, "/a").length, 2);
    equal(registrations(f, "/b").length, 2);
    const before = f.net.sent(fromClient).length;
    f.endpoint.setServer({ address: "192.0.2.99", port: 5683 });
    await f.clock.advance(10_000);
    const after = f.net.sent(fromClient).slice(before);
    ok(after.length > 0);
    ok(
      after.every(
        (d) =>
          d.to.address === "192.0.2.99" &&
          d.message!.type === MessageType.CON &&
          optionUint(d.message!, OptionNumber.Observe) === 0,
      ),
    );
    f.endpoint.close();
  });

  test("a keep-alive ping that gets no answer re-registers the observations", async () => {
    const f = endpointFixture({ endpoint: { keepAliveIdleMs: 20_000, observeGraceMs: 1_000_000 } });
    f.server.content("/t", "v0");
    observe(f, "/t");
    await f.clock.advance(100);
    f.net.drop({ ...fromServer, type: MessageType.RST }, { count: 5 });
    await f.clock.advance(20_000 + 93_000 + 100);
    equal(f.endpoint.stats.pingTimeouts, 1);
    equal(registrations(f, "/t").length, 2);
    f.endpoint.close();
  });

  test("a large notification is fetched block-wise with new tokens and no Observe, delivered once; the observation's token stays", async () => {
    const f = endpointFixture({ server: { maxBlockSzx: 4 } });
    f.server.content("/t", "small");
    const r = observe(f, "/t");
    await f.clock.advance(100);
    const observationToken = f.server.observers("/t")[0]!.request.tokenKey;
    const body = "0123456789".repeat(70);
    f.server.update("/t", body);
    await f.clock.advance(1000);
    deepEqual(r.seen, ["small", body]);
    const followUps = f.server.requests.filter((q) => q.block2 !== undefined && q.block2.num > 0);
    equal(followUps.length, 2, "blocks 1 and 2 of 256 bytes");
    ok(followUps.every((q) => q.observe === undefined && q.tokenKey !== observationToken));
    equal(new Set(followUps.map((q) => q.tokenKey)).size, 2);
    f.server.update("/t", "after");
    await f.clock.advance(100);
    deepEqual(r.seen, ["small", body, "after"]);
    equal(f.server.observers("/t").length, 1);
  });

  test("a newer notification supersedes a block-wise one still being fetched", async () => {
    const f = endpointFixture({ server: { maxBlockSzx: 4 } });
    f.server.content("/t", "small");
    const r = observe(f, "/t");
    await f.clock.advance(100);
    f.server.update("/t", "A".repeat(600));
    f.server.update("/t", "B".repeat(600));
    await f.clock.advance(2000);
    equal(r.seen.length, 2);
    equal(r.seen[1], "B".repeat(600));
  });

  test("a registration answered block-wise is assembled before delivery", async () => {
    const f = endpointFixture({ server: { maxBlockSzx: 2 } });
    f.server.content("/t", "x".repeat(200));
    const r = observe(f, "/t");
    await f.clock.advance(1000);
    deepEqual(r.seen, ["x".repeat(200)]);
    f.server.update("/t", "y");
    await f.clock.advance(100);
    deepEqual(r.seen, ["x".repeat(200), "y"]);
  });

  test("observations are bounded; close() ends them silently and leaves no timer", async () => {
    const f = endpointFixture({ endpoint: { maxObservations: 2 } });
    f.server.content("/t", "v0");
    const a = observe(f, "/t");
    observe(f, "/t");
    throws(
      () => observe(f, "/t"),
      (e) => (e as { kind?: string }).kind === "queue-full",
    );
    await f.clock.advance(100);
    f.endpoint.close();
    ok(!a.observation.active);
    f.server.update("/t", "v1");
    await f.clock.advance(100);
    deepEqual(a.seen, ["v0"]);
    equal(f.clock.pendingTimers, 0);
    throws(
      () => observe(f, "/t"),
      (e) => (e as { kind?: string }).kind === "cancelled",
    );
  });

  test("a throwing notification handler is logged and the stream goes on", async () => {
    const f = endpointFixture();
    f.server.content("/t", "v0");
    let calls = 0;
    f.endpoint.observe(
      { method: "GET", path: "/t" },
      {
        onNotification: () => {
          calls++;
          throw new Error("app bug");
        },
      },
    );
    await f.clock.advance(100);
    f.server.update("/t", "v1");
    await f.clock.advance(100);
    equal(calls, 2);
    ok(f.log.some((l) => l.includes("app bug")));
  });

  test("the sequence number of a delivered notification is kept in its options", async () => {
    const f = endpointFixture();
    f.server.content("/t", "v0");
    const values: number[] = [];
    f.endpoint.observe(
      { method: "GET", path: "/t" },
      {
        onNotification: (r) => {
          const observe = r.options.find((o) => o.number === OptionNumber.Observe);
          values.push(
            observe === undefined
              ? -1
              : optionUint({ ...r, messageId: 0, token: new Uint8Array(0) }, OptionNumber.Observe)!,
          );
        },
      },
    );
    await f.clock.advance(100);
    f.server.update("/t", "v1");
    await f.clock.advance(100);
    deepEqual(values, [0, 1]);
  });
});
