// The scalar parsers behind device/config.ts: strings as mcconfig delivers them (and the JSON
// numbers/booleans a manifest may hold) become checked values, and every bad value throws a
// ConfigError that names the key and shows the value.
import * as assert from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { ConfigError, parseBoolean, parseCredential, parseDuration, parseInteger, parseLogLevel, parseServer } from "../../device/config.js";

function rejected(fn: () => unknown, key: string, ...fragments: string[]): void {
  const error = assert.throws(fn, (e) => e instanceof ConfigError, `ConfigError for ${key}`) as ConfigError;
  assert.equal(error.key, key, "the error names the key");
  assert.ok(error.message.startsWith(`config ${key}: `), `message starts with the key: ${error.message}`);
  for (const fragment of fragments) assert.ok(error.message.includes(fragment), `message ${JSON.stringify(error.message)} includes ${JSON.stringify(fragment)}`);
}

suite("config values", () => {
  test("ConfigError constructs where Error.prototype.name is read-only, as on Moddable (built-ins frozen at build time)", () => {
    const original = Object.getPrototypeOf(ConfigError.prototype) as object;
    const frozen = Object.freeze(Object.create(Error.prototype, { name: { value: "Error", writable: false } }) as object);
    Object.setPrototypeOf(ConfigError.prototype, frozen);
    try {
      const error = new ConfigError("batch", "bad");
      assert.equal(error.name, "ConfigError");
      assert.equal(error.message, "config batch: bad");
      assert.ok(error instanceof Error, "still an Error");
    } finally {
      Object.setPrototypeOf(ConfigError.prototype, original);
    }
  });

  test("integers: decimal and 0x hex, as text or JSON numbers, inside the range", () => {
    assert.equal(parseInteger("batch", "20", 1, 100), 20);
    assert.equal(parseInteger("batch", " 7 ", 1, 100), 7, "surrounding spaces are trimmed");
    assert.equal(parseInteger("batch", 42, 1, 100), 42, "a JSON number from the manifest");
    assert.equal(parseInteger("address", "0x44", 0, 0x7f), 0x44);
    assert.equal(parseInteger("batch", "1", 1, 100), 1, "the minimum is allowed");
    assert.equal(parseInteger("batch", "100", 1, 100), 100, "the maximum is allowed");
  });

  test("integers: anything else names the key and the value", () => {
    rejected(() => parseInteger("batch", "ten", 1, 100), "batch", '"ten"', "not a whole number");
    rejected(() => parseInteger("batch", "1.5", 1, 100), "batch", "not a whole number");
    rejected(() => parseInteger("batch", "-3", 1, 100), "batch", "not a whole number");
    rejected(() => parseInteger("batch", "1e3", 1, 100), "batch", "not a whole number");
    rejected(() => parseInteger("batch", "", 1, 100), "batch", "not a whole number");
    rejected(() => parseInteger("batch", "0", 1, 100), "batch", "outside 1–100");
    rejected(() => parseInteger("batch", "101", 1, 100), "batch", "outside 1–100");
    rejected(() => parseInteger("batch", 2.5, 1, 100), "batch", "not a whole number");
    rejected(() => parseInteger("batch", null, 1, 100), "batch", "expected text, got null");
    rejected(() => parseInteger("batch", {}, 1, 100), "batch", "expected text, got object");
  });

  test("durations: units ms, s, m, h; a bare number is seconds", () => {
    assert.equal(parseDuration("interval", "500ms", 100, 86_400_000), 500);
    assert.equal(parseDuration("interval", "10s", 100, 86_400_000), 10_000);
    assert.equal(parseDuration("interval", "10", 100, 86_400_000), 10_000);
    assert.equal(parseDuration("interval", 10, 100, 86_400_000), 10_000, "a JSON number counts as seconds too");
    assert.equal(parseDuration("interval", "1.5s", 100, 86_400_000), 1_500);
    assert.equal(parseDuration("interval", "2m", 100, 86_400_000), 120_000);
    assert.equal(parseDuration("interval", "1H", 100, 86_400_000), 3_600_000, "units in any case");
  });

  test("durations: malformed, fractional milliseconds or out of range", () => {
    rejected(() => parseDuration("interval", "10 s", 100, 86_400_000), "interval", '"10 s"', "not a duration");
    rejected(() => parseDuration("interval", "10sec", 100, 86_400_000), "interval", "not a duration");
    rejected(() => parseDuration("interval", "-1s", 100, 86_400_000), "interval", "not a duration");
    rejected(() => parseDuration("interval", "0.0001s", 0, 86_400_000), "interval", "whole milliseconds");
    rejected(() => parseDuration("interval", "50ms", 100, 86_400_000), "interval", "outside 100ms–24h");
    rejected(() => parseDuration("interval", "2d", 100, 86_400_000), "interval", "not a duration");
    rejected(() => parseDuration("keepAlive", "2h", 5_000, 3_600_000), "keepAlive", "outside 5s–1h");
  });

  test("booleans: the usual words in any case", () => {
    for (const word of ["true", "TRUE", "1", "yes", "on", true]) assert.equal(parseBoolean("flag", word), true, String(word));
    for (const word of ["false", "False", "0", "no", "off", false]) assert.equal(parseBoolean("flag", word), false, String(word));
    rejected(() => parseBoolean("reactivateOnAuthFailure", "maybe"), "reactivateOnAuthFailure", '"maybe"', "not a boolean");
    rejected(() => parseBoolean("flag", ""), "flag", "not a boolean");
    rejected(() => parseBoolean("flag", 2), "flag", "not a boolean");
  });

  test("credentials: empty means not given; the text never appears in messages", () => {
    assert.equal(parseCredential("activationCode", ""), undefined);
    assert.equal(parseCredential("activationCode", "  "), undefined, "only spaces is empty");
    const code = "aBcD1234eFgH5678iJkL9012mNoP3456qR";
    assert.equal(parseCredential("activationCode", code), code);
    assert.equal(parseCredential("productId", 1234), "1234", "a JSON number is kept as text");
    const secret = "s3cret-code";
    for (const bad of [`${secret} x`, `${secret}\u00e9`, `${secret}\t1`]) {
      const error = assert.throws(() => parseCredential("activationCode", bad), (e) => e instanceof ConfigError) as ConfigError;
      assert.ok(!error.message.includes(secret), `the code is not echoed: ${error.message}`);
      assert.ok(error.message.includes(`of ${bad.length}`), `the position is given: ${error.message}`);
    }
    rejected(() => parseCredential("activationCode", "x".repeat(129)), "activationCode", "129 characters, at most 128");
  });

  test("log level", () => {
    assert.equal(parseLogLevel("logLevel", "debug"), "debug");
    assert.equal(parseLogLevel("logLevel", "WARN"), "warn");
    rejected(() => parseLogLevel("logLevel", "verbose"), "logLevel", '"verbose"', "debug, info, warn, error");
  });
});

