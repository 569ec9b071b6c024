// The simulation tools the endpoint specs (and other specs) build on: fake clock, seeded
// randomness, simulated network with scripted faults.
import { MessageType } from "../../coap/codes.js";
import { encodeMessage } from "../../coap/encoder.js";
import { EMPTY_BYTES } from "../../coap/message.js";
import type { PeerAddress } from "../../coap/peer-address.js";
import { deepEqual, equal, ok, rejects } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { FakeClock } from "../sim/fake-clock.js";
import { SeededRandom } from "../sim/seeded-random.js";
import { SimNetwork } from "../sim/sim-network.js";

const A: PeerAddress = { address: "10.0.0.1", port: 1000 };
const B: PeerAddress = { address: "10.0.0.2", port: 2000 };

function ping(messageId: number, type: MessageType = MessageType.CON): Uint8Array {
  return encodeMessage({ type, code: 0, messageId, token: EMPTY_BYTES, options: [], payload: EMPTY_BYTES });
}

suite("sim: fake clock", () => {
  test("fires timers in due order, ties in setting order, and moves now", async () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    clock.setTimer(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimer(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimer(() => fired.push(`c@${clock.now()}`), 20);
    const cleared = clock.setTimer(() => fired.push("never"), 5);
    clock.clearTimer(cleared);
    await clock.advance(15);
    deepEqual(fired, ["a@10"]);
    equal(clock.now(), 15);
    await clock.advance(100);
    deepEqual(fired, ["a@10", "b@20", "c@20"]);
    equal(clock.now(), 115);
  });

  test("promise callbacks run between timers, at the simulated instant", async () => {
    const clock = new FakeClock();
    const times: number[] = [];
    const waitFor = (ms: number) => new Promise<void>((resolve) => clock.setTimer(resolve, ms));
    void (async () => {
      await waitFor(10);
      times.push(clock.now());
      await waitFor(10);
      times.push(clock.now());
    })().catch(() => undefined);
    await clock.advance(100);
    deepEqual(times, [10, 20]);
  });

  test("runUntil fails instead of hanging", async () => {
    const clock = new FakeClock();
    await rejects(clock.runUntil(() => false, 1000));
  });
});

suite("sim: seeded random", () => {
  test("same seed, same sequence; values in [0, 1)", () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    for (let i = 0; i < 100; i++) {
      const x = a.next();
      equal(x, b.next());
      ok(x >= 0 && x < 1);
    }
  });
});

suite("sim: network", () => {
  test("delivers with the link delay and traces each datagram", async () => {
    const clock = new FakeClock();
    const net = new SimNetwork({ clock, random: new SeededRandom(1), conditions: { delayMs: 5 } });
    const a = net.bind(A);
    const b = net.bind(B);
    const got: Array<[number, number, string]> = [];
    b.onReceive((bytes, from) => got.push([clock.now(), bytes.length, from.address]));
    a.send(ping(1), B);
    await clock.advance(4);
    equal(got.length, 0);
    await clock.advance(1);
    deepEqual(got, [[5, 4, "10.0.0.1"]]);
    equal(net.sent({ from: A, type: MessageType.CON }).length, 1);
    equal(net.trace[0]!.datagram.message?.messageId, 1);
  });

  test("scripted drop hits exactly the nth match", async () => {
    const clock = new FakeClock();
    const net = new SimNetwork({ clock, random: new SeededRandom(1) });
    const a = net.bind(A);
    const b = net.bind(B);
    const ids: number[] = [];
    b.onReceive((bytes) => ids.push((bytes[2]! << 8) | bytes[3]!));
    net.drop({ from: A, type: MessageType.CON }, { nth: 2 });
    a.send(ping(1, MessageType.NON), B);
    for (let id = 10; id < 14; id++) a.send(ping(id), B);
    await clock.advance(10);
    deepEqual(ids, [1, 10, 12, 13]);
    equal(net.pendingRules, 0);
    equal(net.trace.filter((e) => e.dropReason === "script").length, 1);
  });

  test("duplication, loss rate and jitter", async () => {
    const clock = new FakeClock();
    const net = new SimNetwork({ clock, random: new SeededRandom(9) });
    const a = net.bind(A);
    const b = net.bind(B);
    let count = 0;
    b.onReceive(() => count++);
    net.duplicate({ messageId: 5 }, {}, 3);
    a.send(ping(5), B);
    await clock.advance(10);
    equal(count, 3);

    net.setLink(A, B, { lossRate: 0.5 });
    count = 0;
    for (let i = 0; i < 400; i++) a.send(ping(i), B);
    await clock.advance(10);
    ok(count > 120 && count < 280, `about half arrive: ${count}`);

    net.setLink(A, B, { delayMs: 1, jitterMs: 50 });
    const order: number[] = [];
    b.onReceive((bytes) => order.push((bytes[2]! << 8) | bytes[3]!));
    for (let i = 0; i < 20; i++) a.send(ping(i), B);
    await clock.advance(100);
    equal(order.length, 20);
    ok(
      order.some((id, i) => id !== i),
      "jitter reorders",
    );
  });

  test("nothing reaches a closed port; close is safe twice", async () => {
    const clock = new FakeClock();
    const net = new SimNetwork({ clock, random: new SeededRandom(1) });
    const a = net.bind(A);
    const b = net.bind(B);
    let count = 0;
    b.onReceive(() => count++);
    a.send(ping(1), B);
    b.close();
    b.close();
    await clock.advance(10);
    equal(count, 0);
    equal(net.trace[0]!.dropReason, "unreachable");
    net.bind(B);
  });
});
