// The endpoint under a hostile peer (test/fuzz/endpoint-fuzz.ts) on a small seeded run, so it
// also runs on XS: 5,000 datagrams per attacker. test/node/endpoint-fuzz.test.ts runs 50,000
// per attacker, `npm run fuzz` 10^6.

import { type EndpointFuzzSummary, judgeEndpointFuzz, runEndpointFuzz } from "../fuzz/endpoint-fuzz.js";
import { equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

const COUNT = 5_000;

function verdict(summary: EndpointFuzzSummary): void {
  const problems = judgeEndpointFuzz(summary);
  equal(problems.length, 0, problems.join("; "));
}

suite("endpoint hostile fuzz", () => {
  test("blind attacker, 5,000 datagrams: nothing escapes, exact drop counts, no forgery accepted, real traffic flows", async () => {
    const summary = await runEndpointFuzz({ count: COUNT, seed: 0xb11d, profile: "blind" });
    verdict(summary);
    equal(summary.hostile.total, COUNT);
    ok(summary.hostile.foreign > 1_000 && summary.hostile.fromServer > 1_000, "both kinds of source");
    ok(summary.exchanges.authentic > 500, `${summary.exchanges.authentic} real exchanges completed during the attack`);
    ok(summary.notifications.authentic >= 5, `${summary.notifications.authentic} real notifications`);
    ok(
      summary.stats.rstSent > 0 && summary.stats.droppedUnmatched > 0 && summary.stats.rejectedCritical > 0,
      "forgeries reached the matching rules",
    );
  });

  test("on-path attacker, 5,000 datagrams with live tokens and IDs: typed failures only, bounded state, recovery", async () => {
    const summary = await runEndpointFuzz({ count: COUNT, seed: 2, profile: "on-path" });
    verdict(summary);
    ok(summary.exchanges.attempted > 20, `${summary.exchanges.attempted} exchanges attempted`);
    // The attack reached the deep paths: duplicates (§4.5), acknowledgements of CON
    // notifications, resets, the observation's losses and re-registrations.
    const s = summary.stats;
    ok(s.duplicates > 0, "duplicates answered");
    ok(s.acksSent > 0 && s.rstSent > 0, "CONs acknowledged and reset");
    ok(s.observeReregistrations > 0, "the observation was knocked down and came back");
    ok(summary.exchanges.forged + summary.notifications.forged > 0, "an on-path forgery passes, as plain CoAP allows");
  });

  test("a run replays exactly from its seed", async () => {
    const a = await runEndpointFuzz({ count: 1_000, seed: 7, profile: "on-path" });
    const b = await runEndpointFuzz({ count: 1_000, seed: 7, profile: "on-path" });
    equal(JSON.stringify(b), JSON.stringify(a));
  });
});
