// The platform under load runs in its own thread, so the load clients in the main thread do not
// share its event loop. Started by platform-load-driver.ts; replies with the bound ports, answers
// "memory" with its heap after a full garbage collection, stops on "stop". With `dashboard`, the
// web dashboard runs in this thread too, as it does beside a real platform.
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { parentPort, workerData } from "node:worker_threads";
import { startPlatform } from "../emulator/server.js";

const { activationCodes, dbPath, dashboard } = workerData as {
  activationCodes: string[];
  dbPath: string;
  dashboard: boolean;
};
const port = parentPort;
if (port === null) throw new Error("platform-load-worker runs only as a worker thread");

// gc() for the memory figures, without asking the whole process to run with --expose-gc.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const platform = await startPlatform({
  host: "127.0.0.1",
  port: 0,
  activationCodes,
  dbPath,
  ...(dashboard ? { dashboard: { port: 0 } } : {}),
});
port.postMessage({ port: platform.port, httpPort: platform.dashboard?.port ?? 0 });
port.on("message", (message: unknown) => {
  if (message === "stop") void platform.stop().then(() => port.close());
  else if (message === "memory") {
    gc();
    port.postMessage({
      heapUsed: getHeapStatistics().used_heap_size,
      rss: process.memoryUsage().rss,
      dashboard: platform.dashboard?.stats(),
    });
  }
});
