// The endpoint under a hostile peer, larger runs than the core spec: 50,000 datagrams per
// attacker over the simulated network (where the server's address can be forged), and a real
// loopback run against node-coap's server with hostile sockets spraying the endpoint's port from
// other ports (a socket cannot send from the server's own port). `npm run fuzz` runs 10^6.
import assert from "node:assert/strict";
import * as dgram from "node:dgram";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as coap from "coap";
import { CoapRequestError } from "../../coap/client-api.js";
import { CoapEndpoint } from "../../coap/endpoint.js";
import type { PeerAddress } from "../../coap/peer-address.js";
import { NodeClock } from "../../host/node-clock.js";
import { NodeRandom } from "../../host/node-random.js";
import { NodeDatagramPort } from "../../host/node-udp.js";
import { decodeUtf8 } from "../../kernel/utf8.js";
import { SeededRandom } from "../fuzz/datagram-fuzz.js";
import { type EndpointFuzzSummary, judgeEndpointFuzz, runEndpointFuzz } from "../fuzz/endpoint-fuzz.js";
import { HostilePeer } from "../fuzz/hostile-peer.js";
import { TapPort } from "../fuzz/tap-port.js";

const LOOPBACK = "127.0.0.1";
/**
 * Hostile datagrams sent but not yet read by the endpoint, at most. A socket's default receive
 * buffer (212,992 B on Linux) holds about 270 small datagrams; past that the kernel drops, and a
 * lost NON request or response is the network's doing, not the attacker's forgery.
 */
const MAX_HOSTILE_IN_FLIGHT = 100;
/** The spray lasts at least 200 timer ticks of 2 ms: 0.4 s, so 20 notifications or so at the least. */
const NOTIFY_EVERY_MS = 20;
/** A NON exchange whose datagram was lost ends as "timeout" in this long, not NON_LIFETIME's 145 s. */
const NON_TIMEOUT_MS = 5_000;

/** The kernel's count of UDP datagrams dropped for a full receive buffer (Linux), or undefined. */
function udpReceiveBufferErrors(): number | undefined {
  try {
    const lines = readFileSync("/proc/net/snmp", "utf8")
      .split("\n")
      .filter((line) => line.startsWith("Udp:"));
    const names = lines[0]?.split(/\s+/) ?? [];
    const values = lines[1]?.split(/\s+/) ?? [];
    const at = names.indexOf("RcvbufErrors");
    return at > 0 ? Number(values[at]) : undefined;
  } catch {
    return undefined;
  }
}

function brief(s: EndpointFuzzSummary): string[] {
  const failed =
    Object.entries(s.exchanges.failed)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ") || "none";
  return [
    `${s.profile}: ${s.hostile.total} datagrams (${s.hostile.fromServer} from the server's address, ${s.hostile.undecodableFromServer} of them undecodable; ${s.hostile.foreign} from others), ${Math.round(s.simulatedMs / 1000)} s simulated`,
    `exchanges ${s.exchanges.attempted}: real answer ${s.exchanges.authentic}, forged ${s.exchanges.forged}, failed ${failed}`,
    `notifications sent ${s.notifications.sent}: real delivered ${s.notifications.authentic}, forged ${s.notifications.forged}, lost ${s.notifications.lost}, back ${s.notifications.reestablished}`,
    `dropped foreign ${s.stats.droppedForeign}, malformed ${s.stats.droppedMalformed}, unmatched ${s.stats.droppedUnmatched}, critical ${s.stats.rejectedCritical}; duplicates ${s.stats.duplicates}; RST sent ${s.stats.rstSent}`,
    `timers at most ${s.maxPendingTimers}; recovery: exchange in ${s.recovery.exchangeAttempts} attempt(s), notification after ${Math.round(s.recovery.notificationAfterMs ?? -1)} ms`,
  ];
}

for (const profile of ["blind", "on-path"] as const) {
  test(`${profile} attacker, 50,000 datagrams over the simulated network`, { timeout: 60_000 }, async (t) => {
    const summary = await runEndpointFuzz({ count: 50_000, seed: profile === "blind" ? 0x50b1 : 0x50a7, profile });
    for (const line of brief(summary)) t.diagnostic(line);
    assert.deepEqual(judgeEndpointFuzz(summary), []);
    assert.equal(summary.hostile.total, 50_000);
    assert.ok(summary.exchanges.authentic > 2_000, "thousands of real exchanges completed during the attack");
    assert.ok(summary.notifications.sent > 40, "the server kept notifying");
  });
}

