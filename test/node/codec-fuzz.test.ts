// 100,000 seeded fuzz datagrams through the codec (test/fuzz/datagram-fuzz.ts): decode returns a
// message or throws CoapFormatError, and a returned message re-encodes to the same bytes and
// decodes to the same fields. `npm run fuzz` runs 10^6.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runDatagramFuzz } from "../fuzz/datagram-fuzz.js";

test("codec fuzz: 100,000 random and mutated datagrams", () => {
  const summary = runDatagramFuzz({ count: 100_000, seed: 0xc0a9 });
  assert.equal(summary.failureCount, 0, JSON.stringify(summary.failures, null, 2));
  // The mutators reach every rejection path of the decoder, and plenty of cases decode.
  for (const reason of [
    "truncated-header",
    "bad-version",
    "bad-token-length",
    "token-overrun",
    "reserved-option-nibble",
    "option-overrun",
    "option-number-too-large",
    "marker-without-payload",
    "empty-message-not-empty",
  ] as const) {
    assert.ok((summary.rejected[reason] ?? 0) > 0, `no case was rejected with ${reason}`);
  }
  assert.ok(summary.decoded > 10_000, `only ${summary.decoded} cases decoded`);
  assert.ok(summary.unrecognisedCritical > 1_000, "critical options to treat as unrecognised are seen");
});
