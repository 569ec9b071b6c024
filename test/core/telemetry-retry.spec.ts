// Retries: an unanswered write's handle is passed back so the same message can be re-sent (the
// endpoint decides for how long: telemetry-resend-window.spec.ts); refusals; backoff that grows,
// is jittered and capped; no hot loop (sensors/telemetry.ts).
import type { BatchAttempt } from "../../sensors/batch-sink.js";
import { makeRig } from "../core-fakes/telemetry-rig.js";
import { deepEqual, equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { SeededRandom } from "../sim/seeded-random.js";

/** One sampled value, then a sink that never answers; `handleFor(n)` names the attempt handle the nth call returns. */
async function unansweredRun(handleFor: (call: number, previous: BatchAttempt | undefined) => BatchAttempt) {
  const config = {
    intervalMs: 1000,
    batch: 1,
    maxDelayMs: 1e9,
    backoff: { initialMs: 2000, maxMs: 128_000, multiplier: 2, jitter: 0.5 },
  };
  const rig = makeRig({ config });
  let calls = 0;
  rig.sink.autoAnswer = (_values, previous) => ({ kind: "unanswered", retry: handleFor(++calls, previous) });
  rig.telemetry.start();
  rig.telemetry.stop();
  return rig;
}

suite("telemetry: exactly-once retries", () => {
  test("an unanswered write is re-sent with its attempt handle every time: telemetry keeps no lifetime of its own", async () => {
    const handle = { message: 1 };
    const { clock, sink, telemetry } = await unansweredRun((_n, previous) => previous ?? handle);
    await clock.advance(600_000);
    // ConstantRandom(0): waits are the ceilings 2, 4, 8 … 128 s, so attempts at 0, 2, 6, 14, 30,
    // 62, 126, 254, 382 … s after the first.
    const starts = sink.calls.map((c) => c.at - sink.calls[0]!.at);
    deepEqual(starts.slice(0, 9), [0, 2000, 6000, 14_000, 30_000, 62_000, 126_000, 254_000, 382_000]);
    equal(sink.calls[0]!.previous, undefined, "the first attempt is a new write");
    const first = sink.calls[1]!.previous as { message: number };
    deepEqual(first, { message: 1 });
    for (let i = 1; i < sink.calls.length; i++)
      equal(sink.calls[i]!.previous, first, `attempt ${i} (${starts[i]} ms) passes the handle back, past 247 s too`);
    for (const call of sink.calls) equal(call.values, sink.calls[0]!.values, "the same values every time");
    equal(telemetry.counters.writeFailures, sink.calls.length);
    telemetry.close();
  });

  test("the handle passed back is the one the last attempt returned (the sink sent a new message)", async () => {
    const { clock, sink, telemetry } = await unansweredRun((n) => ({ message: n < 3 ? 1 : 2 }));
    await clock.advance(40_000);
    // Attempts at 0, 2, 6, 14, 30 s; the third one came back with a new message's handle.
    deepEqual(
      sink.calls.map((c) => (c.previous as { message: number } | undefined)?.message),
      [undefined, 1, 1, 2, 2],
    );
    telemetry.close();
  });

  test("a refused write is sent again as a new message, even within the lifetime", async () => {
    const { clock, sink, telemetry } = makeRig({ config: { intervalMs: 1000, batch: 1, maxDelayMs: 1e9 } });
    telemetry.start();
    telemetry.stop();
    const handle: BatchAttempt = { message: 7 };
    sink.calls[0]!.answer({ kind: "unanswered", retry: handle });
    await clock.runUntil(() => sink.calls.length === 2);
    equal(sink.calls[1]!.previous, handle);
    sink.calls[1]!.answer({ kind: "refused", code: "4.29", permanent: false, message: "rate limit" });
    await clock.runUntil(() => sink.calls.length === 3);
    equal(sink.calls[2]!.previous, undefined, "the server has that message ID: a copy would get the cached error");
    telemetry.close();
  });

  test("a write that could not be sent keeps the earlier handle", async () => {
    const { clock, sink, telemetry } = makeRig({ config: { intervalMs: 1000, batch: 1, maxDelayMs: 1e9 } });
    telemetry.start();
    telemetry.stop();
    const handle: BatchAttempt = { message: 7 };
    sink.calls[0]!.answer({ kind: "unanswered", retry: handle });
    await clock.runUntil(() => sink.calls.length === 2);
    sink.calls[1]!.answer({ kind: "unavailable", reason: "queue full" });
    await clock.runUntil(() => sink.calls.length === 3);
    equal(sink.calls[2]!.previous, handle);
    sink.calls[2]!.answer({ kind: "unanswered" });
    await clock.runUntil(() => sink.calls.length === 4);
    equal(sink.calls[3]!.previous, undefined, "an unanswered outcome without a handle means: new write");
    telemetry.close();
  });

  test("a permanent refusal gives that batch up, counts it, and lets the next one go", async () => {
    const { clock, sink, telemetry, lines } = makeRig({ config: { intervalMs: 1000, batch: 2, maxDelayMs: 1e9 } });
    telemetry.start();
    await clock.advance(1000);
    sink.calls[0]!.answer({ kind: "refused", code: "4.00", permanent: true, message: "bad values" });
    await clock.advance(1000);
    equal(telemetry.counters.rejected, 2);
    equal(telemetry.counters.buffered, 1);
    ok(lines.some((l) => l.level === "error" && l.message.includes("4.00")));
    await clock.runUntil(() => sink.calls.length === 2);
    deepEqual(
      sink.calls[1]!.values.map((v) => v.value),
      [2, 3],
      "the refused values are not sent again",
    );
    const c = telemetry.counters;
    equal(c.sampled, c.sent + c.buffered + c.dropped + c.rejected);
    telemetry.close();
  });
});

suite("telemetry: backoff", () => {
  test("waits grow, are jittered within (ceiling/2, ceiling], and stop at the cap", async () => {
    const backoff = { initialMs: 1000, maxMs: 60_000, multiplier: 2, jitter: 0.5 };
    const { clock, sink, telemetry } = makeRig({
      random: new SeededRandom(11),
      config: { intervalMs: 1000, batch: 1, maxDelayMs: 1e9, backoff },
    });
    sink.autoAnswer = () => ({ kind: "unavailable", reason: "offline" });
    telemetry.start();
    telemetry.stop();
    await clock.advance(3_600_000);
    const waits = sink.calls.slice(1).map((c, i) => c.at - sink.calls[i]!.at);
    ok(waits.length >= 60, `${waits.length} waits`);
    const ceilings = waits.map((_, n) => Math.min(60_000, 1000 * 2 ** n));
    waits.forEach((wait, n) => {
      ok(wait > ceilings[n]! / 2 && wait <= ceilings[n]!, `wait ${n}: ${wait} for ceiling ${ceilings[n]}`);
    });
    ok(Math.max(...waits) <= 60_000, "capped");
    ok(
      waits.slice(0, 6).every((w, n) => n === 0 || w > waits[n - 1]!),
      `growing at first: ${waits.slice(0, 6)}`,
    );
    ok(new Set(waits.slice(-20)).size > 10, "jittered: capped waits differ");
    telemetry.close();
  });

  test("no hot loop while offline, and the wait starts over after a success", async () => {
    const { clock, sink, telemetry } = makeRig({ config: { intervalMs: 10_000, batch: 1, maxDelayMs: 1e9 } });
    let online = false;
    sink.autoAnswer = () => (online ? { kind: "stored" } : { kind: "unavailable", reason: "offline" });
    telemetry.start();
    await clock.advance(3_600_000);
    // Defaults: 2 s doubling to 300 s, the random source at 0 gives each ceiling: 2 … 256 s
    // (8 attempts, 510 s), then every 300 s.
    ok(
      sink.calls.length <= 1 + 8 + Math.ceil((3_600_000 - 510_000) / 300_000),
      `${sink.calls.length} attempts in an hour`,
    );
    online = true;
    await clock.runUntil(() => telemetry.counters.buffered < 5, 400_000);
    online = false;
    const before = sink.calls.length;
    await clock.advance(25_000);
    const waits = sink.calls.slice(before + 1).map((c, i) => c.at - sink.calls[before + i]!.at);
    equal(waits[0], 2000, "back to the initial wait");
    equal(waits[1], 4000);
    telemetry.close();
  });

  test("retryNow() skips the rest of the wait when the network comes back, and restarts the backoff", async () => {
    const { clock, sink, telemetry } = makeRig({ config: { intervalMs: 1000, batch: 1, maxDelayMs: 1e9 } });
    let online = false;
    sink.autoAnswer = () => (online ? { kind: "stored" } : { kind: "unavailable", reason: "no token yet" });
    telemetry.start();
    telemetry.stop();
    await clock.advance(600_000);
    const attempts = sink.calls.length;
    ok(clock.nextDueAt()! - clock.now() > 10_000, "a long wait is pending");
    telemetry.retryNow();
    await clock.settle();
    equal(sink.calls.length, attempts + 1);
    equal(sink.last.at, clock.now(), "attempted at once");
    equal(clock.nextDueAt()! - clock.now(), 2000, "that attempt failed too: the wait starts over from 2 s");
    online = true;
    await clock.advance(2000);
    equal(telemetry.counters.sent, 1);
    const after = sink.calls.length;
    telemetry.retryNow();
    await clock.settle();
    equal(sink.calls.length, after, "nothing pending: nothing to do");
    telemetry.close();
  });
});
