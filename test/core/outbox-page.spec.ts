// The outbox's page format (sensors/outbox-page.ts) and its checksum (kernel/crc32.ts): every
// field round-trips, and a torn, corrupt or foreign page is refused without throwing.
import { crc32 } from "../../kernel/crc32.js";
import { encodeUtf8 } from "../../kernel/utf8.js";
import {
  decodeReportPage,
  encodeReportPage,
  PAGE_HEADER_BYTES,
  PAGE_LAYOUT,
  RECORD_BYTES,
  readPageHeader,
  ValuePage,
} from "../../sensors/outbox-page.js";
import { deepEqual, equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { SeededRandom } from "../sim/seeded-random.js";

const UTC_2024 = Date.UTC(2024, 4, 6, 7, 8, 9) / 1000;

function filledPage(count: number): ValuePage {
  const page = ValuePage.create(1024, 77, 0xdeadbeef, 1_000.5);
  for (let i = 0; i < count; i++) {
    const stamped = i % 3 !== 0;
    ok(
      page.append(
        i % 2 === 0 ? "temperature" : "humidity",
        i * 1.25 - 7,
        stamped ? UTC_2024 + i : Number.NaN,
        1_000.5 + i * 250,
      ),
    );
  }
  return page;
}

suite("outbox page: CRC-32", () => {
  test("the zlib check values", () => {
    equal(crc32(new Uint8Array(0)), 0);
    equal(crc32(encodeUtf8("123456789")), 0xcbf43926);
    equal(crc32(encodeUtf8("The quick brown fox jumps over the lazy dog")), 0x414fa339);
    equal(crc32(encodeUtf8("xx123456789yy"), 2, 11), 0xcbf43926, "a range of the array");
    const bytes = encodeUtf8("123456789");
    equal(crc32(bytes, 4, 9, crc32(bytes, 0, 4)), 0xcbf43926, "continued from the CRC of the bytes before");
  });
});

suite("outbox page: values", () => {
  test("keys, values, datetimes and unstamped times round-trip bit for bit", () => {
    const page = ValuePage.create(1024, 5, 42, 10_000);
    // biome-ignore lint/correctness/noPrecisionLoss: the longest shortest-form number JSON can carry, on purpose
    const values = [21.53, -0.000001, 1e300, -1.2345678901234567e-300, 0, -0, 4095, Number.MIN_VALUE];
    values.forEach((v, i) => {
      ok(page.append(i < 4 ? "t" : "k.é-😀", v, i % 2 === 0 ? UTC_2024 : Number.NaN, 10_000 + i * 1000));
    });
    const opened = ValuePage.open(page.encode().slice());
    ok(typeof opened !== "string", String(opened));
    equal(opened.count, values.length);
    equal(opened.seq, 5);
    equal(opened.boot, 42);
    equal(opened.base, 10_000);
    equal(opened.unstamped, 4);
    values.forEach((v, i) => {
      ok(Object.is(opened.value(i), v), `value ${i}`);
      equal(opened.key(i), i < 4 ? "t" : "k.é-😀");
      if (i % 2 === 0) {
        equal(opened.utcSeconds(i), UTC_2024);
        ok(Number.isNaN(opened.sampledAt(i)));
      } else {
        ok(Number.isNaN(opened.utcSeconds(i)));
        equal(opened.sampledAt(i), 10_000 + i * 1000);
      }
    });
  });

  test("a page takes records until its bytes are used, and 13 bytes a value", () => {
    const page = ValuePage.create(256, 1, 1, 0);
    let count = 0;
    while (page.append("v", count, UTC_2024, 0)) count++;
    equal(count, Math.floor((256 - PAGE_HEADER_BYTES - 1 - 2) / RECORD_BYTES));
    equal(page.encode().length, PAGE_HEADER_BYTES + 1 + 2 + count * RECORD_BYTES);
    ok(!page.append("another", 1, UTC_2024, 0), "a new key needs room too");
  });

  test("an unstamped time past the 4-byte span, a time before the base or after 2106 does not fit", () => {
    const page = ValuePage.create(1024, 1, 1, 5_000);
    ok(!page.append("v", 1, Number.NaN, 5_000 + 0x100000000));
    ok(!page.append("v", 1, Number.NaN, 4_999));
    ok(!page.append("v", 1, 0x100000000, 5_000));
    ok(page.append("v", 1, Number.NaN, 5_000 + 0xffffffff));
    equal(page.count, 1);
  });

  test("dropFront removes the stored values and keeps the rest in order", () => {
    const page = filledPage(10);
    page.dropFront(4);
    const opened = ValuePage.open(page.encode().slice());
    ok(typeof opened !== "string");
    equal(opened.count, 6);
    equal(opened.value(0), 4 * 1.25 - 7);
    equal(opened.unstamped, 2, "values 6 and 9 of the 10 lack a datetime");
  });

  test("stamp gives every unstamped value the datetime its monotonic time says", () => {
    const page = filledPage(7);
    const offset = UTC_2024 * 1000 - 1_000.5;
    equal(page.stamp(offset), 3);
    const opened = ValuePage.open(page.encode().slice());
    ok(typeof opened !== "string");
    equal(opened.unstamped, 0);
    equal(opened.utcSeconds(0), UTC_2024);
    equal(opened.utcSeconds(3), UTC_2024 + Math.floor((3 * 250) / 1000));
    equal(opened.utcSeconds(6), UTC_2024 + Math.floor((6 * 250) / 1000));
    equal(opened.utcSeconds(4), UTC_2024 + 4, "stamped values keep their own");
  });

  test("every cut of a page and every flipped byte is refused as corrupt, without throwing", () => {
    const bytes = filledPage(9).encode().slice();
    for (let cut = 0; cut < bytes.length; cut++) equal(ValuePage.open(bytes.slice(0, cut)), "corrupt", `cut at ${cut}`);
    for (let at = 0; at < bytes.length; at++) {
      if (at === 2) continue;
      const flipped = bytes.slice();
      flipped[at] = flipped[at]! ^ 0x10;
      equal(ValuePage.open(flipped), "corrupt", `byte ${at} flipped`);
    }
    const random = new SeededRandom(13);
    for (let i = 0; i < 200; i++) {
      const garbage = new Uint8Array(random.int(1024));
      random.fill(garbage);
      if (garbage.length > 2) {
        garbage[0] = 0x74;
        garbage[1] = 0x6f;
        garbage[2] = PAGE_LAYOUT;
      }
      equal(ValuePage.open(garbage), "corrupt");
    }
    equal(ValuePage.open(new Uint8Array(0)), "corrupt");
  });

  test("a page of another layout is refused as such, whatever its checksum", () => {
    const bytes = filledPage(3).encode().slice();
    bytes[2] = PAGE_LAYOUT + 1;
    equal(readPageHeader(bytes), "layout");
    equal(ValuePage.open(bytes), "layout");
    bytes[2] = 0;
    equal(ValuePage.open(bytes), "layout");
  });

  test("a page padded after its length (a slot holding more than the page) still opens", () => {
    const bytes = filledPage(4).encode();
    const padded = new Uint8Array(bytes.length + 40);
    padded.set(bytes);
    const opened = ValuePage.open(padded);
    ok(typeof opened !== "string");
    equal(opened.count, 4);
  });
});

suite("outbox page: reports", () => {
  test("a report round-trips with its datetime, or its monotonic time when unstamped", () => {
    const value = { firmware: "0.1.0", reset: "power-on", outputs: "led:digital", n: [1, 2, { deep: true }] };
    const stamped = encodeReportPage(
      { key: "device.boot", value, utcSeconds: UTC_2024, at: 123 },
      { seq: 9, boot: 3, version: 0 },
      1024,
    );
    ok(stamped !== undefined);
    const header = readPageHeader(stamped);
    ok(typeof header !== "string");
    equal(header.seq, 9);
    const decoded = decodeReportPage(stamped, header);
    ok(typeof decoded !== "string");
    equal(decoded.key, "device.boot");
    deepEqual(decoded.value, value);
    equal(decoded.utcSeconds, UTC_2024);
    const unstamped = encodeReportPage(
      { key: "device.health", value: { ok: 1 }, utcSeconds: Number.NaN, at: 7_777 },
      { seq: 1, boot: 3, version: 2 },
      1024,
    );
    ok(unstamped !== undefined);
    const h2 = readPageHeader(unstamped);
    ok(typeof h2 !== "string");
    equal(h2.version, 2);
    const d2 = decodeReportPage(unstamped, h2);
    ok(typeof d2 !== "string");
    ok(Number.isNaN(d2.utcSeconds));
    equal(d2.at, 7_777);
  });

  test("a report larger than the page is not encoded; a torn report page is corrupt", () => {
    const big = { text: "x".repeat(2000) };
    equal(
      encodeReportPage({ key: "r", value: big, utcSeconds: UTC_2024, at: 0 }, { seq: 1, boot: 1, version: 0 }, 1024),
      undefined,
    );
    const bytes = encodeReportPage(
      { key: "r", value: { a: 1 }, utcSeconds: UTC_2024, at: 0 },
      { seq: 1, boot: 1, version: 0 },
      1024,
    )!;
    for (let cut = 0; cut < bytes.length; cut++) equal(readPageHeader(bytes.slice(0, cut)), "corrupt");
  });
});
