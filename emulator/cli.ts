// `npm run platform -- [--host 127.0.0.1] [--port 5683] [--db FILE] [--activation-code CODE ...]
//                      [--keep-alive DURATION] [--http-host 127.0.0.1] [--http-port 8088]
//                      [--dashboard-token TOKEN] [--json]`
// Runs the local platform and its web dashboard until SIGINT or SIGTERM, printing each event as a
// line of text, or as one JSON object per line with --json.
import { parseArgs } from "node:util";
import { isLoopback, tokenProblem } from "./dashboard/access.js";
import { DEFAULT_HTTP_PORT } from "./dashboard/http.js";
import { parseDurationMs } from "./durations.js";
import { describeEvent, type PlatformEvent } from "./events.js";
import { DEFAULT_KEEP_ALIVE_MS, DEFAULT_PORT, startPlatform } from "./server.js";

const USAGE = `usage: npm run platform -- [--host ADDR] [--port N] [--db FILE] [--activation-code CODE ...]
                           [--keep-alive DURATION] [--http-host ADDR] [--http-port N]
                           [--dashboard-token TOKEN] [--json]
  --host             address to bind (default 127.0.0.1: loopback only)
  --port             UDP port, 0 for any free one (default ${DEFAULT_PORT})
  --db               SQLite file keeping things and values across restarts (default: in memory)
  --activation-code  a code that activates one thing; repeatable (default: one is made and printed)
  --keep-alive       subscription keep-alive when the client asks none: 500ms, 10s, 2m, 1h; a bare
                     number is milliseconds, as on the device (default ${DEFAULT_KEEP_ALIVE_MS})
  --http-host        address of the web dashboard (default 127.0.0.1); any other needs --dashboard-token
  --http-port        TCP port of the web dashboard, 0 for any free one (default ${DEFAULT_HTTP_PORT})
  --dashboard-token  a secret (16+ characters: letters, digits, . _ ~ -) every dashboard request must carry
  --json             print one JSON object per line`;

function readFlags() {
  return parseArgs({
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: String(DEFAULT_PORT) },
      db: { type: "string" },
      "activation-code": { type: "string", multiple: true },
      "keep-alive": { type: "string", default: String(DEFAULT_KEEP_ALIVE_MS) },
      "http-host": { type: "string", default: "127.0.0.1" },
      "http-port": { type: "string", default: String(DEFAULT_HTTP_PORT) },
      "dashboard-token": { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  }).values;
}

async function main(): Promise<void> {
  let args: ReturnType<typeof readFlags>;
  try {
    args = readFlags();
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const port = wholeNumber(args.port, "--port", 65535);
  const keepAliveMs = duration(args["keep-alive"], "--keep-alive", 86_400_000);
  const httpPort = wholeNumber(args["http-port"], "--http-port", 65535);
  const token = args["dashboard-token"];
  if (token === undefined && !isLoopback(args["http-host"])) {
    fail(`--http-host ${args["http-host"]} is not loopback: the dashboard there needs --dashboard-token`);
  }
  const problem = token === undefined ? undefined : tokenProblem(token);
  if (problem !== undefined) fail(problem);
  const print = args.json
    ? (e: PlatformEvent) => console.log(JSON.stringify({ time: new Date().toISOString(), ...e }))
    : (e: PlatformEvent) => console.log(`${new Date().toISOString()} ${describeEvent(e)}`);

  const platform = await startPlatform({
    host: args.host,
    port,
    ...(args.db === undefined ? {} : { dbPath: args.db }),
    ...(args["activation-code"] === undefined ? {} : { activationCodes: args["activation-code"] }),
    keepAliveMs,
    dashboard: {
      host: args["http-host"],
      port: httpPort,
      ...(token === undefined ? {} : { token }),
    },
    log: print,
  });
  // Stopping closes every handle, so the process then ends by itself with exit code 0.
  const stop = (): void => void platform.stop();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

function wholeNumber(text: string, name: string, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) > max) fail(`${name} must be a whole number from 0 to ${max}`);
  return Number(text);
}

function duration(text: string, name: string, maxMs: number): number {
  const ms = parseDurationMs(text);
  if (ms === undefined || ms > maxMs)
    fail(`${name} must be a duration from 0 to ${maxMs} ms (e.g. 500ms, 10s, 2m, 1h; a bare number is milliseconds)`);
  return ms;
}

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
