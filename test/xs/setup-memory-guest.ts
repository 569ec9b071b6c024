// The XS side of test/node/setup-memory.test.ts: what the setup portal costs in the XS heap.
// One device at a time on the setup rig (simulated platform, fake TCP, fake clock), driven by
// JSON commands: {op: "start", setup}, {op: "run", ms} or {op: "run", to} (to a simulated time),
// {op: "open"}, {op: "visit"}, {op: "finish"}, {op: "stop"} and {op: "gc"}; the host reads the
// slot heap after each gc. Replies carry the simulated time, `now`.

import { TOKEN_STORE_KEY } from "../../device/provisioning.js";
import { decodeUtf8, encodeUtf8 } from "../../kernel/utf8.js";
import { get, post, type Rig, setupRig, status, TOKENS } from "../core-fakes/setup-rig.js";
import { MemoryStore } from "../core-fakes/thethings-fakes.js";

declare function gc(): void;

type Command =
  | { readonly op: "start"; readonly setup: boolean }
  | { readonly op: "run"; readonly ms?: number; readonly to?: number }
  | { readonly op: "open" }
  | { readonly op: "visit" }
  | { readonly op: "finish" }
  | { readonly op: "stop" }
  | { readonly op: "gc" };

let rig: Rig | undefined;

async function perform(command: Exclude<Command, { op: "gc" }>): Promise<unknown> {
  if (command.op === "start") {
    const store = new MemoryStore();
    store.write(TOKEN_STORE_KEY, TOKENS[0]!);
    rig = setupRig({ store, noSetup: !command.setup, traceLimit: 0 });
    rig.device.start();
    await rig.clock.advance(5_000);
    return { open: rig.device.setupOpen };
  }
  const current = rig;
  if (current === undefined) throw new Error("no device");
  if (command.op === "run") {
    const ms = command.to === undefined ? (command.ms ?? 0) : command.to - current.clock.now();
    await current.clock.advance(Math.max(0, ms));
    return { sampled: current.device.stats().sampled, open: current.device.setupOpen, now: current.clock.now() };
  }
  if (command.op === "open") {
    current.device.requestSetup();
    await current.clock.advance(100);
    return { open: current.device.setupOpen, now: current.clock.now() };
  }
  if (command.op === "visit") {
    const page = await get(current, "/");
    const refused = await post(current, "/", { activationCode: "has space" });
    const state = await status(current);
    return { page: page.status, refused: refused.status, phase: state.phase, now: current.clock.now() };
  }
  if (command.op === "finish") {
    await post(current, "/", { activationCode: "" });
    await current.clock.advance(20_000);
    return { open: current.device.setupOpen, now: current.clock.now() };
  }
  current.device.close();
  rig = undefined;
  return { stopped: true };
}

(globalThis as { handleCommand?: (message: ArrayBuffer) => unknown }).handleCommand = (message) => {
  const command = JSON.parse(decodeUtf8(new Uint8Array(message))) as Command;
  if (command.op === "gc") {
    // The rig's own records (log lines, events, what the platform received) grow with time;
    // they are the test's, not the device's.
    if (rig !== undefined) {
      rig.logs.length = 0;
      rig.events.length = 0;
      rig.platform.server.requests.length = 0;
      rig.platform.server.received.length = 0;
    }
    gc();
    gc();
    return new ArrayBuffer(0);
  }
  const reply: { result?: ArrayBuffer } = {};
  const finish = (value: unknown): void => {
    reply.result = encodeUtf8(JSON.stringify(value)).buffer as ArrayBuffer;
  };
  perform(command).then(finish, (error: unknown) =>
    finish({ error: error instanceof Error ? `${error.message}\n${error.stack ?? ""}` : String(error) }),
  );
  return reply;
};
