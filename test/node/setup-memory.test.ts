// What the setup portal costs on the XS engine (xsnap), in slots after a forced GC: a device
// without setup ports, the same with them while setup is closed (the capability alone), with the
// page open and visited (setup mode, reported apart from the steady state), and after the
// portal closed again. The figures are printed; the checks are that nothing of the portal is
// allocated unless setup runs, and that nothing stays behind once it closed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { XsnapWorker } from "@agoric/xsnap";
import { bundleForXs, spawnXsWorker } from "../../tools/xs-bridge.js";
import { SLOT_BYTES_HOST } from "../../tools/xs-memory.js";

const guestEntry = fileURLToPath(new URL("../xs/setup-memory-guest.js", import.meta.url));

interface MeteredWorker {
  issueCommand(message: Uint8Array): Promise<{ reply: Uint8Array; meterUsage: { currentHeapCount: number | null } }>;
}

test("the setup portal's cost on XS: nothing unless setup runs, nothing left after it closed", {
  timeout: 240_000,
}, async () => {
  const code = await bundleForXs(guestEntry);
  const worker: XsnapWorker = await spawnXsWorker("setup-memory", async () => new Uint8Array(0));
  const metered = worker as unknown as MeteredWorker;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const command = async (message: object): Promise<{ reply: Record<string, unknown>; slots: number }> => {
    const { reply, meterUsage } = await metered.issueCommand(encoder.encode(JSON.stringify(message)));
    const text = decoder.decode(reply);
    const parsed = (text === "" ? {} : JSON.parse(text)) as Record<string, unknown>;
    if ("error" in parsed) throw new Error(`guest: ${String(parsed.error)}`);
    return { reply: parsed, slots: meterUsage.currentHeapCount ?? Number.NaN };
  };
  const slots = async (): Promise<number> => (await command({ op: "gc" })).slots;
  try {
    await worker.evaluate(code);
    // Warm-up: every path once, so first-use allocations (interned names, code) are not counted.
    for (const setup of [false, true]) {
      await command({ op: "start", setup });
      await command({ op: "run", ms: 60_000 });
      if (setup) {
        await command({ op: "open" });
        await command({ op: "visit" });
        await command({ op: "finish" });
      }
      await command({ op: "stop" });
    }
    const empty = await slots();

    await command({ op: "start", setup: false });
    await command({ op: "run", ms: 60_000 });
    const without = await slots();
    await command({ op: "stop" });

    await command({ op: "start", setup: true });
    await command({ op: "run", ms: 60_000 });
    const capable = await slots();
    // One whole round first on this device: the first page it renders releases memory that
    // XS held since the warm-up (seen as a drop of thousands of slots), so the round measured
    // is the second.
    await command({ op: "open" });
    await command({ op: "visit" });
    await command({ op: "finish" });
    await command({ op: "run", ms: 20_000 });
    const before = await slots();
    // A round takes 40.1 s of simulated time; the simulated network keeps a log of every datagram,
    // so the same time without setup is the reference for what the round leaves behind.
    await command({ op: "run", ms: 40_100 });
    const closed = await slots();
    const growth = closed - before;
    const opened = await command({ op: "open" });
    assert.equal(opened.reply.open, true);
    const open = await slots();
    const visited = await command({ op: "visit" });
    assert.deepEqual(visited.reply, { page: 200, refused: 400, phase: "idle" });
    const afterVisit = await slots();
    const finished = await command({ op: "finish" });
    assert.equal(finished.reply.open, false, "the portal closed after the submission");
    await command({ op: "run", ms: 20_000 });
    const reclosed = await slots();
    await command({ op: "stop" });

    const kb = (count: number): string => `${((count * SLOT_BYTES_HOST) / 1024).toFixed(1)} KB host`;
    const lines = [
      `device without setup ports: ${without - empty} slots over an empty VM`,
      `with setup ports, setup closed: ${capable - without} slots more (${kb(capable - without)})`,
      `setup open (page bound, access point none): ${open - closed} slots more (${kb(open - closed)})`,
      `setup open after a visit (page, form error, status): ${afterVisit - closed} slots more (${kb(afterVisit - closed)})`,
      `setup closed again: ${reclosed - closed - growth} slots from before it opened (less ${growth} slots of the simulated network's log)`,
    ];
    for (const line of lines) console.log(line);
    console.log(JSON.stringify({ empty, without, capable, before, closed, open, afterVisit, reclosed }));
    assert.ok(Math.abs(capable - without) <= 16, `the capability alone costs ${capable - without} slots`);
    assert.ok(open > closed, "setup mode allocates");
    assert.ok(Math.abs(reclosed - closed - growth) <= 64, `after closing ${reclosed - closed - growth} slots stay`);
  } finally {
    await worker.close().catch(() => undefined);
  }
});