test("real UDP: 5,000 hostile datagrams from other ports, with the live tokens and IDs, change nothing", {
  timeout: 30_000,
}, async (t) => {
  let notified = 0;
  let observerGone = false;
  const server = coap.createServer((req, res) => {
    const path = req.url.split("?")[0];
    if (path === "/echo" && req.method === "POST") {
      res.code = "2.04";
      res.end(Buffer.concat([Buffer.from("echo:"), req.payload]));
    } else if (path === "/obs" && req.headers.Observe === 0) {
      res.write(`n${notified}`);
      const timer = setInterval(() => res.write(`n${++notified}`), NOTIFY_EVERY_MS);
      res.on("finish", () => {
        clearInterval(timer);
        observerGone = true;
      });
    } else {
      res.code = "4.04";
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, () => resolve()));
  const serverAddress: PeerAddress = {
    address: LOOPBACK,
    port: (server as unknown as { _sock: dgram.Socket })._sock.address().port,
  };
  const udp = await NodeDatagramPort.open({ address: LOOPBACK });
  const target = udp.localAddress;
  const tap = new TapPort(udp);
  const errors: string[] = [];
  const endpoint = new CoapEndpoint({
    port: tap,
    server: serverAddress,
    clock: new NodeClock(),
    random: new NodeRandom(),
    log: (level, text) => void (level === "error" && errors.push(text)),
    nonTimeoutMs: NON_TIMEOUT_MS,
  });
  const kernelDropsBefore = udpReceiveBufferErrors();
  const hostile = await Promise.all(
    [0, 1].map(
      () =>
        new Promise<dgram.Socket>((resolve) => {
          const socket = dgram.createSocket("udp4");
          socket.bind(0, LOOPBACK, () => resolve(socket));
        }),
    ),
  );
  try {
    const seen: string[] = [];
    const observation = endpoint.observe(
      { method: "GET", path: "/obs" },
      { onNotification: (r) => seen.push(decodeUtf8(r.payload)) },
    );
    // The attacker sees the live traffic (TapPort) and forges with its tokens and IDs, but can only
    // send from its own ports.
    const peer = new HostilePeer({
      random: new SeededRandom(0x0d9a),
      profile: "on-path",
      server: serverAddress,
      live: tap,
    });
    let sprayed = 0;
    let spraying = true;
    const spray = (async () => {
      while (sprayed < 5_000) {
        // Bounded wait: if the kernel lost some, the count below says so instead of a hang.
        const patience = Date.now() + 2_000;
        while (sprayed - endpoint.stats.droppedForeign > MAX_HOSTILE_IN_FLIGHT && Date.now() < patience)
          await new Promise((resolve) => setTimeout(resolve, 1));
        for (let i = 0; i < 25; i++, sprayed++)
          hostile[sprayed % 2]!.send(peer.next().bytes, target.port, target.address);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      spraying = false;
    })();
    let attempted = 0;
    let authentic = 0;
    const failures: string[] = [];
    while (spraying) {
      const id = `q${++attempted}`;
      try {
        const response = await endpoint.request({
          method: "POST",
          path: "/echo",
          payload: id,
          confirmable: attempted % 4 !== 0,
        });
        if (decodeUtf8(response.payload) === `echo:${id}`) authentic++;
        else failures.push(`${id}: ${decodeUtf8(response.payload)}`);
      } catch (error) {
        failures.push(`${id}: ${error instanceof CoapRequestError ? error.kind : String(error)}`);
      }
    }
    await spray;
    // Every hostile datagram arrives (loopback) and is dropped as foreign, none answered.
    const deadline = Date.now() + 3_000;
    while (endpoint.stats.droppedForeign < sprayed && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const stats = endpoint.stats;
    const kernelDropsAfter = udpReceiveBufferErrors();
    const kernelDrops =
      kernelDropsBefore === undefined || kernelDropsAfter === undefined
        ? "unknown"
        : `${kernelDropsAfter - kernelDropsBefore} (machine-wide)`;
    t.diagnostic(
      `${sprayed} hostile datagrams; ${attempted} exchanges, ${authentic} answered by the server; ${seen.length} notifications; droppedForeign ${stats.droppedForeign}, droppedUnmatched ${stats.droppedUnmatched}, rstSent ${stats.rstSent}; kernel receive-buffer drops ${kernelDrops}`,
    );
    assert.equal(
      stats.droppedForeign,
      sprayed,
      `every hostile datagram dropped as foreign; kernel drops ${kernelDrops}`,
    );
    assert.deepEqual(failures, [], `every exchange got the server's own answer; kernel drops ${kernelDrops}`);
    assert.ok(attempted > 20, `${attempted} exchanges ran during the spray`);
    assert.equal(stats.droppedMalformed, 0, "nothing from the server was malformed");
    assert.equal(stats.rstSent, 0, "nothing was answered: no RST to anyone");
    assert.ok(seen.length > 10, `${seen.length} notifications during the spray`);
    assert.ok(
      seen.every((body) => /^n\d+$/.test(body)),
      "only the server's notifications delivered",
    );
    assert.deepEqual(errors, []);
    await observation.cancel();
    const gone = Date.now() + 3_000;
    while (!observerGone && Date.now() < gone) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(observerGone, "the observation was still cancelled at the server afterwards");
  } finally {
    endpoint.close();
    for (const socket of hostile) socket.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