suite("config server", () => {
  test("host names, default port, normalized URI", () => {
    assert.deepEqual(parseServer("server", "coap://coap.thethings.io:5683"), {
      uri: "coap://coap.thethings.io:5683",
      host: "coap.thethings.io",
      port: 5683,
      isIpLiteral: false,
    });
    assert.deepEqual(parseServer("server", "COAP://Example.COM/"), { uri: "coap://example.com:5683", host: "example.com", port: 5683, isIpLiteral: false });
    assert.equal(parseServer("server", "coap://localhost:15683").port, 15683);
    assert.equal(parseServer("server", "coap://my-host.local.:1").host, "my-host.local.", "a fully qualified name with the root dot");
  });

  test("IP literals need no resolving", () => {
    assert.deepEqual(parseServer("server", "coap://127.0.0.1:5683"), { uri: "coap://127.0.0.1:5683", host: "127.0.0.1", port: 5683, isIpLiteral: true });
    assert.deepEqual(parseServer("server", "coap://[::1]:5684"), { uri: "coap://[::1]:5684", host: "::1", port: 5684, isIpLiteral: true });
    assert.deepEqual(parseServer("server", "coap://[fe80::1]"), { uri: "coap://[fe80::1]:5683", host: "fe80::1", port: 5683, isIpLiteral: true });
  });

  test("refuses what the device cannot use, saying why", () => {
    rejected(() => parseServer("server", "coaps://coap.thethings.io"), "server", "coaps (DTLS) is not supported");
    rejected(() => parseServer("server", "http://coap.thethings.io"), "server", "scheme must be coap");
    rejected(() => parseServer("server", "coap.thethings.io:5683"), "server", "not a URI like coap://host:5683");
    rejected(() => parseServer("server", "coap://coap.thethings.io/v2/things"), "server", "only coap://host[:port]");
    rejected(() => parseServer("server", "coap://host?x=1"), "server", "only coap://host[:port]");
    rejected(() => parseServer("server", "coap://host:0"), "server", "bad port");
    rejected(() => parseServer("server", "coap://host:65536"), "server", "bad port");
    rejected(() => parseServer("server", "coap://host:http"), "server", "bad port");
    rejected(() => parseServer("server", "coap://:5683"), "server", "valid host");
    rejected(() => parseServer("server", "coap://bad_host"), "server", "valid host");
    rejected(() => parseServer("server", "coap://-bad.example"), "server", "valid host");
    rejected(() => parseServer("server", "coap://300.1.1.1"), "server", "malformed IPv4");
    rejected(() => parseServer("server", "coap://1.2.3"), "server", "malformed IPv4");
    rejected(() => parseServer("server", "coap://[zz::1]"), "server", "malformed IPv6");
    rejected(() => parseServer("server", "coap://[127.0.0.1]"), "server", "malformed IPv6");
    rejected(() => parseServer("server", "coap://::1"), "server", "valid host");
  });
});
