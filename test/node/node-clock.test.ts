// The Node clock keeps the Clock contract: a timer never fires before its delay has passed on
// now(), whatever libuv's cached loop time says, and a cleared timer never fires.
import assert from "node:assert/strict";
import { test } from "node:test";
import { NodeClock } from "../../host/node-clock.js";

test("timers fire no earlier than now() + delay, fractional delays included", async () => {
  const clock = new NodeClock();
  const early: number[] = [];
  const fired = await Promise.all(
    Array.from({ length: 200 }, (_, i) => {
      const delayMs = 1 + (i % 20) + (i % 7) / 7;
      const dueAt = clock.now() + delayMs;
      return new Promise<number>((resolve) => {
        clock.setTimer(() => {
          const late = clock.now() - dueAt;
          if (late < 0) early.push(late);
          resolve(late);
        }, delayMs);
      });
    }),
  );
  assert.equal(fired.length, 200);
  assert.deepEqual(early, [], "no timer fired before its time");
});

test("a cleared timer does not fire, and clearing twice or an unknown handle is harmless", async () => {
  const clock = new NodeClock();
  let fired = 0;
  const handle = clock.setTimer(() => fired++, 5);
  clock.clearTimer(handle);
  clock.clearTimer(handle);
  clock.clearTimer(undefined);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(fired, 0);
});
