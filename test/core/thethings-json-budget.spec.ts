// The member-name budget: XS never frees the property keys JSON.parse makes, so new names are
// admitted only up to a bound, and long or escaped names never.
import { encodeUtf8 } from "../../kernel/utf8.js";
import {
  DEFAULT_JSON_LIMITS,
  MAX_MEMBER_NAME_BYTES,
  MemberNameBudget,
  memberNames,
  parseJsonPayload,
} from "../../thethings/json.js";
import { deepEqual, equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

const parse = (text: string, budget: MemberNameBudget) =>
  parseJsonPayload(encodeUtf8(text), { ...DEFAULT_JSON_LIMITS, names: budget });

suite("thethings JSON member-name budget", () => {
  test("member names are found on the raw bytes: strings followed by a colon, once each", () => {
    deepEqual(memberNames(encodeUtf8('[{"key":"led","value":"key"},{"key" : 1, "datetime":"x:y"}]')), [
      "key",
      "value",
      "datetime",
    ]);
    equal(memberNames(encodeUtf8('{"k\\u0065y":1}')), undefined, "an escaped name is refused");
  });

  test("the platform's own names cost nothing; new names are admitted up to the capacity, then refused", () => {
    const budget = new MemberNameBudget(2);
    ok(parse('[{"key":"led","value":1,"datetime":"20260101000000","geo":{"lat":1,"long":2}}]', budget).ok);
    equal(budget.used, 0);
    ok(parse('[{"key":"led","value":{"r":1}}]', budget).ok);
    ok(parse('[{"key":"led","value":{"r":2,"g":3}}]', budget).ok, "r is already admitted, g fits");
    equal(budget.used, 2);
    const refused = parse('[{"key":"led","value":{"b":1}}]', budget);
    ok(!refused.ok && /budget/.test(refused.reason));
    ok(parse('[{"key":"led","value":{"g":9}}]', budget).ok, "names admitted before stay welcome");
  });

  test("a name longer than the bound is refused without being admitted", () => {
    const budget = new MemberNameBudget(16);
    const long = "m".repeat(MAX_MEMBER_NAME_BYTES + 1);
    ok(!parse(`{"${long}":1}`, budget).ok);
    equal(budget.used, 0);
    ok(parse(`{"${"m".repeat(MAX_MEMBER_NAME_BYTES)}":1}`, budget).ok);
  });

  test("a payload whose new names do not all fit admits none of them", () => {
    const budget = new MemberNameBudget(2);
    ok(!parse('{"a":1,"b":2,"c":3}', budget).ok);
    equal(budget.used, 0);
  });
});
