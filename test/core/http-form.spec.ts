// application/x-www-form-urlencoded, strictly: what browsers send decodes to the text typed;
// anything a browser would not send is refused as a whole.
import { isUtf8, parseForm } from "../../http/form.js";
import { encodeUtf8 } from "../../kernel/utf8.js";
import { deepEqual, equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

function parse(text: string, maxFields = 8) {
  return parseForm(encodeUtf8(text), maxFields);
}

suite("http form", () => {
  test("fields decode: + is a space, %XX bytes are UTF-8, empty parts are skipped", () => {
    const result = parse("ssid=Caf%C3%A9+Wi-Fi&password=p%26ss%3Dw0rd&&activationCode=&productId");
    ok(result.ok);
    deepEqual(
      [...result.fields],
      [
        ["ssid", "Café Wi-Fi"],
        ["password", "p&ss=w0rd"],
        ["activationCode", ""],
        ["productId", ""],
      ],
    );
    const empty = parse("");
    ok(empty.ok && empty.fields.size === 0);
  });

  test("raw UTF-8 and four-byte characters pass; lowercase hex is hex", () => {
    const result = parse("a=ñ%f0%9f%93%b6");
    ok(result.ok);
    equal(result.fields.get("a"), "ñ📶");
  });

  test("malformed percent-encoding, invalid UTF-8, duplicates and too many fields are refused", () => {
    for (const text of [
      "a=%",
      "a=%4",
      "a=%zz",
      "a=%C3",
      "a=%C0%80",
      "a=%ED%A0%80",
      "a=%F5%80%80%80",
      "%FF=1",
      "a=1&a=2",
    ]) {
      const result = parse(text);
      ok(!result.ok, text);
    }
    ok(!parse("a=1&b=2&c=3", 2).ok);
    ok(parse("a=1&b=2", 2).ok);
  });

  test("isUtf8 follows RFC 3629", () => {
    ok(isUtf8(Uint8Array.of(0x41, 0xc3, 0xb1, 0xe2, 0x9c, 0x93, 0xf0, 0x9f, 0x93, 0xb6)));
    for (const bytes of [[0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x9c]])
      ok(!isUtf8(Uint8Array.from(bytes)), String(bytes));
  });
});
