// The endpoint against real CoAP servers over loopback UDP: node-coap's server (in process) and
// libcoap's coap-server-notls (a child process). GET, POST, separate responses, Observe with
// cancellation, and a 5 KB body over Block2 from each.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as dgram from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as coap from "coap";
import type { CoapResponse } from "../../coap/client-api.js";
import { Code } from "../../coap/codes.js";
import { CoapEndpoint, type EndpointOptions } from "../../coap/endpoint.js";
import { OptionNumber } from "../../coap/options.js";
import type { PeerAddress } from "../../coap/peer-address.js";
import { NodeClock } from "../../host/node-clock.js";
import { NodeRandom } from "../../host/node-random.js";
import { NodeDatagramPort } from "../../host/node-udp.js";
import { decodeUtf8 } from "../../kernel/utf8.js";

const LOOPBACK = "127.0.0.1";
const text = (r: CoapResponse): string => decodeUtf8(r.payload);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A body whose every byte position is checkable: "0000 0001 0002 …" style, 5000 bytes. */
function fiveKilobytes(): string {
  let body = "";
  for (let i = 0; body.length < 5000; i++) body += `${String(i).padStart(5, "0")}|`;
  return body.slice(0, 5000);
}

async function waitFor(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function openEndpoint(server: PeerAddress, extra: Partial<EndpointOptions> = {}): Promise<CoapEndpoint> {
  const port = await NodeDatagramPort.open({ address: LOOPBACK });
  return new CoapEndpoint({ port, server, clock: new NodeClock(), random: new NodeRandom(), ...extra });
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket("udp4");
    socket.once("error", reject);
    socket.bind(0, LOOPBACK, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

describe("endpoint against node-coap's server", () => {
  let server: coap.Server;
  let address: PeerAddress;
  let endpoint: CoapEndpoint;
  const big = fiveKilobytes();
  let observeWrites = 0;
  let observeFinished = false;

  before(async () => {
    server = coap.createServer((req, res) => {
      const path = req.url.split("?")[0];
      if (path === "/hello" && req.method === "GET") {
        res.setOption("Content-Format", "text/plain");
        res.end("world");
      } else if (path === "/echo" && req.method === "POST") {
        res.code = "2.01";
        res.end(Buffer.concat([Buffer.from("got:"), req.payload]));
      } else if (path === "/big") {
        res.end(Buffer.from(big));
      } else if (path === "/obs" && req.headers.Observe === 0) {
        let n = 0;
        res.write(`n${n++}`);
        const timer = setInterval(() => {
          observeWrites++;
          res.write(`n${n++}`);
        }, 100);
        res.on("finish", () => {
          clearInterval(timer);
          observeFinished = true;
        });
      } else if (path === "/obs") {
        res.end("not observing");
      } else {
        res.code = "4.04";
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, LOOPBACK, () => resolve()));
    const port = (server as unknown as { _sock: dgram.Socket })._sock.address().port;
    address = { address: LOOPBACK, port };
    endpoint = await openEndpoint(address);
  });

  after(async () => {
    endpoint.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("GET", { timeout: 10_000 }, async () => {
    const response = await endpoint.request({ method: "GET", path: "/hello" });
    assert.equal(response.code, Code.Content);
    assert.equal(text(response), "world");
    assert.ok(response.options.some((o) => o.number === OptionNumber.ContentFormat));
  });

  it("POST with a payload", { timeout: 10_000 }, async () => {
    const response = await endpoint.request({ method: "POST", path: "/echo", payload: "ping", contentFormat: 0 });
    assert.equal(response.code, Code.Created);
    assert.equal(text(response), "got:ping");
  });

  it("an unknown path is 4.04, delivered as a response", { timeout: 10_000 }, async () => {
    const response = await endpoint.request({ method: "GET", path: "/nothing" });
    assert.equal(response.code, Code.NotFound);
  });

  it("a 5 KB body over Block2, whole and once", { timeout: 10_000 }, async () => {
    const before = endpoint.stats.blockRequests;
    const response = await endpoint.request({ method: "GET", path: "/big" });
    assert.equal(response.payload.length, 5000);
    assert.equal(text(response), big);
    assert.equal(endpoint.stats.blockRequests - before, 4, "blocks 1..4 of 1024 bytes after block 0");
    assert.ok(!response.options.some((o) => o.number === OptionNumber.Block2));
  });

  it("a 5 KB body in 64-byte blocks when the client asks for them", { timeout: 10_000 }, async () => {
    const small = await openEndpoint(address, { preferredBlockSzx: 2 });
    try {
      const response = await small.request({ method: "GET", path: "/big" });
      assert.equal(text(response), big);
      assert.equal(small.stats.blockRequests, Math.ceil(5000 / 64) - 1);
    } finally {
      small.close();
    }
  });

  it("Observe: notifications arrive in order; after cancel the server stops sending", { timeout: 15_000 }, async () => {
    const seen: string[] = [];
    const observation = endpoint.observe(
      { method: "GET", path: "/obs" },
      { onNotification: (r) => seen.push(text(r)) },
    );
    await waitFor("5 notifications", () => seen.length >= 5, 5000);
    assert.deepEqual(seen.slice(0, 5), ["n0", "n1", "n2", "n3", "n4"]);
    await observation.cancel();
    assert.equal(observation.active, false);
    await waitFor("the server to end the stream", () => observeFinished, 5000);
    const writes = observeWrites;
    const received = endpoint.stats.datagramsReceived;
    await sleep(500);
    assert.equal(observeWrites, writes, "no more notifications written");
    assert.equal(endpoint.stats.datagramsReceived, received, "nothing more arrives");
    const count = seen.length;
    await sleep(200);
    assert.equal(seen.length, count, "nothing delivered after cancel");
  });
});

describe("endpoint against libcoap's coap-server-notls", () => {
  let child: ChildProcess | undefined;
  let address: PeerAddress;
  let endpoint: CoapEndpoint;
  let workDir: string;
  const big = fiveKilobytes();

  before(async () => {
    workDir = mkdtempSync(join(tmpdir(), "endpoint-peers-"));
    // A free port can be taken between closing the probe socket and the server binding it: retry.
    for (let attempt = 0; attempt < 5 && child === undefined; attempt++) {
      const port = await freeUdpPort();
      const candidate = spawn("coap-server-notls", ["-A", LOOPBACK, "-p", String(port), "-d", "10", "-v", "0"], {
        stdio: "ignore",
      });
      let exited = false;
      candidate.once("exit", () => {
        exited = true;
      });
      const probe = await openEndpoint(
        { address: LOOPBACK, port },
        { parameters: { ackTimeoutMs: 100, maxRetransmit: 1 } },
      );
      let up = false;
      for (let i = 0; i < 20 && !up && !exited; i++) {
        up = await probe.ping().then(
          () => true,
          () => false,
        );
      }
      probe.close();
      if (up) {
        child = candidate;
        address = { address: LOOPBACK, port };
      } else candidate.kill();
    }
    assert.ok(child !== undefined, "coap-server-notls started");
    endpoint = await openEndpoint(address);
    // Upload the body with libcoap's own client, Block1 in 1024-byte blocks.
    const file = join(workDir, "5k.txt");
    writeFileSync(file, big);
    const put = spawnSync(
      "coap-client-notls",
      ["-m", "put", "-b", "1024", "-f", file, `coap://${LOOPBACK}:${address.port}/example_data`],
      { timeout: 10_000, encoding: "utf8" },
    );
    assert.equal(put.status, 0, `coap-client-notls put: ${put.stderr}`);
  });

  after(() => {
    endpoint?.close();
    child?.kill();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("GET", { timeout: 10_000 }, async () => {
    const response = await endpoint.request({ method: "GET", path: "/" });
    assert.equal(response.code, Code.Content);
    assert.match(text(response), /libcoap/);
  });

  it("POST creates a resource (2.01 with Location-Path); a second POST changes it", { timeout: 10_000 }, async () => {
    const created = await endpoint.request({ method: "POST", path: "/made-by-endpoint", payload: "v1" });
    assert.equal(created.code, Code.Created);
    assert.ok(created.options.some((o) => o.number === OptionNumber.LocationPath));
    const changed = await endpoint.request({ method: "POST", path: "/made-by-endpoint", payload: "v2" });
    assert.equal(changed.code, Code.Changed);
    const read = await endpoint.request({ method: "GET", path: "/made-by-endpoint" });
    assert.equal(text(read), "v2");
  });

  it("a separate response: /async answers with an empty ACK, then a CON 2.05", { timeout: 10_000 }, async () => {
    const before = endpoint.stats.acksSent;
    const response = await endpoint.request({ method: "GET", path: "/async", query: { "1": true } });
    assert.equal(response.code, Code.Content);
    assert.equal(text(response), "done");
    assert.equal(endpoint.stats.acksSent - before, 1, "the separate CON response was acknowledged");
  });

  it("a 5 KB body over Block2, whole and once", { timeout: 10_000 }, async () => {
    const response = await endpoint.request({ method: "GET", path: "/example_data" });
    assert.equal(response.payload.length, 5000);
    assert.equal(text(response), big);
  });

  it("the same body in 64-byte blocks (early negotiation)", { timeout: 10_000 }, async () => {
    const small = await openEndpoint(address, { preferredBlockSzx: 2 });
    try {
      const response = await small.request({ method: "GET", path: "/example_data" });
      assert.equal(text(response), big);
      assert.equal(small.stats.blockRequests, Math.ceil(5000 / 64) - 1);
    } finally {
      small.close();
    }
  });

  it("Observe /time: notifications arrive; after cancel the server stops sending", { timeout: 15_000 }, async () => {
    const seen: string[] = [];
    const observation = endpoint.observe(
      { method: "GET", path: "/time" },
      { onNotification: (r) => seen.push(text(r)) },
    );
    await waitFor("3 notifications", () => seen.length >= 3, 6000);
    assert.ok(
      seen.every((s) => /\d\d:\d\d:\d\d/.test(s)),
      `time strings: ${JSON.stringify(seen)}`,
    );
    await observation.cancel();
    const received = endpoint.stats.datagramsReceived;
    const count = seen.length;
    await sleep(2500);
    assert.equal(endpoint.stats.datagramsReceived, received, "libcoap sends nothing after the deregistration");
    assert.equal(seen.length, count);
  });
});
