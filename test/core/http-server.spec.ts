// The HTTP server on a fake TCP network and the fake clock: well-formed requests reach the
// handler whole, however they are cut into pieces; every cap answers with its status before the
// handler sees anything; slow clients are timed out; the connection count is bounded.

import type { HttpRequest } from "../../http/request-parser.js";
import { HttpServer } from "../../http/server.js";
import { encodeUtf8 } from "../../kernel/utf8.js";
import { deepEqual, equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { FakeClock } from "../sim/fake-clock.js";
import { FakeTcpNetwork } from "../sim/fake-tcp.js";

async function serve(limits: ConstructorParameters<typeof HttpServer>[0]["limits"] = {}) {
  const clock = new FakeClock();
  const network = new FakeTcpNetwork();
  const seen: HttpRequest[] = [];
  const logs: string[] = [];
  const server = new HttpServer({
    listen: network.listen,
    port: 8080,
    clock,
    log: (level, message) => logs.push(`${level}: ${message}`),
    limits,
    handler: (request) => {
      seen.push(request);
      if (request.path === "/throw") throw new Error("boom");
      if (request.path === "/later") return Promise.resolve({ status: 200, body: "later" });
      return { status: 200, contentType: "text/html; charset=utf-8", body: "<p>Señal ✓</p>" };
    },
  });
  equal(await server.listen(), 8080);
  return { clock, network, seen, logs, server };
}

const GET = "GET / HTTP/1.1\r\nHost: 192.168.4.1\r\n\r\n";

suite("http server", () => {
  test("a GET reaches the handler; the response's Content-Length counts UTF-8 bytes and the connection closes", async () => {
    const { network, seen } = await serve();
    const client = network.connect();
    client.send(GET);
    await Promise.resolve();
    equal(seen.length, 1);
    equal(seen[0]!.method, "GET");
    equal(seen[0]!.host, "192.168.4.1");
    equal(client.status, 200);
    equal(client.header("content-length"), String(encodeUtf8("<p>Señal ✓</p>").length));
    equal(client.header("connection"), "close");
    equal(client.header("cache-control"), "no-store");
    equal(client.body, "<p>Señal ✓</p>");
    ok(client.closedByServer && !client.destroyed, "ended after the response, not cut");
  });

  test("a request cut into single bytes, with a query, a body and bare-LF lines, arrives whole", async () => {
    const { network, seen } = await serve();
    const client = network.connect();
    const body = "activationCode=a%2Bb&x=%C3%B1";
    const text = `POST /setup?step=1 HTTP/1.1\nHost: h\nContent-Type: application/x-www-form-urlencoded\nContent-Length: ${body.length}\n\n${body}`;
    for (const byte of encodeUtf8(text)) client.send(Uint8Array.of(byte));
    await Promise.resolve();
    equal(seen.length, 1);
    equal(seen[0]!.path, "/setup");
    equal(seen[0]!.query, "step=1");
    equal(seen[0]!.contentType, "application/x-www-form-urlencoded");
    equal(String.fromCharCode(...seen[0]!.body), body);
    equal(client.status, 200);
  });

  test("HEAD gets the length and no body; an absolute-form target takes its host from the target", async () => {
    const { network, seen } = await serve();
    const head = network.connect();
    head.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    await Promise.resolve();
    equal(head.status, 200);
    equal(head.body, "");
    ok(Number(head.header("content-length")) > 0);
    const absolute = network.connect();
    absolute.send("GET http://connectivitycheck.gstatic.com/generate_204 HTTP/1.1\r\nHost: ignored\r\n\r\n");
    await Promise.resolve();
    equal(seen[1]!.host, "connectivitycheck.gstatic.com");
    equal(seen[1]!.path, "/generate_204");
  });

  test("malformed requests get 400 and never reach the handler", async () => {
    const cases = [
      "GET /\r\n\r\n",
      "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET / HTTP/1.1 \r\nHost: h\r\n\r\n",
      "G(T / HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET / HTTQ/1.1\r\nHost: h\r\n\r\n",
      "GET / HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
      "GET / HTTP/1.1\r\nHost : h\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",
      "GET / HTTP/1.1\rHost: h\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\u0001\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
      "GET relative HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET /\u00e9 HTTP/1.1\r\nHost: h\r\n\r\n",
    ];
    const { network, seen } = await serve();
    for (const text of cases) {
      const client = network.connect();
      client.send(text);
      await Promise.resolve();
      equal(client.status, 400, JSON.stringify(text));
      ok(client.closedByServer, "closed after the 400");
    }
    equal(seen.length, 0);
  });

  test("each cap answers with its status: 414, 431, 413, 411, 501, 505", async () => {
    const { network, seen, server } = await serve();
    const limits = server.limits;
    const expect = async (text: string, status: number) => {
      const client = network.connect();
      client.send(text);
      await Promise.resolve();
      equal(client.status, status, text.slice(0, 40));
    };
    await expect(`GET /${"a".repeat(limits.lineBytes)} HTTP/1.1\r\nHost: h\r\n\r\n`, 414);
    await expect(`GET / HTTP/1.1\r\nHost: h\r\nX: ${"b".repeat(limits.lineBytes)}\r\n\r\n`, 431);
    const many = Array.from({ length: limits.headerCount + 1 }, (_, i) => `X-${i}: 1\r\n`).join("");
    await expect(`GET / HTTP/1.1\r\nHost: h\r\n${many}\r\n`, 431);
    const big = Array.from({ length: 8 }, (_, i) => `X-${i}: ${"c".repeat(limits.lineBytes - 10)}\r\n`).join("");
    await expect(`GET / HTTP/1.1\r\nHost: h\r\n${big}\r\n`, 431);
    await expect(`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${limits.bodyBytes + 1}\r\n\r\n`, 413);
    await expect("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 411);
    await expect(`${"M".repeat(17)} / HTTP/1.1\r\nHost: h\r\n\r\n`, 501);
    await expect("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
    equal(seen.length, 0);
    equal(server.counters.rejected, 8);
  });

  test("an HTTP/1.0 request needs no Host; a body of exactly the cap is taken", async () => {
    const { network, seen, server } = await serve();
    const old = network.connect();
    old.send("GET / HTTP/1.0\r\n\r\n");
    await Promise.resolve();
    equal(old.status, 200);
    const full = network.connect();
    full.send(`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${server.limits.bodyBytes}\r\n\r\n`);
    full.send("z".repeat(server.limits.bodyBytes));
    await Promise.resolve();
    equal(full.status, 200);
    equal(seen[1]!.body.length, server.limits.bodyBytes);
  });

  test("a slow client gets 408 at the request timeout; one that sent nothing is closed silently", async () => {
    const { network, clock, server, seen } = await serve({ requestTimeoutMs: 10_000 });
    const slow = network.connect();
    const silent = network.connect();
    slow.send("GET / HTTP/1.1\r\nHo");
    await clock.advance(9_999);
    equal(slow.status, undefined, "still within the timeout");
    await clock.advance(1);
    equal(slow.status, 408);
    ok(silent.closedByServer && silent.text === "", "nothing sent, nothing answered");
    equal(server.counters.timedOut, 1);
    await clock.advance(server.limits.lingerMs);
    equal(server.connections, 0, "every slot is free again");
    equal(seen.length, 0);
  });

  test("a client that never reads the response is dropped after the linger time", async () => {
    const { network, clock, server } = await serve();
    const client = network.connect();
    client.send(GET);
    await Promise.resolve();
    // The fake delivers at once; the server still holds the slot until the close is confirmed.
    equal(server.connections, 0);
    await clock.advance(server.limits.lingerMs);
    equal(clock.pendingTimers, 0, "no timer left");
  });

  test("past the connection cap a new connection gets 503 and is closed; the others are served", async () => {
    const { network, server } = await serve({ connections: 2 });
    const a = network.connect();
    const b = network.connect();
    const c = network.connect();
    equal(c.status, 503);
    equal(c.header("retry-after"), "1");
    equal(server.counters.refused, 1);
    a.send(GET);
    b.send(GET);
    await Promise.resolve();
    deepEqual([a.status, b.status], [200, 200]);
    const d = network.connect();
    d.send(GET);
    await Promise.resolve();
    equal(d.status, 200, "the slots came back");
  });

  test("a handler that throws or resolves later: 500 with a log line, and the later answer", async () => {
    const { network, logs } = await serve();
    const failing = network.connect();
    failing.send("GET /throw HTTP/1.1\r\nHost: h\r\n\r\n");
    const later = network.connect();
    later.send("GET /later HTTP/1.1\r\nHost: h\r\n\r\n");
    await Promise.resolve();
    await Promise.resolve();
    await Promise.resolve();
    equal(failing.status, 500);
    ok(
      logs.some((line) => line.startsWith("error: http: handler failed on GET /throw")),
      logs.join("\n"),
    );
    equal(later.body, "later");
  });

  test("bytes after the request and a client that goes away mid-request change nothing; close() is safe twice", async () => {
    const { network, seen, server, clock } = await serve();
    const pipelined = network.connect();
    pipelined.send(`${GET}${GET}`);
    await Promise.resolve();
    equal(seen.length, 1, "one request per connection");
    const gone = network.connect();
    gone.send("GET / HT");
    gone.close();
    equal(server.connections, 0);
    const open = network.connect();
    server.close();
    server.close();
    ok(open.closedByServer);
    ok(!network.listening);
    await clock.advance(60_000);
    equal(clock.pendingTimers, 0);
  });

  test("a port that cannot be had rejects listen()", async () => {
    const network = new FakeTcpNetwork();
    network.busyPorts.add(80);
    const server = new HttpServer({
      listen: network.listen,
      port: 80,
      clock: new FakeClock(),
      log: () => undefined,
      handler: () => ({ status: 200 }),
    });
    let failed = "";
    await server.listen().catch((error: unknown) => {
      failed = String(error);
    });
    ok(failed.includes("port 80 in use"), failed);
  });
});
