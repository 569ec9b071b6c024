// The launch-time mix that keeps an unseeded Math.random (Moddable's simulator) from repeating
// message IDs and tokens across launches, without weakening a good generator.
import { MessageIdSequence } from "../../coap/message-ids.js";
import { TokenRegistry, tokenKey } from "../../coap/tokens.js";
import type { RandomSource } from "../../kernel/random.js";
import { MixedRandom } from "../../kernel/random-mix.js";
import { equal, notEqual, ok, throws } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { ConstantRandom, SeededRandom } from "../sim/seeded-random.js";

/** What an unseeded rand() gives: the same sequence at every launch. */
function unseeded(): RandomSource {
  return new SeededRandom(12345);
}

/** The first message ID and the first token a fresh endpoint would draw. */
function firstDraws(random: RandomSource): { messageId: number; token: string } {
  const messageId = new MessageIdSequence(random).next();
  const token = tokenKey(new TokenRegistry(random).allocate());
  return { messageId, token };
}

suite("random mix (RFC 7252 §4.4, §5.3.1)", () => {
  test("two launches of an unseeded generator draw the same IDs and tokens; mixed with the launch time they do not", () => {
    const plainA = firstDraws(unseeded());
    const plainB = firstDraws(unseeded());
    equal(plainA.messageId, plainB.messageId);
    equal(plainA.token, plainB.token);

    const launch = 1_795_000_000_000;
    const launches = [launch, launch + 1, launch + 1000, launch + 86_400_000].map((at) =>
      firstDraws(new MixedRandom(unseeded(), at)),
    );
    for (let i = 0; i < launches.length; i++) {
      for (let j = i + 1; j < launches.length; j++) {
        notEqual(launches[i]!.token, launches[j]!.token, `launch ${i} and ${j} share a token`);
        notEqual(launches[i]!.messageId, launches[j]!.messageId, `launch ${i} and ${j} share a first message ID`);
      }
    }
  });

  test("the same base and seed give the same stream (the mix adds no randomness of its own)", () => {
    const a = new MixedRandom(new SeededRandom(7), 42);
    const b = new MixedRandom(new SeededRandom(7), 42);
    for (let i = 0; i < 100; i++) equal(a.next(), b.next());
  });

  test("every draw is in [0, 1), even when both parts sit at their top", () => {
    const top = new ConstantRandom(1 - 2 ** -53);
    for (const seed of [0, 1, 2 ** 32 - 1, 2 ** 40 + 3, -5]) {
      const mixed = new MixedRandom(top, seed);
      for (let i = 0; i < 20_000; i++) {
        const value = mixed.next();
        ok(value >= 0 && value < 1, `seed ${seed}: draw ${value} outside [0, 1)`);
      }
    }
  });

  test("a stuck base still yields evenly spread bytes (chi-square over 256 buckets)", () => {
    const mixed = new MixedRandom(new ConstantRandom(0.5), 1_795_000_000_000);
    const bytes = new Uint8Array(65_536);
    mixed.fill(bytes);
    const counts = new Array<number>(256).fill(0);
    for (const byte of bytes) counts[byte]!++;
    const expected = bytes.length / 256;
    let chiSquare = 0;
    for (const count of counts) chiSquare += (count - expected) ** 2 / expected;
    // 255 degrees of freedom: the 99.9th percentile is about 330; a broken mix is far above.
    ok(chiSquare < 330, `chi-square ${chiSquare.toFixed(1)}`);
    ok(
      counts.every((count) => count > 0),
      "a byte value never drawn",
    );
  });

  test("a good base stays evenly spread through the mix", () => {
    const mixed = new MixedRandom(new SeededRandom(99), 3);
    let sum = 0;
    const draws = 100_000;
    for (let i = 0; i < draws; i++) sum += mixed.next();
    ok(Math.abs(sum / draws - 0.5) < 0.005, `mean ${sum / draws}`);
  });

  test("a seed that is not a finite number is refused", () => {
    throws(
      () => new MixedRandom(unseeded(), Number.NaN),
      (e) => e instanceof TypeError,
    );
    throws(
      () => new MixedRandom(unseeded(), Number.POSITIVE_INFINITY),
      (e) => e instanceof TypeError,
    );
  });
});
