import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { after, before, test } from "node:test";
import { ChaosProxy, seededRandom } from "../chaos/chaos-proxy.js";

let echo: Socket;
let echoPort = 0;

before(async () => {
  echo = createSocket("udp4");
  echo.on("message", (bytes, from) => echo.send(bytes, from.port, from.address));
  await new Promise<void>((resolve) => echo.bind(0, "127.0.0.1", resolve));
  echoPort = echo.address().port;
});

after(() => echo.close());

/** Sends `count` numbered datagrams through the proxy and collects what comes back within `waitMs`. */
async function roundTrip(proxy: ChaosProxy, count: number, waitMs = 300): Promise<number[]> {
  const port = await proxy.start();
  const client = createSocket("udp4");
  const received: number[] = [];
  client.on("message", (bytes) => received.push(bytes.readUInt16BE(0)));
  await new Promise<void>((resolve) => client.bind(0, "127.0.0.1", resolve));
  for (let i = 0; i < count; i++) {
    const datagram = Buffer.alloc(2);
    datagram.writeUInt16BE(i);
    client.send(datagram, port, "127.0.0.1");
    await new Promise((resolve) => setImmediate(resolve));
  }
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  client.close();
  await proxy.stop();
  return received;
}

test("with no faults every datagram goes through once and in order", async () => {
  const proxy = new ChaosProxy({ target: { address: "127.0.0.1", port: echoPort }, seed: 1 });
  const received = await roundTrip(proxy, 50);
  assert.deepEqual(
    received,
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.equal(proxy.toServer.counters.forwarded, 50);
});

test("total loss toward the server delivers nothing and counts every drop", async () => {
  const proxy = new ChaosProxy({ target: { address: "127.0.0.1", port: echoPort }, seed: 2, toServer: { loss: 1 } });
  const received = await roundTrip(proxy, 20);
  assert.equal(received.length, 0);
  assert.equal(proxy.toServer.counters.dropped, 20);
});

test("duplication and reordering are applied and counted", async () => {
  const proxy = new ChaosProxy({
    target: { address: "127.0.0.1", port: echoPort },
    seed: 3,
    toDevice: { duplicate: 0.5, reorder: 0.3 },
  });
  const received = await roundTrip(proxy, 100);
  const { duplicated, reordered } = proxy.toDevice.counters;
  assert.ok(duplicated > 10, `duplicated ${duplicated}`);
  assert.ok(reordered > 5, `reordered ${reordered}`);
  assert.equal(received.length, 100 + duplicated);
  assert.deepEqual(
    [...new Set(received)].sort((a, b) => a - b),
    Array.from({ length: 100 }, (_, i) => i),
  );
  assert.ok(
    received.some((value, i) => i > 0 && value < received[i - 1]!),
    "some datagram arrived out of order",
  );
});

test("an outage drops both directions until it ends", async () => {
  const proxy = new ChaosProxy({ target: { address: "127.0.0.1", port: echoPort }, seed: 4 });
  proxy.setDown(true);
  const received = await roundTrip(proxy, 10);
  assert.equal(received.length, 0);
  assert.equal(proxy.toServer.counters.droppedByOutage, 10);
});

test("the same seed gives the same fault sequence", () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const c = seededRandom(43);
  const first = Array.from({ length: 8 }, () => a());
  assert.deepEqual(
    first,
    Array.from({ length: 8 }, () => b()),
  );
  assert.notDeepEqual(
    first,
    Array.from({ length: 8 }, () => c()),
  );
  assert.ok(first.every((x) => x >= 0 && x < 1));
});
