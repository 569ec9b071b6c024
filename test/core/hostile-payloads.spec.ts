// Hostile payloads from the platform, table-driven through the whole command path: the
// platform's own push (the live token, the right address) carrying invalid JSON, wrong types,
// huge numbers, deep nesting, very long strings and keys (test/fuzz/hostile-payloads.ts). Each
// row says where the payload stops, and no row reaches an output. After the table the same
// path still applies a real command. The XS memory run (tools/xs-memory.ts) sends 1,000 of
// these and checks the heap stays put.

import { HOSTILE_PAYLOADS } from "../fuzz/hostile-payloads.js";
import { equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { thingCommandsRig } from "../sim/thing-commands-rig.js";

suite("hostile payloads through subscription → dispatcher", () => {
  test(`${HOSTILE_PAYLOADS.length} hostile payloads each stop where they should and reach no output; a real command still applies after them`, async () => {
    const rig = await thingCommandsRig(3);
    const { clock } = rig.f;
    for (const row of HOSTILE_PAYLOADS) {
      const before = rig.subscription.stats;
      const ignoredBefore = rig.ignored.length;
      const notificationsBefore = rig.f.endpoint.stats.notifications;
      rig.push(row.payload, row.name.length % 2 === 0);
      await clock.advance(3_000);
      const after = rig.subscription.stats;
      const events = rig.ignored.slice(ignoredBefore);
      const where = `${row.name}: `;
      equal(rig.led.writes + rig.dim.writes, 0, `${where}no output written`);
      equal(rig.applied.length, 0, `${where}nothing applied`);
      const stop = row.stop;
      if (stop.at === "endpoint") {
        equal(rig.f.endpoint.stats.notifications, notificationsBefore, `${where}not delivered`);
        equal(
          after.dropped + after.dataMessages + after.errors,
          before.dropped + before.dataMessages + before.errors,
          `${where}the subscription saw nothing`,
        );
      } else {
        equal(rig.f.endpoint.stats.notifications, notificationsBefore + 1, `${where}delivered once`);
      }
      if (stop.at === "subscription") {
        equal(after.dropped - before.dropped, 1, `${where}dropped by the subscription`);
        equal(after.dataMessages, before.dataMessages, `${where}not a data message`);
      }
      if (stop.at === "items") {
        equal(after.dataMessages - before.dataMessages, 1, `${where}a data message`);
        equal(after.dropped - before.dropped, stop.dropped, `${where}items dropped`);
        equal(after.values, before.values, `${where}no value passed on`);
      }
      if (stop.at === "dispatcher") {
        equal(events.length, stop.count, `${where}ignore events`);
        ok(
          events.every((e) => e.reason === stop.reason),
          `${where}ignored as ${stop.reason}: ${events.map((e) => e.reason).join(",")}`,
        );
      } else equal(events.length, 0, `${where}the dispatcher saw nothing`);
      if (stop.at === "error") equal(after.errors - before.errors, 1, `${where}an error on the stream`);
    }
    ok(
      rig.f.log.some((line) => line.indexOf("too-large") >= 0),
      "the endpoint refused the oversized body as too large",
    );
    const errors = [...rig.f.log, ...rig.log].filter(
      (line) => line.startsWith("error: ") && line.indexOf("subscription error") < 0,
    );
    equal(errors.length, 0, `no internal error logged: ${errors.join(" | ")}`);
    equal(rig.subscription.active, true, "still subscribed");
    rig.push('[{"key":"led","value":"on"},{"key":"dim","value":"50%"}]');
    await clock.advance(1_000);
    equal(rig.led.level, 1);
    equal(rig.dim.level, 0.5);
  });
});
