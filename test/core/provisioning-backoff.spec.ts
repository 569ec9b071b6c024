// Backoff (kernel/backoff.ts) and the retry schedule of provisioning: delays grow, stay within
// their jitter bounds, stop at the cap, and nothing retries without waiting.
import { CoapRequestError } from "../../coap/client-api.js";
import { Provisioning, TOKEN_STORE_KEY } from "../../device/provisioning.js";
import { Backoff } from "../../kernel/backoff.js";
import { ThethingsClient } from "../../thethings/client.js";
import { FakeCoapClient, type FakeStep, reply } from "../core-fakes/fake-coap-client.js";
import { MemoryStore, RecordingLog } from "../core-fakes/thethings-fakes.js";
import { equal, ok, throws } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { FakeClock } from "../sim/fake-clock.js";
import { ConstantRandom, SeededRandom } from "../sim/seeded-random.js";

const TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-ABCDE";
const CODE = "ACT1vationC0de-0123456789abcdefghi";

/** The delays provisioning waits, read off the fake clock, for `retries` retries. */
async function recordDelays(clock: FakeClock, retries: number): Promise<number[]> {
  const delays: number[] = [];
  await clock.settle();
  for (let i = 0; i < retries; i++) {
    equal(clock.pendingTimers, 1, "exactly one retry timer waits");
    const due = clock.nextDueAt()!;
    delays.push(due - clock.now());
    await clock.advanceTo(due);
  }
  return delays;
}

/** Checks `delays` against base(n) = min(cap, initial × 2^n) with jitter 0.5: each in [base/2, base]. */
function checkSchedule(delays: readonly number[], initialMs: number, maxMs: number): void {
  let base = initialMs;
  for (let i = 0; i < delays.length; i++) {
    const delay = delays[i]!;
    ok(delay <= base && delay >= Math.floor(base / 2), `delay ${i} = ${delay} outside [${base / 2}, ${base}]`);
    if (i > 0 && base < maxMs) ok(delay > delays[i - 1]!, `delay ${i} = ${delay} did not grow from ${delays[i - 1]}`);
    ok(delay <= maxMs, `delay ${i} = ${delay} above the cap ${maxMs}`);
    base = Math.min(maxMs, base * 2);
  }
}

