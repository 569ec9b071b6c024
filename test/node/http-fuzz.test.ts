// HTTP fuzz over loopback: 10,000 malformed, truncated and oversized requests against the PC
// runner's setup portal (node:net, the real server and page), a few connections at a time,
// more than the connection cap. No exception escapes, each complete request gets an answer
// with a status the server may send, nothing is left open, the heap stays bounded, and the
// page still answers a valid request afterwards.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { DeviceEvent } from "../../device/app.js";
import { runDevice } from "../../host/run-device.js";
import { SeededRandom } from "../sim/seeded-random.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const REQUESTS = 10_000;
const PARALLEL = 6;
const ALLOWED = new Set([200, 302, 303, 400, 404, 405, 408, 411, 413, 414, 415, 431, 501, 503, 505]);

const stateDir = mkdtempSync(join(tmpdir(), "http-fuzz-"));
after(() => rmSync(stateDir, { recursive: true, force: true }));

/** One request: its bytes, and whether it is complete (an answer is due) or cut short. */
function generate(random: SeededRandom): { bytes: Buffer; complete: boolean } {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random.next() * items.length)]!;
  const n = (max: number): number => Math.floor(random.next() * max);
  const valid = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  const form = "activationCode=a%ZZ";
  switch (n(12)) {
    case 0:
      return { bytes: Buffer.from(Array.from({ length: n(3000) + 1 }, () => n(256))), complete: false };
    case 1: {
      const bytes = Buffer.from(valid);
      for (let i = 0; i < 3; i++) bytes[n(bytes.length - 4)] = n(256);
      return { bytes, complete: false };
    }
    case 2:
      return { bytes: Buffer.from(valid.slice(0, n(valid.length - 1))), complete: false };
    case 3:
      return { bytes: Buffer.from(`GET /${"a".repeat(1000 + n(5000))} HTTP/1.1\r\nHost: h\r\n\r\n`), complete: true };
    case 4: {
      const headers = Array.from({ length: 30 + n(60) }, (_, i) => `X-${i}: ${"v".repeat(n(200))}\r\n`).join("");
      return { bytes: Buffer.from(`GET / HTTP/1.1\r\nHost: h\r\n${headers}\r\n`), complete: true };
    }
    case 5:
      return {
        bytes: Buffer.from(`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${2049 + n(1e9)}\r\n\r\n`),
        complete: true,
      };
    case 6:
      return {
        bytes: Buffer.from(
          `POST / HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
            `Content-Length: ${form.length}\r\n\r\n${form}`,
        ),
        complete: true,
      };
    case 7:
      return {
        bytes: Buffer.from(
          `${pick(["PUT", "DELETE", "PATCH", "OPTIONS", "BREW", "get"])} ${pick(["/", "/status", "/forget", "/x"])} HTTP/1.1\r\nHost: h\r\n\r\n`,
        ),
        complete: true,
      };
    case 8:
      return {
        bytes: Buffer.from(`GET / HTTP/${pick(["2.0", "1.2", "0.9", "1.x", "11"])}\r\nHost: h\r\n\r\n`),
        complete: true,
      };
    case 9: {
      const junk = Array.from({ length: n(40) + 1 }, () => pick(["\r", "\n", " ", ":", "\u0000", "é", "\t", "a"])).join(
        "",
      );
      return { bytes: Buffer.from(`GET / HTTP/1.1\r\nHost: h\r\nX${junk}\r\n\r\n`), complete: false };
    }
    case 10:
      return {
        bytes: Buffer.from(
          `POST / HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 2048\r\n\r\n` +
            "activationCode=".padEnd(2048, "%C3%A9"),
        ),
        complete: true,
      };
    default:
      return {
        bytes: Buffer.from(pick(["GET /status HTTP/1.1\r\nHost: h\r\n\r\n", valid, "HEAD / HTTP/1.0\r\n\r\n"])),
        complete: true,
      };
  }
}

/** Sends one request; resolves the status line's code (0 when cut short or not answered). */
function send(port: number, bytes: Buffer, complete: boolean): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let head = "";
    socket.on("error", () => resolve(0));
    socket.on("data", (data: Buffer) => {
      if (head.length < 16) head += data.toString("latin1");
    });
    socket.on("close", () => resolve(head.startsWith("HTTP/1.1 ") ? Number(head.slice(9, 12)) : 0));
    socket.write(bytes, () => {
      if (!complete) socket.destroy();
    });
  });
}

test("10,000 hostile requests over loopback: bounded, answered, and the page still works", async () => {
  const events: DeviceEvent[] = [];
  const errors: string[] = [];
  const running = await runDevice({
    settings: { server: "coap://127.0.0.1:9", setupPort: "0", sensors: "", actuators: "" },
    stateDir,
    setup: true,
    log: (level, message) => {
      if (level === "error") errors.push(message);
    },
    onEvent: (event) => events.push(event),
  });
  try {
    const deadline = Date.now() + 5_000;
    while (!events.some((event) => event.event === "setup") && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    const opened = events.find((event) => event.event === "setup");
    assert.ok(opened?.event === "setup", "the page opened");
    const port = Number(new URL(opened.url).port);
    const portal = running.device.setupPortal!;

    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const random = new SeededRandom(11);
    const statuses = new Map<number, number>();
    let next = 0;
    const started = Date.now();
    const worker = async (): Promise<void> => {
      while (next < REQUESTS) {
        next++;
        const { bytes, complete } = generate(random);
        const status = await send(port, bytes, complete);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (complete && status !== 0) assert.ok(ALLOWED.has(status), `status ${status}`);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    const seconds = (Date.now() - started) / 1000;
    // Cut-short requests wait out the request timeout on the server; let the slots come back.
    const drained = Date.now() + 15_000;
    while (portal.http.connections > 0 && Date.now() < drained) await new Promise((resolve) => setTimeout(resolve, 50));
    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    const counters = portal.http.counters;
    console.log(
      `${REQUESTS} requests in ${seconds.toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries(statuses))}; ` +
        `server ${JSON.stringify(counters)}; heap ${(heapBefore / 1e6).toFixed(1)} → ${(heapAfter / 1e6).toFixed(1)} MB`,
    );
    assert.equal(portal.http.connections, 0, "nothing left open");
    assert.ok(counters.rejected > REQUESTS / 3, "most were refused by the server itself");
    assert.ok((statuses.get(400) ?? 0) > 0 && (statuses.get(414) ?? 0) > 0 && (statuses.get(431) ?? 0) > 0);
    assert.ok((statuses.get(413) ?? 0) > 0 && (statuses.get(405) ?? 0) > 0 && (statuses.get(505) ?? 0) > 0);
    assert.ok(heapAfter - heapBefore < 8e6, `heap grew by ${heapAfter - heapBefore} bytes`);
    assert.deepEqual(errors, [], "no handler failed");

    const page = await fetch(opened.url);
    assert.equal(page.status, 200);
    assert.ok((await page.text()).includes("Set up this device"));
    const refused = await fetch(opened.url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "activationCode=has+space",
    });
    assert.equal(refused.status, 400);
    assert.ok((await refused.text()).includes('id="activationCode-error"'));
  } finally {
    running.stop();
  }
});
