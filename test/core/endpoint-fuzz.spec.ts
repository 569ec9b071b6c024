// Hostile input at the endpoint: thousands of random and mutated datagrams from the server's
// own address, interleaved with real traffic. Nothing may throw, nothing may be delivered to
// the wrong request, and the real requests still complete. Forgeries aim at live message IDs
// (so ACK/RST matching is exercised) but not at live tokens: a datagram with the right token
// from the right address is a response by definition; the token's randomness is the defence.

import { CoapRequestError } from "../../coap/client-api.js";
import { Code, MessageType } from "../../coap/codes.js";
import { encodeMessage } from "../../coap/encoder.js";
import { type CoapOption, EMPTY_BYTES } from "../../coap/message.js";
import { OptionNumber } from "../../coap/options.js";
import { decodeUtf8 } from "../../kernel/utf8.js";
import { equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { CLIENT_ADDRESS, endpointFixture, track } from "../sim/endpoint-fixture.js";
import { SeededRandom } from "../sim/seeded-random.js";

function garbage(random: SeededRandom, liveIds: readonly number[]): Uint8Array {
  const kind = random.int(4);
  if (kind === 0) {
    const bytes = new Uint8Array(random.int(40));
    random.fill(bytes);
    return bytes;
  }
  const types = [MessageType.CON, MessageType.NON, MessageType.ACK, MessageType.RST];
  const type = types[random.int(4)]!;
  const empty = random.chance(0.2);
  // Now and then aim at a live message ID, to reach the matching code paths.
  const messageId =
    liveIds.length > 0 && random.chance(0.05) ? liveIds[random.int(liveIds.length)]! : random.int(65536);
  const token = empty ? EMPTY_BYTES : new Uint8Array(random.int(9)).map(() => random.int(256));
  const options: CoapOption[] = [];
  if (!empty) {
    if (random.chance(0.3)) options.push({ number: OptionNumber.Observe, value: random.int(0x1000000) });
    if (random.chance(0.2)) options.push({ number: OptionNumber.Block2, value: random.int(0x100000) });
    if (random.chance(0.1)) options.push({ number: 1 + 2 * random.int(40), value: new Uint8Array(random.int(4)) });
  }
  const codes = [Code.Content, Code.Changed, Code.NotFound, Code.GET, 0xe0, Code.Continue];
  const message = encodeMessage({
    type,
    code: empty ? Code.Empty : codes[random.int(codes.length)]!,
    messageId,
    token,
    options,
    payload: empty || random.chance(0.5) ? EMPTY_BYTES : new Uint8Array(1 + random.int(30)),
  });
  if (kind === 1) return message;
  // Mutations: flipped bytes, truncation.
  const mutated = message.slice(0, kind === 2 ? message.length : 1 + random.int(message.length));
  for (let i = random.int(3); i > 0; i--) mutated[random.int(mutated.length)] ^= 1 << random.int(8);
  return mutated;
}

suite("endpoint under hostile input", () => {
  for (const seed of [101, 202, 303]) {
    test(`2,000 random and mutated datagrams from the server's address (seed ${seed})`, async () => {
      const f = endpointFixture({ seed, endpoint: { maxQueue: 40 } });
      const random = new SeededRandom(seed * 7);
      f.server.handle((req, reply) => {
        if (req.path.endsWith("s")) {
          reply.ack();
          reply.respondLater({ code: Code.Content, payload: req.path }, { delayMs: 400 });
        } else reply.respond({ code: Code.Content, payload: req.path });
      });
      f.server.content("/obs", "o0");
      const seen: string[] = [];
      f.endpoint.observe({ method: "GET", path: "/obs" }, { onNotification: (r) => seen.push(decodeUtf8(r.payload)) });
      const paths = Array.from({ length: 40 }, (_, i) => `/p${i}${i % 4 === 0 ? "s" : ""}`);
      const requests = paths.map((path) => track(f.endpoint.request({ method: "GET", path })));
      for (let i = 0; i < 2000; i++) {
        const live = f.net
          .sent({ from: CLIENT_ADDRESS, type: MessageType.CON })
          .slice(-3)
          .map((d) => d.message!.messageId);
        f.server.sendRaw(garbage(random, live), CLIENT_ADDRESS);
        if (i % 100 === 0) f.server.update("/obs", `o${i / 100 + 1}`);
        await f.clock.advance(20);
      }
      await f.clock.runUntil(() => requests.every((r) => r.settled), 1_000_000);
      let answered = 0;
      requests.forEach((r, i) => {
        if (r.value !== undefined) {
          equal(decodeUtf8(r.value.payload), paths[i], "never someone else's response");
          answered++;
        } else
          ok(
            r.error instanceof CoapRequestError && (r.error.kind === "reset" || r.error.kind === "timeout"),
            String(r.error),
          );
      });
      ok(answered >= 36, `real requests complete: ${answered}/40`);
      ok(seen.length >= 10, `notifications still arrive: ${seen.length}`);
      ok(
        seen.every((s) => /^o\d+$/.test(s)),
        "only real notifications delivered",
      );
      const stats = f.endpoint.stats;
      ok(stats.droppedMalformed > 100, `malformed counted: ${stats.droppedMalformed}`);
      ok(stats.droppedUnmatched > 100, `unmatched counted: ${stats.droppedUnmatched}`);
      f.endpoint.close();
    });
  }
});
