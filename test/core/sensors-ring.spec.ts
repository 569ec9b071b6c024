// The store-and-forward ring (sensors/value-ring.ts).
import { ValueRing } from "../../sensors/value-ring.js";
import { equal, ok, throws } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

function contents(ring: ValueRing): number[] {
  const out: number[] = [];
  for (let i = 0; i < ring.size; i++) out.push(ring.value(i));
  return out;
}

suite("sensors: value ring", () => {
  test("keeps values oldest first with every field", () => {
    const ring = new ValueRing(3);
    ring.push(2, 21.5, 1_700_000_000, 1000, 60);
    ring.push(1, -4, Number.NaN, 2000, 30);
    equal(ring.size, 2);
    equal(ring.keyIndex(0), 2);
    equal(ring.value(0), 21.5);
    equal(ring.utcSeconds(0), 1_700_000_000);
    equal(ring.at(0), 1000);
    equal(ring.itemBytes(0), 60);
    equal(ring.value(1), -4);
    ok(Number.isNaN(ring.utcSeconds(1)));
  });

  test("wraps around without losing order", () => {
    const ring = new ValueRing(3);
    for (let i = 0; i < 10; i++) {
      if (ring.size === ring.capacity) ring.dropOldest();
      ring.push(0, i, 0, i, 1);
    }
    equal(contents(ring).join(","), "7,8,9");
    ring.dropOldest(2);
    equal(contents(ring).join(","), "9");
    ring.push(0, 10, 0, 10, 1);
    ring.push(0, 11, 0, 11, 1);
    equal(contents(ring).join(","), "9,10,11");
  });

  test("refuses to grow past its capacity and to read or drop what it does not hold", () => {
    const ring = new ValueRing(2);
    ring.push(0, 1, 0, 0, 1);
    ring.push(0, 2, 0, 0, 1);
    throws(
      () => ring.push(0, 3, 0, 0, 1),
      (e) => e instanceof RangeError,
    );
    throws(
      () => ring.value(2),
      (e) => e instanceof RangeError,
    );
    throws(
      () => ring.dropOldest(3),
      (e) => e instanceof RangeError,
    );
    throws(
      () => new ValueRing(0),
      (e) => e instanceof RangeError,
    );
    equal(ring.size, 2);
  });
});
