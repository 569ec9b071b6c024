// The platform under load runs in its own thread, so the load clients in the main thread do not
// share its event loop. Started by platform-load-driver.ts; replies with the bound port, stops on
// "stop".
import { parentPort, workerData } from "node:worker_threads";
import { startPlatform } from "../emulator/server.js";

const { activationCodes, dbPath } = workerData as { activationCodes: string[]; dbPath: string };
const port = parentPort;
if (port === null) throw new Error("platform-load-worker runs only as a worker thread");

const platform = await startPlatform({ host: "127.0.0.1", port: 0, activationCodes, dbPath });
port.postMessage({ port: platform.port });
port.on("message", (message: unknown) => {
  if (message === "stop") void platform.stop().then(() => port.close());
});