suite("provisioning backoff", () => {
  suite("Backoff", () => {
    test("without jitter: 1, 2, 4, 8 … s up to the cap, then the cap", () => {
      const backoff = new Backoff({ random: new ConstantRandom(0), initialMs: 1000, maxMs: 10_000 });
      const delays = Array.from({ length: 7 }, () => backoff.next());
      equal(delays.join(","), "1000,2000,4000,8000,10000,10000,10000");
      equal(backoff.attempts, 7);
    });

    test("jitter takes at most its fraction off each delay", () => {
      const low = new Backoff({ random: new ConstantRandom(0.999999), initialMs: 1000, maxMs: 8000, jitter: 0.5 });
      equal(Array.from({ length: 5 }, () => low.next()).join(","), "500,1000,2000,4000,4000");
      const random = new SeededRandom(7);
      const seeded = new Backoff({ random, initialMs: 100, maxMs: 100_000, jitter: 0.3 });
      let base = 100;
      for (let i = 0; i < 40; i++) {
        const delay = seeded.next();
        ok(delay <= base && delay >= base * 0.7 - 1, `${delay} vs base ${base}`);
        base = Math.min(100_000, base * 2);
      }
    });

    test("reset() starts over; the cap holds after many attempts (no overflow)", () => {
      const backoff = new Backoff({ random: new ConstantRandom(0), initialMs: 1, maxMs: 60_000 });
      for (let i = 0; i < 5000; i++) backoff.next();
      equal(backoff.next(), 60_000);
      backoff.reset();
      equal(backoff.attempts, 0);
      equal(backoff.next(), 1);
    });

    test("a delay is never below 1 ms", () => {
      const backoff = new Backoff({ random: new ConstantRandom(0.999999), initialMs: 1, maxMs: 1, jitter: 0.99 });
      equal(backoff.next(), 1);
    });

    test("misconfiguration throws RangeError", () => {
      const random = new ConstantRandom(0);
      for (const options of [
        { initialMs: 0 },
        { initialMs: 10, maxMs: 5 },
        { multiplier: 0.5 },
        { jitter: 1 },
        { jitter: -0.1 },
        { initialMs: Number.NaN },
      ]) {
        throws(
          () => new Backoff({ random, ...options }),
          (e) => e instanceof RangeError,
          JSON.stringify(options),
        );
      }
    });
  });

  suite("provisioning retries", () => {
    test("no activation code: one clear log line, then retries that grow, with jitter, up to the cap", async () => {
      const clock = new FakeClock();
      const log = new RecordingLog();
      const coap = new FakeCoapClient();
      const store = new MemoryStore();
      const provisioning = new Provisioning({
        activator: new ThethingsClient({ coap, log: log.sink }),
        store,
        clock,
        random: new SeededRandom(2026),
        log: log.sink,
        backoff: { initialMs: 1000, maxMs: 60_000 },
      });
      let result: string | undefined | null = null;
      void provisioning.obtainToken().then(
        (token) => (result = token),
        () => undefined,
      );
      const delays = await recordDelays(clock, 12);
      checkSchedule(delays, 1000, 60_000);
      ok(delays[11]! >= 30_000, "reached the cap region");
      const advice = log.at("warn", "error");
      equal(advice.length, 1, "one line, not one per retry");
      ok(
        advice[0]!.message.includes("activationCode=") && advice[0]!.message.includes("--activation-code"),
        advice[0]!.message,
      );
      equal(coap.requests.length, 0, "nothing to activate with");
      equal(result, null, "still waiting");

      // Another tool stores a token: the next retry picks it up.
      store.write(TOKEN_STORE_KEY, TOKEN);
      await clock.advance(clock.nextDueAt()! - clock.now());
      equal(result, TOKEN);
      equal(clock.pendingTimers, 0);
    });

    test("a refused code: one clear line naming the code redacted, retries with backoff, then success resets", async () => {
      const clock = new FakeClock();
      const log = new RecordingLog();
      const coap = new FakeCoapClient();
      const store = new MemoryStore();
      const refused = reply("4.00", { status: "error", message: "Error creating thing" });
      coap.script(refused, refused, refused, refused, refused, reply("2.01", { status: "created", thingToken: TOKEN }));
      const provisioning = new Provisioning({
        activator: new ThethingsClient({ coap, log: log.sink }),
        store,
        clock,
        random: new SeededRandom(99),
        log: log.sink,
        activationCode: CODE,
        backoff: { initialMs: 2000, maxMs: 20_000 },
      });
      let result: string | undefined;
      void provisioning.obtainToken().then(
        (token) => (result = token),
        () => undefined,
      );
      const delays = await recordDelays(clock, 5);
      checkSchedule(delays, 2000, 20_000);
      await clock.settle();
      equal(result, TOKEN);
      equal(coap.requests.length, 6);
      equal(store.data.get(TOKEN_STORE_KEY), TOKEN);
      const refusals = log.at("error");
      equal(refusals.length, 1);
      ok(
        refusals[0]!.message.includes("Error creating thing") && refusals[0]!.message.includes("ACT1…"),
        refusals[0]!.message,
      );
      ok(!log.text.includes(CODE), "the activation code is not logged whole");
      ok(!log.text.includes(TOKEN), "the token is not logged whole");
    });

    test("network failures retry with backoff too, with their own log line", async () => {
      const clock = new FakeClock();
      const log = new RecordingLog();
      const coap = new FakeCoapClient();
      // Each attempt: no answer, and resending the same message is no longer possible (past EXCHANGE_LIFETIME).
      const expired = () => new CoapRequestError("expired", "past EXCHANGE_LIFETIME");
      coap.script(
        coap.timeoutStep(),
        expired,
        coap.timeoutStep(),
        expired,
        reply("2.01", { status: "created", thingToken: TOKEN }),
      );
      const provisioning = new Provisioning({
        activator: new ThethingsClient({ coap, log: log.sink }),
        store: new MemoryStore(),
        clock,
        random: new ConstantRandom(0),
        log: log.sink,
        activationCode: CODE,
      });
      let result: string | undefined;
      void provisioning.obtainToken().then(
        (token) => (result = token),
        () => undefined,
      );
      const delays = await recordDelays(clock, 2);
      equal(delays.join(","), "1000,2000");
      await clock.settle();
      equal(result, TOKEN);
      equal(log.at("warn").length, 1);
      ok(log.at("warn")[0]!.message.includes("timeout"));
      equal(coap.resends.length, 2, "each attempt first sent its message again");
    });

    test("retryNow (the network is back): an activation waiting after an unreachable platform goes at once; a refused one keeps its backoff", async () => {
      const setup = (firstAttempt: (coap: FakeCoapClient) => FakeStep[]) => {
        const clock = new FakeClock();
        const coap = new FakeCoapClient();
        coap.script(...firstAttempt(coap), reply("2.01", { status: "created", thingToken: TOKEN }));
        const provisioning = new Provisioning({
          activator: new ThethingsClient({ coap, log: () => undefined }),
          store: new MemoryStore(),
          clock,
          random: new ConstantRandom(0),
          log: () => undefined,
          activationCode: CODE,
          backoff: { initialMs: 60_000, maxMs: 300_000 },
        });
        let result: string | undefined;
        void provisioning.obtainToken().then(
          (token) => (result = token),
          () => undefined,
        );
        return { clock, coap, provisioning, result: () => result };
      };

      // No answer, and the same message can no longer be resent: the platform is unreachable.
      const unreachable = setup((coap) => [
        coap.timeoutStep(),
        () => new CoapRequestError("expired", "past EXCHANGE_LIFETIME"),
      ]);
      await unreachable.clock.settle();
      equal(unreachable.clock.pendingTimers, 1, "waiting out the backoff");
      unreachable.provisioning.retryNow();
      await unreachable.clock.settle();
      equal(unreachable.result(), TOKEN, "activated at once");
      equal(unreachable.clock.now(), 0, "no time passed");

      const refused = setup(() => [reply("4.00", { status: "error", message: "Error creating thing" })]);
      await refused.clock.settle();
      refused.provisioning.retryNow();
      await refused.clock.settle();
      equal(refused.result(), undefined, "a refusal is not hurried");
      equal(refused.coap.requests.length, 1);
      equal(refused.clock.pendingTimers, 1);
    });

    test("an unanswered activation is sent again as the same message, so a platform that lost only its reply answers from its duplicate record", async () => {
      const clock = new FakeClock();
      const log = new RecordingLog();
      const coap = new FakeCoapClient();
      coap.script(coap.timeoutStep(), coap.timeoutStep(), reply("2.01", { status: "created", thingToken: TOKEN }));
      const provisioning = new Provisioning({
        activator: new ThethingsClient({ coap, log: log.sink }),
        store: new MemoryStore(),
        clock,
        random: new ConstantRandom(0),
        log: log.sink,
        activationCode: CODE,
      });
      const token = await provisioning.obtainToken();
      equal(token, TOKEN);
      equal(coap.requests.length, 1, "one activation message");
      equal(coap.resends.length, 2, "sent again twice, unchanged");
      ok(coap.resends.every((sent) => sent.messageId === coap.resends[0]!.messageId));
    });

    test("close() ends the wait: obtainToken resolves undefined, no timer left", async () => {
      const clock = new FakeClock();
      const provisioning = new Provisioning({
        activator: { activate: () => Promise.reject(new Error("down")) },
        store: new MemoryStore(),
        clock,
        random: new ConstantRandom(0),
        log: () => undefined,
        activationCode: CODE,
      });
      let settled = false;
      let result: string | undefined = "pending";
      void provisioning.obtainToken().then(
        (token) => {
          settled = true;
          result = token;
        },
        () => undefined,
      );
      await clock.settle();
      equal(clock.pendingTimers, 1);
      provisioning.close();
      provisioning.close();
      await clock.settle();
      ok(settled);
      equal(result, undefined);
      equal(clock.pendingTimers, 0);
    });
  });
});
