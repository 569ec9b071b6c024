// The server setting (device/server-uri.ts): coap URIs as typed, checked and normalized, and the
// reason for every refusal.

import { parseServer } from "../../device/server-uri.js";
import * as assert from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { rejected } from "./config-rejected.js";

suite("config server", () => {
  test("host names, default port, normalized URI", () => {
    assert.deepEqual(parseServer("server", "coap://coap.thethings.io:5683"), {
      uri: "coap://coap.thethings.io:5683",
      host: "coap.thethings.io",
      port: 5683,
      isIpLiteral: false,
    });
    assert.deepEqual(parseServer("server", "COAP://Example.COM/"), {
      uri: "coap://example.com:5683",
      host: "example.com",
      port: 5683,
      isIpLiteral: false,
    });
    assert.equal(parseServer("server", "coap://localhost:15683").port, 15683);
    assert.equal(
      parseServer("server", "coap://my-host.local.:1").host,
      "my-host.local.",
      "a fully qualified name with the root dot",
    );
  });

  test("IP literals need no resolving", () => {
    assert.deepEqual(parseServer("server", "coap://127.0.0.1:5683"), {
      uri: "coap://127.0.0.1:5683",
      host: "127.0.0.1",
      port: 5683,
      isIpLiteral: true,
    });
    assert.deepEqual(parseServer("server", "coap://[::1]:5684"), {
      uri: "coap://[::1]:5684",
      host: "::1",
      port: 5684,
      isIpLiteral: true,
    });
    assert.deepEqual(parseServer("server", "coap://[fe80::1]"), {
      uri: "coap://[fe80::1]:5683",
      host: "fe80::1",
      port: 5683,
      isIpLiteral: true,
    });
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
