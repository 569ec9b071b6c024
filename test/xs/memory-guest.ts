// The XS side of tools/xs-memory.ts: the memory workload (memory-workload.ts) driven through
// xsnap's command channel. Commands are JSON: {op: "start", seed}, {op: "run", counts} and
// {op: "gc"}. A command that runs asynchronously returns an object whose `result` is set before
// the promise queue drains, which xsnap sends back as the reply; "gc" collects twice (objects
// freed by the first may release more) so the host reads the heap straight after.
import { decodeUtf8, encodeUtf8 } from "../../kernel/utf8.js";
import { MemoryWorkload, type PhaseCounts } from "./memory-workload.js";

declare function gc(): void;

type Command =
  | { readonly op: "start"; readonly seed: number }
  | { readonly op: "run"; readonly counts: PhaseCounts }
  | { readonly op: "gc" };

let workload: MemoryWorkload | undefined;

async function perform(command: Command): Promise<unknown> {
  if (command.op === "start") {
    workload = new MemoryWorkload(command.seed);
    await workload.start();
    return { started: true };
  }
  if (command.op === "run") {
    if (workload === undefined) throw new Error("run before start");
    return workload.run(command.counts);
  }
  throw new Error(`unknown command ${JSON.stringify(command)}`);
}

(globalThis as { handleCommand?: (message: ArrayBuffer) => unknown }).handleCommand = (message) => {
  const command = JSON.parse(decodeUtf8(new Uint8Array(message))) as Command;
  if (command.op === "gc") {
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
